"""Directories of pages (a crawl's folder): what a walk reads, what it skips and says so,
``--glob``, and content sniffing of files without a page suffix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from honbun.read.files import Skipped, page_or_skip, sniff_format, walk_paths

HTML = "<!DOCTYPE html><html><head><title>t</title></head><body><p>{}</p></body></html>"


@pytest.fixture
def crawl(tmp_path: Path) -> Path:
    """A crawl folder: pages under odd names, notes and data beside them, assets."""
    d = tmp_path / "crawl"
    (d / "news" / "2024").mkdir(parents=True)
    (d / ".cache").mkdir()
    files = {
        "news/article.php": HTML.format("PHPの記事です。"),
        "news/index.html?id=1": HTML.format("クエリ付きの記事です。"),
        "news/2024/story": "拡張子のない記事です。\n二行目です。\n",  # text, no suffix
        "news/comment-first": "<!-- saved by wget -->\n" + HTML.format("コメントで始まる記事。"),
        "page.html": HTML.format("普通の記事です。"),
        "dump.txt": "テキストの記事です。\n",
        "README.md": "# このフォルダについて\n",
        "notes.md": "メモ\n",
        "page.gold.txt": "正解のテキスト\n",
        "meta.json": '{"url": "https://example.jp/"}',
        "feed": '<?xml version="1.0"?><rss><channel><title>x</title></channel></rss>',
        "api-response": '{"items": []}',
        "style.css": "p { color: red }",
        "logo.png": "\x89PNG\r\n",
        ".cache/old.html": HTML.format("隠れた記事。"),
        ".hidden.html": HTML.format("隠れた記事。"),
        "blank": "",
    }
    for name, text in files.items():
        (d / name).write_text(text, "utf-8")
    (d / "image").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)  # binary, no suffix
    return d


PAGES = [  # in walk order (sorted paths)
    "dump.txt",
    "news/2024/story",
    "news/article.php",
    "news/comment-first",
    "news/index.html?id=1",
    "page.html",
]


def test_a_walk_reads_pages_under_any_name_and_skips_the_rest(crawl: Path) -> None:
    items = list(walk_paths([str(crawl)]))
    pages = [Path(p).relative_to(crawl).as_posix() for p in items if isinstance(p, str)]
    assert pages == PAGES
    skipped = {
        Path(s.path).relative_to(crawl).as_posix(): s.kind for s in items if isinstance(s, Skipped)
    }
    assert skipped == {
        ".cache": "hidden",
        ".hidden.html": "hidden",
        "README.md": "notes",
        "notes.md": "notes",
        "page.gold.txt": "notes",
        "meta.json": "notes",
        "feed": "data",
        "api-response": "data",
        "style.css": "asset",
        "logo.png": "asset",
        "image": "binary",
        "blank": "empty",
    }


def test_segment_says_what_it_skipped(cli, crawl: Path) -> None:
    """Before: article.php, index.html?id=1 and story were skipped without a word, and
    README.md and page.gold.txt were read as pages."""
    rc, out, err = cli("segment", str(crawl))
    assert rc == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [Path(r["source"]).relative_to(crawl).as_posix() for r in records] == PAGES
    formats = {Path(r["source"]).name: r["format"] for r in records}
    assert formats["article.php"] == formats["index.html?id=1"] == "html"
    assert formats["comment-first"] == "html" and formats["story"] == "text"
    assert [b["text"] for b in records[1]["blocks"]] == ["拡張子のない記事です。", "二行目です。"]
    assert err.splitlines() == [
        "honbun: skipped 12 file(s): 4 notes or data (README, *.md, *.gold.txt, *.json …), "
        "2 hidden, 2 JSON or XML data, 2 images, styles or scripts, 1 empty, 1 binary "
        "(--verbose names them)"
    ]


def test_verbose_names_each_skipped_file_and_why(cli, crawl: Path) -> None:
    rc, _, err = cli("segment", str(crawl), "--verbose")
    assert rc == 0
    lines = err.splitlines()
    assert f"honbun: skipped {crawl / 'README.md'}: notes or data, not a page (README*)" in lines
    assert f"honbun: skipped {crawl / 'logo.png'}: not a page (.png file)" in lines
    assert f"honbun: skipped {crawl / 'image'}: binary file" in lines
    assert f"honbun: skipped {crawl / '.cache'}: hidden directory (name starts with '.')" in lines
    assert len(lines) == 12 + 1  # one per skipped file, then the summary


def test_glob_picks_the_pages_by_name(cli, crawl: Path) -> None:
    rc, out, err = cli("segment", str(crawl), "--glob", "*.php", "--glob", "news/2024/*")
    assert rc == 0
    sources = [Path(json.loads(line)["source"]).name for line in out.splitlines()]
    assert sources == ["story", "article.php"]
    assert "not matching --glob" in err.splitlines()[-1]


def test_glob_reads_what_the_defaults_leave_out(cli, crawl: Path) -> None:
    rc, out, _ = cli("segment", str(crawl), "--glob", "*.md")
    assert rc == 0
    assert [json.loads(line)["doc_id"] for line in out.splitlines()] == ["README", "notes"]


def test_a_file_named_on_the_command_line_is_always_read(cli, crawl: Path) -> None:
    rc, out, err = cli("segment", str(crawl / "README.md"), str(crawl / "news" / "article.php"))
    assert (rc, err) == (0, "")
    assert len(out.splitlines()) == 2


def test_no_pages_at_all_is_an_error(cli, tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text("p {}", "utf-8")
    rc, out, err = cli("segment", str(tmp_path))
    assert (rc, out) == (1, "")
    assert err.splitlines() == [
        "honbun: skipped 1 file(s): 1 images, styles or scripts (--verbose names them)",
        "honbun: error: no pages to segment among the inputs",
    ]


@pytest.mark.slow
def test_score_takes_glob_too(cli, crawl: Path, model_dir) -> None:
    rc, out, err = cli("score", str(crawl), "--glob", "*.php", "--model", model_dir)
    assert rc == 0, err
    assert [json.loads(line)["doc_id"] for line in out.splitlines()] == ["article"]
    rc, out, err = cli("score", str(crawl / "notes.md"), "--model", model_dir)
    assert rc == 0 and len(out.splitlines()) == 1


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"<!-- saved -->\n<!DOCTYPE html><html>", "html"),
        (b"\xef\xbb\xbf  <html lang=ja>", "html"),
        (b"<div class=x>", "html"),
        (b"\n<table><tr><td>x</td></tr></table><body>", "html"),
        ("記事です。\n".encode(), "text"),
    ],
)
def test_content_sniffing(head: bytes, fmt: str) -> None:
    assert sniff_format(head, "page") == fmt


def test_unreadable_and_special_files_are_skipped(tmp_path: Path) -> None:
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    assert page_or_skip(link, "dangling") == Skipped(str(link), "special", "not a regular file")
