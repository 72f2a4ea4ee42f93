"""Loading pages from files, standard input and rows of content, with one-line errors for
bad input; walking directories of pages.

:func:`load_page` reads one file; :func:`iter_pages` walks paths (directories included)
and yields a Page or a :class:`~honbun.errors.PageError` per input, so one bad file never
stops a batch. :func:`walk_paths` says which files of a directory are pages and why the
others are skipped (see :func:`page_or_skip`).

Per-page limits (a bigger input is refused with a one-line error naming it):
:data:`MAX_PAGE_BYTES` of input and :data:`MAX_PAGE_BLOCKS` blocks; the scoring time per
page is limited in :mod:`honbun.scoring.batch` (``PAGE_TIMEOUT_S``).
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from honbun.errors import PageError
from honbun.read.decode import DecodeError, decode_bytes
from honbun.read.html import MalformedHtml, parse_html
from honbun.read.page import Page, TooManyBlocks
from honbun.read.text import LineTooLong, parse_text

MAX_PAGE_BYTES = 8 * 1024 * 1024  # no real news page is this large; a bigger file is data
# No real page has this many blocks (the largest of our 92 pages has 926). Scoring is linear in
# blocks: 200,000 short ones take about 21 s of CPU and 1.3 GB, 8 MB of paragraphs (75,000
# blocks) about 25 s and 1.2 GB (benchmarks/bench_page_size.py), within PAGE_TIMEOUT_S.
MAX_PAGE_BLOCKS = 200_000
BINARY_SNIFF_BYTES = 8192
# NUL bytes a text page may carry (a crawler's or an editor's stray bytes): they are
# dropped and the page read. More, or control bytes in more than 5 % of the first
# BINARY_SNIFF_BYTES, mean a binary file.
MAX_STRAY_NULS = 16
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md"})
PAGE_SUFFIXES = HTML_SUFFIXES | TEXT_SUFFIXES
WARC_SUFFIXES = (".warc", ".warc.gz")  # crawls: read record by record (honbun.read.warc)
FORMATS = frozenset({"html", "text"})  # what a caller may name; anything else is sniffed
# What a directory walk leaves out by default (a file named on the command line is always
# read): notes and data that sit beside pages in a crawl or an annotation folder ...
NOT_PAGES = ("README*", "*.md", "*.gold.txt", "*.json", "*.jsonl", "*.csv", "*.tsv", "*.toml",
             "*.yaml", "*.yml", "*.log")  # fmt: skip
# ... and a crawl's assets, known by their suffix (no need to open them).
ASSET_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp", ".tif", ".tiff",
    ".css", ".js", ".mjs", ".map", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4",
    ".m4a", ".webm", ".ogg", ".wav", ".avi", ".mov", ".pdf", ".zip", ".exe", ".pyc",
})  # fmt: skip
_HTML_START = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<meta", b"<div")
_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)
_LEADING_COMMENTS = re.compile(rb"\A(?:\s*<!--.*?-->)+", re.DOTALL)


def sniff_format(data: bytes, name: str = "") -> str:
    """``"html"`` or ``"text"``, from the file name when it says, else from the content:
    HTML when it opens with markup (comments aside) or has an ``<html>``, ``<head>`` or
    ``<body>`` tag in its first 4 KB."""
    suffix = Path(name).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    opening = _LEADING_COMMENTS.sub(b"", head).lstrip().lower()
    return "html" if opening.startswith(_HTML_START) or _HTML_TAG.search(head) else "text"


def _utf16(data: bytes) -> bool:
    return data.startswith((b"\xff\xfe", b"\xfe\xff"))


def is_binary(data: bytes) -> bool:
    """More than :data:`MAX_STRAY_NULS` NUL bytes (outside UTF-16), or many control bytes,
    in the first :data:`BINARY_SNIFF_BYTES` mean this is not a text page."""
    head = data[:BINARY_SNIFF_BYTES]
    if _utf16(head):
        return False
    if head.count(0) > MAX_STRAY_NULS:
        return True
    # ESC (0x1B) is excluded: ISO-2022-JP text is full of escape sequences.
    controls = sum(1 for b in head if b < 9 or (13 < b < 32 and b != 0x1B))
    return controls > len(head) * 0.05


def page_from_bytes(
    data: bytes,
    source: str,
    doc_id: str | None = None,
    fmt: str | None = None,
    meta: dict[str, str] | None = None,
    charset: str | None = None,
) -> Page:
    """Decode and parse one page. Raise PageError (naming ``source``) on bad input.

    ``charset``: what the transport said the encoding is (an HTTP header), a hint to the
    decoder (:func:`~honbun.read.decode.decode_bytes`). A few stray NUL bytes (at most
    :data:`MAX_STRAY_NULS`) are dropped; a page larger than :data:`MAX_PAGE_BYTES` or with
    more than :data:`MAX_PAGE_BLOCKS` blocks is refused.
    """
    if not data.strip():
        raise PageError(source, "empty file")
    if len(data) > MAX_PAGE_BYTES:
        raise PageError(source, f"too large: {len(data):,} bytes (limit {MAX_PAGE_BYTES:,})")
    if is_binary(data):
        raise PageError(source, "binary file, not a text or HTML page")
    if not _utf16(data) and b"\x00" in data:
        nuls = data.count(0)
        if nuls > MAX_STRAY_NULS:
            raise PageError(source, f"binary file: {nuls:,} NUL bytes, not a text or HTML page")
        data = data.replace(b"\x00", b"")  # no Japanese encoding has a 0x00 in a character
        if not data.strip():
            raise PageError(source, "empty file")
    try:
        decoded = decode_bytes(data, charset)
    except DecodeError as exc:
        raise PageError(source, str(exc)) from exc
    fmt = fmt or sniff_format(data, source)
    doc_id = doc_id or (Path(source).stem if source != "-" else "stdin")
    info = {"encoding": decoded.encoding, **(meta or {})}
    if decoded.declared:
        info["encoding_declared"] = decoded.declared
    try:
        parse = parse_html if fmt == "html" else parse_text
        page = parse(decoded.text, doc_id, source, info, max_blocks=MAX_PAGE_BLOCKS)
    except (MalformedHtml, LineTooLong, TooManyBlocks) as exc:
        raise PageError(source, str(exc)) from exc
    if not page.blocks:
        raise PageError(source, "empty: no text in the page")
    return page


def check_size(page: Page) -> Page:
    """``page``, or PageError if it has more than :data:`MAX_PAGE_BLOCKS` blocks (a Page
    built by the caller, not read here)."""
    if len(page.blocks) > MAX_PAGE_BLOCKS:
        raise PageError(page.source, str(TooManyBlocks(MAX_PAGE_BLOCKS)))
    return page


def page_from_content(
    content: object,
    source: str,
    doc_id: str | None = None,
    fmt: str | None = None,
    meta: dict[str, str] | None = None,
    charset: str | None = None,
) -> Page:
    """A page given as content (a row of a REST request or a Spark dataset): text or bytes,
    with an optional ``format`` (``html``/``text``; empty sniffs it), ``meta`` and charset
    hint (see :func:`page_from_bytes`). Raise PageError naming ``source`` for a missing or
    non-text content or an unknown format."""
    if fmt is not None and not isinstance(fmt, str):
        raise PageError(source, f"format must be html, text or null, not {fmt!r}")
    kind = (fmt or "").strip().lower() or None
    if kind is not None and kind not in FORMATS:
        raise PageError(source, f"unknown format {fmt!r} (expected html, text or null)")
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
    elif isinstance(content, str):
        data = content.encode("utf-8")
    elif content is None:
        raise PageError(source, "no content (null)")
    else:
        raise PageError(source, f"content must be text, not {type(content).__name__}")
    return page_from_bytes(data, source, doc_id or None, kind, meta, charset)


def load_page(path: str | Path, doc_id: str | None = None, fmt: str | None = None) -> Page:
    """Read one page file (``"-"`` reads standard input)."""
    source = str(path)
    if source == "-":
        return page_from_bytes(sys.stdin.buffer.read(), "-", doc_id, fmt)
    p = Path(path)
    if not p.exists():
        raise PageError(source, "no such file")
    if p.is_dir():
        raise PageError(source, "is a directory, expected a file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise PageError(source, f"cannot read: {exc.strerror or exc}") from exc
    return page_from_bytes(data, source, doc_id, fmt)


@dataclass(frozen=True)
class Skipped:
    """A file of a walked directory that is not read as a page, and why.

    ``kind`` is the reason's class, for counting: ``hidden``, ``asset`` (a crawl's image,
    style or script, by suffix), ``notes`` (:data:`NOT_PAGES`), ``glob`` (no ``--glob``
    pattern matches), ``binary``, ``empty``, ``data`` (JSON or XML, not HTML),
    ``undecodable``, ``unreadable``, ``special`` (not a regular file).
    """

    path: str
    kind: str
    reason: str


def page_or_skip(path: Path, name: str, patterns: Sequence[str] = ()) -> Skipped | None:
    """None if the file ``path`` of a directory walk (``name``: its path inside the walked
    directory) is read as a page, else why not.

    By default a page is a file with a page suffix (:data:`PAGE_SUFFIXES`), or a file
    with another suffix or none (``article.php``, ``index.html?id=1``) whose first bytes
    are HTML or text; notes and data (:data:`NOT_PAGES`), a crawl's assets
    (:data:`ASSET_SUFFIXES`) and hidden files are left out. With ``patterns`` (shell
    globs, matched against ``name`` and the file's name), a page is a file that matches
    one, whatever its suffix.
    """
    source = str(path)
    if any(part.startswith(".") for part in Path(name).parts):
        return Skipped(source, "hidden", "hidden (name starts with '.')")
    if not path.is_file():
        return Skipped(source, "special", "not a regular file")
    if patterns:
        if any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(path.name, g) for g in patterns):
            return None
        return Skipped(source, "glob", f"matches no --glob ({', '.join(patterns)})")
    if path.name.lower().endswith(WARC_SUFFIXES):
        return None
    notes = [g for g in NOT_PAGES if fnmatch.fnmatch(path.name.lower(), g.lower())]
    if notes:
        return Skipped(source, "notes", f"notes or data, not a page ({notes[0]})")
    suffix = path.suffix.lower()
    if suffix in PAGE_SUFFIXES:
        return None
    if suffix in ASSET_SUFFIXES:
        return Skipped(source, "asset", f"not a page ({suffix} file)")
    return _sniffed(path)


def _sniffed(path: Path) -> Skipped | None:
    """Whether the first bytes of a file without a page suffix look like a page."""
    source = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(BINARY_SNIFF_BYTES)
    except OSError as exc:
        return Skipped(source, "unreadable", f"cannot read: {exc.strerror or exc}")
    if not head.strip():
        return Skipped(source, "empty", "empty file")
    if is_binary(head):
        return Skipped(source, "binary", "binary file")
    opening = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if opening.startswith((b"{", b"[{", b'["')):
        return Skipped(source, "data", "JSON data, not a page")
    if opening.lower().startswith(b"<?xml") and not _HTML_TAG.search(head):
        return Skipped(source, "data", "XML data (a feed, a sitemap), not an HTML page")
    try:
        decode_bytes(head.replace(b"\x00", b""))
    except DecodeError:
        return Skipped(source, "undecodable", "not text in any encoding honbun knows")
    return None


def walk_paths(paths: Iterable[str], patterns: Sequence[str] = ()) -> Iterator[str | Skipped]:
    """Paths as given, with each directory replaced by its files (recursive, in sorted
    path order): the path of each page (:func:`page_or_skip`) and a :class:`Skipped` for
    every other file, and for each hidden directory (not walked)."""
    for raw in paths:
        p = Path(raw)
        if raw == "-" or not p.is_dir():
            yield raw
        else:
            yield from _walk(p, p, patterns)


def _walk(root: Path, folder: Path, patterns: Sequence[str]) -> Iterator[str | Skipped]:
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        yield Skipped(str(folder), "unreadable", f"cannot list: {exc.strerror or exc}")
        return
    for f in entries:
        if f.is_dir() and not f.is_symlink():
            if f.name.startswith("."):
                yield Skipped(str(f), "hidden", "hidden directory (name starts with '.')")
            else:
                yield from _walk(root, f, patterns)
            continue
        skipped = page_or_skip(f, str(f.relative_to(root)), patterns)
        yield skipped if skipped is not None else str(f)


def expand_paths(paths: Iterable[str], patterns: Sequence[str] = ()) -> Iterator[str]:
    """The page paths of :func:`walk_paths` (what is skipped, silently: see walk_paths)."""
    return (p for p in walk_paths(paths, patterns) if isinstance(p, str))


def iter_pages(paths: Iterable[str]) -> Iterator[Page | PageError]:
    """Load each input lazily, yielding the Page or the PageError that describes the failure."""
    for path in expand_paths(paths):
        try:
            yield load_page(path)
        except PageError as exc:
            yield exc
        except Exception as exc:  # a parser bug must not stop the batch; say what it was
            yield PageError(path, f"{type(exc).__name__}: {exc}")
