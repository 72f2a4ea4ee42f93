"""Reading WARC crawls: pages out of response records, everything else skipped and counted,
broken records reported by file and offset with the rest of the file still read."""

from __future__ import annotations

import gzip
import io
import itertools
import pickle
from pathlib import Path

import pytest
from warcio.warcwriter import WARCWriter

from conftest import cached_load_page
from honbun.errors import PageError
from honbun.read.page import Page
from honbun.read.warc import Payload, WarcStats, is_warc, iter_payloads, iter_warc
from warcs import CRAWL_DATE, manifest_pages, request, response, write_crawl

SMALL = 3  # pages in the crawls that are cut and damaged


def _pages(items: list) -> list[Page]:
    return [x for x in items if isinstance(x, Page)]


def _payloads(items: list) -> list[Payload]:
    return [x for x in items if isinstance(x, Payload)]


def _errors(items: list) -> list[PageError]:
    return [x for x in items if isinstance(x, PageError)]


def _records(path: Path) -> list[tuple[int, bool]]:
    """``(offset, is a page)`` of each record of a per-record gzip or plain WARC, as
    warcio reads it (a page: a development page's response)."""
    from warcio.archiveiterator import ArchiveIterator

    urls = {e["url"] for e in manifest_pages()}
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        return [
            (it.offset, r.rec_type == "response" and r.rec_headers["WARC-Target-URI"] in urls)
            for r in it
        ]


def _offsets(path: Path) -> list[int]:
    return [offset for offset, _ in _records(path)]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_crawl(tmp_path_factory.mktemp("warc") / "crawl.warc.gz")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The first pages as a crawl gzipped per record, gzipped whole and uncompressed."""
    d = tmp_path_factory.mktemp("small")
    pages = manifest_pages()[:SMALL]
    records = write_crawl(d / "records.warc.gz", pages=pages)
    plain = write_crawl(d / "plain.warc", gzipped=False, pages=pages)
    whole = d / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    return {"records": records, "plain": plain, "whole": whole}


def test_every_page_of_the_crawl_reads_as_its_loose_file(crawl: Path) -> None:
    stats = WarcStats()
    items = list(iter_warc(crawl, stats))
    pages = _pages(items)
    assert not _errors(items)
    expected = manifest_pages()
    assert [p.doc_id for p in pages] == [e["url"] for e in expected]
    assert [p.source for p in pages] == [e["url"] for e in expected]
    for page, entry in zip(pages, expected, strict=True):
        loose = cached_load_page(entry["path"])
        assert page.text == loose.text, entry["id"]
        assert [b.to_json() for b in page.blocks] == [b.to_json() for b in loose.blocks]
        assert page.meta["date"] == CRAWL_DATE
        assert page.meta["url"] == loose.meta.get("url", entry["url"])  # canonical wins
        assert page.meta["encoding"] == loose.meta["encoding"]
    assert stats.pages == 92 and stats.errors == 0
    assert dict(stats.skipped) == {
        "request": 92, "warcinfo": 1, "metadata": 1, "image/png": 1, "redirect": 1,
        "HTTP error": 1,
    }  # fmt: skip
    assert "97 record(s) skipped: 92 request" in stats.summary()


@pytest.mark.parametrize("kind", ["records", "plain", "whole"])
def test_gzipped_per_record_whole_or_not_at_all(small: dict[str, Path], kind: str) -> None:
    pages = _pages(list(iter_warc(small[kind])))
    assert [p.doc_id for p in pages] == [e["url"] for e in manifest_pages()[:SMALL]]
    assert [p.text for p in pages] == [p.text for p in _pages(list(iter_warc(small["plain"])))]


@pytest.mark.parametrize("where", ["payload", "header"])
@pytest.mark.parametrize("kind", ["records", "plain", "whole"])
def test_a_truncated_file_gives_its_pages_and_one_error_for_the_cut_record(
    small: dict[str, Path], kind: str, where: str, tmp_path: Path
) -> None:
    data = small[kind].read_bytes()
    plain = small["plain"].read_bytes()
    last = _offsets(small["plain"])[-1]  # the last response record, uncompressed
    at = {"payload": len(plain) - 300, "header": last + 60}[where]
    if kind == "records":  # the same place in its own gzip member
        at = _offsets(small[kind])[-1] + {"payload": 400, "header": 30}[where]
    elif kind == "whole":  # compress the cut plain file: the stream ends at that point
        data = gzip.compress(plain[:at])[:-8]  # without the gzip trailer
        at = len(data)
    cut = tmp_path / f"cut-{small[kind].name}"
    cut.write_bytes(data[:at])
    items = list(iter_warc(cut))
    assert [p.doc_id for p in _pages(items)] == [e["url"] for e in manifest_pages()[: SMALL - 1]]
    (err,) = _errors(items)
    assert str(err).startswith(f"{cut}: record at offset ")
    assert "truncated" in err.reason
    expected = _offsets(small[kind])[-1] if kind != "whole" else last  # whole: uncompressed
    assert f"record at offset {expected}" in err.reason


@pytest.mark.parametrize("kind", ["records", "plain"])
def test_cut_anywhere_complete_records_read_and_a_loss_is_reported(
    small: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    data = small[kind].read_bytes()
    records = _records(small[kind])
    starts = [*(offset for offset, _ in records), len(data)]
    pages = [i for i, (_, is_page) in enumerate(records) if is_page]
    cut = tmp_path / "cut.warc"
    for at in range(0, len(data), max(1, len(data) // 150)):
        cut.write_bytes(data[:at])
        items = list(iter_payloads(cut))  # never raises (records only: no page is parsed)
        complete = sum(1 for i in pages if starts[i + 1] <= at)
        assert len(_payloads(items)) >= complete, at
        inside = any(s < at < e for s, e in itertools.pairwise(starts))
        assert len(_errors(items)) <= 1, at
        if not inside:
            assert not _errors(items), at
        started = sum(1 for i in pages if starts[i] < at)
        assert _errors(items) or len(_payloads(items)) == started, at  # nothing lost silently


@pytest.mark.parametrize("kind", ["records", "plain"])
def test_a_damaged_record_in_the_middle_is_reported_and_reading_goes_on(
    small: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    data = bytearray(small[kind].read_bytes())
    offsets = _offsets(small[kind])
    second = offsets[-3]  # the second page's response record (request, response per page)
    data[second : second + 12] = b"\x00" * 12 if kind == "records" else b"XXXX" * 3
    broken = tmp_path / small[kind].name
    broken.write_bytes(bytes(data))
    items = list(iter_warc(broken))
    urls = [e["url"] for e in manifest_pages()[:SMALL]]
    assert [p.doc_id for p in _pages(items)] == [urls[0], urls[2]]
    (err,) = _errors(items)
    assert str(err).startswith(f"{broken}: record at offset {second}: ")


def _one_response(tmp_path: Path, body: bytes, headers: list[tuple[str, str]]) -> Path:
    path = tmp_path / "one.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        response(w, "https://example.jp/a", body, headers)
        request(w, "https://example.jp/b")
        response(
            w,
            "https://example.jp/b",
            "<p>次のページ。</p>".encode(),
            [("Content-Type", "text/html")],
        )
    return path


def test_the_http_charset_is_a_hint_to_the_decoder(tmp_path: Path) -> None:
    # These bytes read as two kanji in CP932 and in EUC-JP alike: only the header decides.
    body = b"<html><body><p>" + b"\xe0\xe0\xe1\xe1" * 3 + b"</p></body></html>"
    euc = [("Content-Type", "text/html; charset=EUC-JP")]
    hinted = _pages(list(iter_warc(_one_response(tmp_path, body, euc))))[0]
    plain = _pages(list(iter_warc(_one_response(tmp_path, body, [("Content-Type", "text/html")]))))[0]  # fmt: skip
    assert hinted.meta["encoding"] == "euc_jis_2004"
    assert hinted.text == body[15:-18].decode("euc_jis_2004")
    assert plain.meta["encoding"] == "cp932"


def test_an_encoding_that_cannot_be_undone_is_an_error_and_the_next_page_reads(
    tmp_path: Path,
) -> None:
    path = _one_response(tmp_path, b"\x00\x01compressed", [("Content-Type", "text/html"),
                                                          ("Content-Encoding", "zstd")])  # fmt: skip
    items = list(iter_warc(path))
    (err,) = _errors(items)
    assert (
        err.reason
        == "record at offset 0: https://example.jp/a, cannot undo Content-Encoding 'zstd'"
    )
    assert err.doc_id == "https://example.jp/a"
    assert [p.doc_id for p in _pages(items)] == ["https://example.jp/b"]


def test_text_plain_is_a_text_page_and_a_missing_file_is_an_error(tmp_path: Path) -> None:
    text = [("Content-Type", "text/plain; charset=utf-8")]
    path = _one_response(tmp_path, "一行目。\n\n二行目。\n".encode(), text)
    page = _pages(list(iter_warc(path)))[0]
    assert page.format == "text" and [b.text for b in page.blocks] == ["一行目。", "二行目。"]
    (err,) = list(iter_warc(tmp_path / "nope.warc.gz"))
    assert isinstance(err, PageError) and "cannot read" in str(err)


def test_warc_files_are_recognised_by_name_or_content(
    small: dict[str, Path], tmp_path: Path
) -> None:
    renamed = tmp_path / "crawl.dat"
    renamed.write_bytes(small["records"].read_bytes())
    plain = tmp_path / "crawl.bin"
    plain.write_bytes(small["plain"].read_bytes())
    page = tmp_path / "page.html"
    page.write_text("<p>WARC/1.0</p>", "utf-8")
    assert is_warc(str(small["records"])) and is_warc(str(renamed)) and is_warc(str(plain))
    assert not is_warc(str(page)) and not is_warc(str(tmp_path / "missing.txt"))


def test_a_page_error_survives_pickling_into_a_worker() -> None:
    err = PageError("crawl.warc.gz", "record at offset 7: truncated", "https://a.jp/")
    back = pickle.loads(pickle.dumps(err))
    assert (back.path, back.reason, back.doc_id, str(back)) == (
        err.path, err.reason, err.doc_id, str(err),
    )  # fmt: skip


def test_reading_streams_one_record_at_a_time(crawl: Path, monkeypatch) -> None:
    """The reader reads the file as it yields pages: at the first page, little of it."""
    read = [0]

    class Counting(io.FileIO):
        def read(self, size: int = -1) -> bytes:
            out = super().read(size)
            read[0] += len(out)
            return out

    monkeypatch.setattr("honbun.read.warc.open", lambda path, mode: Counting(str(path), "r"),
                        raising=False)  # fmt: skip
    pages = iter_warc(crawl)
    assert isinstance(next(pages), Page)
    assert 0 < read[0] < crawl.stat().st_size * 0.1
