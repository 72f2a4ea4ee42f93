"""Loading pages from files, standard input and rows of content, with one-line errors for
bad input.

:func:`load_page` reads one file; :func:`iter_pages` walks paths (directories included)
and yields a Page or a :class:`~honbun.errors.PageError` per input, so one bad file never
stops a batch.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from honbun.errors import PageError
from honbun.read.decode import DecodeError, decode_bytes
from honbun.read.html import MalformedHtml, parse_html
from honbun.read.page import Page
from honbun.read.text import LineTooLong, parse_text

MAX_PAGE_BYTES = 8 * 1024 * 1024  # no real news page is this large; a bigger file is data
BINARY_SNIFF_BYTES = 8192
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md"})
PAGE_SUFFIXES = HTML_SUFFIXES | TEXT_SUFFIXES
FORMATS = frozenset({"html", "text"})  # what a caller may name; anything else is sniffed


def sniff_format(data: bytes, name: str = "") -> str:
    """``"html"`` or ``"text"``, from the file name when it says, else from the content."""
    suffix = Path(name).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    markers = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<meta", b"<div")
    return "html" if head.startswith(markers) else "text"


def is_binary(data: bytes) -> bool:
    """NUL bytes (outside UTF-16) or many control bytes mean this is not a text page."""
    head = data[:BINARY_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
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
    decoder (:func:`~honbun.read.decode.decode_bytes`)."""
    if not data.strip():
        raise PageError(source, "empty file")
    if len(data) > MAX_PAGE_BYTES:
        raise PageError(source, f"too large: {len(data):,} bytes (limit {MAX_PAGE_BYTES:,})")
    if is_binary(data):
        raise PageError(source, "binary file, not a text or HTML page")
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
        page = parse(decoded.text, doc_id, source, info)
    except (MalformedHtml, LineTooLong) as exc:
        raise PageError(source, str(exc)) from exc
    if not page.blocks:
        raise PageError(source, "empty: no text in the page")
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


def expand_paths(paths: Iterable[str]) -> Iterator[str]:
    """Paths as given, with directories replaced by their page files (sorted, recursive)."""
    for raw in paths:
        p = Path(raw)
        if raw != "-" and p.is_dir():
            yield from (
                str(f)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in PAGE_SUFFIXES
            )
        else:
            yield raw


def iter_pages(paths: Iterable[str]) -> Iterator[Page | PageError]:
    """Load each input lazily, yielding the Page or the PageError that describes the failure."""
    for path in expand_paths(paths):
        try:
            yield load_page(path)
        except PageError as exc:
            yield exc
        except Exception as exc:  # a parser bug must not stop the batch; say what it was
            yield PageError(path, f"{type(exc).__name__}: {exc}")
