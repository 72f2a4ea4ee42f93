"""Bad inputs: one clear line on stderr per failed file, the rest of the batch still processed."""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import pytest

from conftest import SEED_FILES
from honbun.errors import PageError
from honbun.jsonl import JsonlSink
from honbun.read.files import MAX_PAGE_BYTES, iter_pages, load_page, page_from_bytes
from honbun.read.page import Page

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One good and one bad file of each kind, in a fixed order (written once: 20 MB)."""
    tmp_path = tmp_path_factory.mktemp("inputs")
    rnd = random.Random(3)
    files = {
        "good_txt": ("good.txt", "一行目です。\n\n二行目です。\n".encode()),
        "missing": ("missing.txt", None),
        "empty": ("empty.txt", b""),
        "blank": ("blank.html", b"  \n\t\n"),
        "binary": ("image.txt", PNG + b"\x00" * 200),
        "undecodable": (
            "garbage.txt",
            b"\xef\xbb\xbf" + bytes(rnd.randrange(128, 256) for _ in range(4000)),
        ),
        "huge_txt": ("huge.txt", b"a" * (10 * 1024 * 1024)),
        "huge_html": (
            "huge.html",
            b"<html><body><p>" + b"x" * (MAX_PAGE_BYTES + 10) + b"</p></body></html>",
        ),
        "long_line": ("long.txt", "長".encode() * 150_000),
        "good_html": ("good.html", "<html><body><p>本文です。</p></body></html>".encode()),
    }
    out = {}
    for key, (name, data) in files.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        out[key] = path
    return out


EXPECTED_REASON = {
    "missing": "no such file",
    "empty": "empty file",
    "blank": "empty file",
    "binary": "binary file",
    "undecodable": "undecodable bytes",
    "huge_txt": "too large",
    "huge_html": "too large",
    "long_line": "line 1 has 150,000 characters",
}


def test_segment_reports_each_bad_file_on_one_line_and_keeps_going(cli, inputs) -> None:
    rc, out, err = cli("segment", *map(str, inputs.values()))
    assert rc == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["source"] for r in records] == [str(inputs["good_txt"]), str(inputs["good_html"])]
    assert [b["text"] for b in records[0]["blocks"]] == ["一行目です。", "二行目です。"]
    assert [b["text"] for b in records[1]["blocks"]] == ["本文です。"]
    lines = err.splitlines()
    assert lines[-1] == f"honbun: {len(EXPECTED_REASON)} input(s) failed"
    errors = lines[:-1]
    assert len(errors) == len(EXPECTED_REASON)  # one line per failed input, nothing else
    for line, (key, reason) in zip(errors, EXPECTED_REASON.items(), strict=True):
        assert line.startswith(f"honbun: error: {inputs[key]}: "), line
        assert reason in line, line
        assert len(line) < 300, line  # a message, not a dump of the input


def test_segment_exit_status_zero_when_all_inputs_load(cli, inputs) -> None:
    rc, out, err = cli("segment", str(inputs["good_txt"]), str(inputs["good_html"]))
    assert rc == 0
    assert err == ""
    assert len(out.splitlines()) == 2


def test_segment_single_missing_file(cli, tmp_path: Path) -> None:
    rc, out, err = cli("segment", str(tmp_path / "nope.html"))
    assert (rc, out) == (1, "")
    assert err.splitlines() == [
        f"honbun: error: {tmp_path / 'nope.html'}: no such file",
        "honbun: 1 input(s) failed",
    ]


def test_segment_random_bytes_say_undecodable(cli, tmp_path: Path) -> None:
    rnd = random.Random(5)
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(rnd.randrange(128, 256) for _ in range(4000)))
    rc, _, err = cli("segment", str(path))
    assert rc == 1
    assert err.splitlines()[0].startswith(f"honbun: error: {path}: undecodable")


def test_load_page_errors(tmp_path: Path) -> None:
    with pytest.raises(PageError) as exc:
        load_page(tmp_path)
    assert str(exc.value) == f"{tmp_path}: is a directory, expected a file"
    assert exc.value.path == str(tmp_path) and "\n" not in str(exc.value)
    with pytest.raises(PageError, match="no such file"):
        load_page(tmp_path / "absent.html")
    with pytest.raises(PageError, match="empty file"):
        page_from_bytes(b"", "x.txt")
    with pytest.raises(PageError, match="binary file"):
        page_from_bytes(PNG, "x.png")


@pytest.mark.parametrize(
    "data", [b"\xef\xbb\xbf", "\u3000\n".encode()], ids=["bom", "ideographic-space"]
)
def test_effectively_empty_file_is_an_error(data: bytes) -> None:
    with pytest.raises(PageError, match="empty"):
        page_from_bytes(data, "x.txt")


def test_iter_pages_yields_pages_and_errors_in_order(inputs) -> None:
    items = list(
        iter_pages([str(inputs["good_txt"]), str(inputs["missing"]), str(inputs["good_html"])])
    )
    assert isinstance(items[0], Page) and items[0].doc_id == "good"
    assert isinstance(items[1], PageError) and items[1].path == str(inputs["missing"])
    assert isinstance(items[2], Page) and items[2].format == "html"


def test_iter_pages_walks_directories(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.html").write_text("<p>二</p>", "utf-8")
    (tmp_path / "a.txt").write_text("一", "utf-8")
    (tmp_path / "notes.json").write_text("{}", "utf-8")  # not a page suffix: skipped
    items = list(iter_pages([str(tmp_path)]))
    assert [p.text for p in items] == ["一", "二"]


def test_iter_pages_turns_a_parser_crash_into_a_page_error(inputs, monkeypatch) -> None:
    import honbun.read.files

    def boom(*args, **kwargs):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(honbun.read.files, "parse_text", boom)
    items = list(iter_pages([str(inputs["good_txt"]), str(inputs["good_html"])]))
    assert isinstance(items[0], PageError)
    assert str(items[0]) == f"{inputs['good_txt']}: RuntimeError: parser exploded"
    assert isinstance(items[1], Page)


# --------------------------------------------------------------------------- -o is atomic


def test_output_file_written_atomically(cli, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    target = out_dir / "segments.jsonl"
    rc, out, err = cli("segment", *map(str, SEED_FILES), "-o", str(target))
    assert (rc, out, err) == (0, "", "")
    assert sorted(p.name for p in out_dir.iterdir()) == ["segments.jsonl"]  # no temp files left
    records = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    assert [r["doc_id"] for r in records] == [p.stem for p in SEED_FILES]


def test_output_written_even_when_some_inputs_fail(cli, tmp_path: Path) -> None:
    target = tmp_path / "segments.jsonl"
    rc, _, err = cli(
        "segment", str(SEED_FILES[0]), str(tmp_path / "missing.txt"), "-o", str(target)
    )
    assert rc == 1 and "missing.txt: no such file" in err
    assert len(target.read_text("utf-8").splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["segments.jsonl"]


def test_failure_midway_leaves_no_partial_output(cli, tmp_path: Path, monkeypatch) -> None:
    # A page that fails is an error record (it is reported); a failure of the writer
    # itself stops the command, and the output must not be left half-written.
    target = tmp_path / "segments.jsonl"
    target.write_text("previous complete output\n", "utf-8")
    calls = []
    original = JsonlSink.write

    def flaky(self, record):
        calls.append(record["doc_id"])
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return original(self, record)

    monkeypatch.setattr(JsonlSink, "write", flaky)
    with pytest.raises(RuntimeError, match="disk on fire"):
        cli("segment", *map(str, SEED_FILES), "-o", str(target))
    assert len(calls) == 2  # the first page had been written to the temp file
    assert target.read_text("utf-8") == "previous complete output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["segments.jsonl"]


def test_failure_midway_creates_no_output_file(cli, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "new" / "segments.jsonl"

    def broken(self, record):
        raise RuntimeError("boom")

    monkeypatch.setattr(JsonlSink, "write", broken)
    with pytest.raises(RuntimeError):
        cli("segment", str(SEED_FILES[0]), "-o", str(target))
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


# --------------------------------------------------- output errors and permissions
def test_output_into_a_read_only_place_is_one_line_naming_the_file(cli, tmp_path: Path) -> None:
    """Before: a Python traceback. (A file where a folder should be fails as root too.)"""
    blocker = tmp_path / "results"
    blocker.write_text("a file, not a folder", "utf-8")
    target = blocker / "out.jsonl"
    rc, out, err = cli("segment", str(SEED_FILES[0]), "-o", str(target))
    assert (rc, out) == (1, "")
    assert err.splitlines() == [f"honbun: error: cannot write {target}: File exists"]
    rc, _, err = cli("segment", str(SEED_FILES[0]), "-o", str(tmp_path))
    assert (rc, err) == (1, f"honbun: error: cannot write {tmp_path}: Is a directory\n")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_into_a_read_only_folder(cli, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        rc, _, err = cli("segment", str(SEED_FILES[0]), "-o", str(folder / "out.jsonl"))
    finally:
        folder.chmod(0o755)
    assert rc == 1
    assert err == f"honbun: error: cannot write {folder / 'out.jsonl'}: Permission denied\n"


def test_a_refused_temp_file_is_one_line_naming_the_output(cli, tmp_path, monkeypatch) -> None:
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    target = tmp_path / "out.jsonl"
    rc, _, err = cli("segment", str(SEED_FILES[0]), "-o", str(target))
    assert (rc, err) == (1, f"honbun: error: cannot write {target}: Permission denied\n")


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_outputs_get_the_permissions_of_the_umask(umask: int, tmp_path: Path) -> None:
    """Before: 0600 files and 0700 model folders (tempfile's), whatever the umask."""
    from honbun.atomic import write_text
    from honbun.labels import load_labels
    from honbun.scoring.bundle import ModelBundle

    old = os.umask(umask)
    try:
        write_text(tmp_path / "out.txt", "x")
        saved = ModelBundle("m", load_labels()).save(tmp_path / "models", "")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(saved.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((saved / "card.json").stat().st_mode) == 0o666 & ~umask


# ----------------------------------------------------------- NUL bytes, deep nesting
def test_a_few_stray_nul_bytes_are_dropped() -> None:
    """Before: two NUL bytes made the whole page "binary"."""
    data = "<html><body><p>本文\x00です。</p><p>二つ目\x00の段落。</p></body></html>".encode()
    page = page_from_bytes(data, "nul.html")
    assert [b.text for b in page.blocks] == ["本文です。", "二つ目の段落。"]
    text = page_from_bytes("一行目\x00\n二行目\n".encode(), "nul.txt")
    assert text.text == "一行目\n二行目"
    with pytest.raises(PageError, match="binary file"):  # a real binary file still is one
        page_from_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 40 + b"text" * 50, "a.out")
    with pytest.raises(PageError, match="binary file: 40 NUL bytes"):  # NULs past the head
        page_from_bytes(b"text " * 2000 + b"\x00" * 40, "tail.txt")


@pytest.mark.parametrize("depth", [5_000, 50_000])
def test_deep_nesting_keeps_its_text(depth: int) -> None:
    """Before: libxml2 stopped at depth 2,048 and the page was 'empty: no text'."""
    inner = "<html><body>" + "<div>" * depth + "深い本文です。" + "</div>" * depth
    page = page_from_bytes((inner + "<p>後の段落。</p></body></html>").encode(), "deep.html")
    assert [b.text for b in page.blocks] == ["深い本文です。", "後の段落。"]
    levels = "<html><body>" + "<div>層" * depth + "</div>" * depth + "</body></html>"
    page = page_from_bytes(levels.encode(), "levels.html")
    assert page.text.count("層") == depth  # every level's text, flattened below a depth
