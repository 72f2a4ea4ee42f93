"""Pages from web crawls: WARC files (ISO 28500), read one record at a time.

Each ``response`` record with a 2xx HTTP status and an HTML or plain-text payload becomes
a page: its doc id and source are the record's ``WARC-Target-URI`` (also its ``url``
meta), its ``date`` meta the ``WARC-Date``; the payload is de-chunked and its
``Content-Encoding`` (gzip, deflate) undone, and the charset of the HTTP ``Content-Type``
is a hint to the decoder (:func:`honbun.read.decode.decode_bytes`). Every other record
(requests, metadata, warcinfo, revisits, redirects, error statuses, images, …) is skipped
and counted by reason in :class:`WarcStats`.

Files may be gzipped record by record (the usual ``.warc.gz``), gzipped as a whole, or
uncompressed. Offsets are file offsets, except in a file gzipped as a whole, where they
are offsets into the uncompressed stream (the file has no others).

A broken record (a damaged header, a corrupt gzip member, a block shorter than its
``Content-Length``, a file cut short) becomes a :class:`~honbun.errors.PageError` that
names the file and the record's offset; reading resumes at the next record start found
after it (the next gzip member, or the next ``WARC/1.x`` line), so the rest of the file
is still read.

Reading streams: records are parsed from the open file as they come (warcio's
``ArchiveIterator``) and a page's payload is read once, capped at
:data:`~honbun.read.files.MAX_PAGE_BYTES`; payloads that are not pages are skipped
without being kept. warcio rather than FastWARC: it is pure Python (FastWARC is a
compiled extension), it reads per-record gzip and plain WARC and undoes chunked
transfer and content encodings itself, and reading is not what scoring waits for
(``benchmarks/bench_warc.py``).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from honbun.errors import PageError
from honbun.read.files import (
    MAX_PAGE_BYTES,
    PAGE_SUFFIXES,
    WARC_SUFFIXES,
    page_from_bytes,
    sniff_format,
)
from honbun.read.page import Page

PAGE_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "text"}
# Content-Encoding -> warcio's decompressor name (brotli only when its package is there)
ENCODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "br": "br"}
GZIP_MAGIC = b"\x1f\x8b\x08"
RECORD_MAGIC = b"WARC/1."
SNIFF_COMPRESSED = 1 << 20  # how much of a gzip file is read to tell per-record from whole
READ_BLOCK = 1 << 16
_TRUNCATED = "truncated: the file ends inside this record"


@dataclass
class WarcStats:
    """What reading WARC files found: pages, broken records, records skipped by reason."""

    pages: int = 0
    errors: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line: ``92 page(s), 0 broken record(s), 186 skipped: 92 request, …`` (a
        page's record may still hold no page: scoring gives it an error record)."""
        n = sum(self.skipped.values())
        line = f"{self.pages} page(s), {self.errors} broken record(s), {n} record(s) skipped"
        if n:
            line += ": " + ", ".join(f"{c} {why}" for why, c in self.skipped.most_common())
        return line


@dataclass(frozen=True)
class Payload:
    """A page as its response record holds it: the target URI, ``html`` or ``text``, the
    body (transfer and content encodings undone), the HTTP charset and the WARC-Date."""

    uri: str
    format: str
    data: bytes
    charset: str | None = None
    date: str | None = None

    @property
    def meta(self) -> dict[str, str]:
        return {"url": self.uri, **({"date": self.date} if self.date else {})}

    def page(self) -> Page:
        """The page; raise PageError naming the URI (and with it as doc id) for a body that
        is not one (empty, binary, undecodable)."""
        try:
            return page_from_bytes(
                self.data, self.uri, self.uri, self.format, self.meta, self.charset
            )
        except PageError as exc:
            raise PageError(self.uri, exc.reason, self.uri) from exc


def is_warc(path: str) -> bool:
    """A ``.warc``/``.warc.gz`` name, or (for a file not named like a page) content that
    starts with a WARC record, gzipped or not."""
    name = path.lower()
    if name.endswith(WARC_SUFFIXES):
        return True
    if path == "-" or Path(name).suffix in PAGE_SUFFIXES:
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:  # not ours to report: the page reader names the problem
        return False
    if head.startswith(GZIP_MAGIC[:2]):
        try:
            head = zlib.decompressobj(31).decompress(head, 64)
        except zlib.error:
            return False
    return head.startswith(RECORD_MAGIC)


def with_warc_pages(items: Iterable[Any], stats: WarcStats | None = None) -> Iterator[Any]:
    """``items`` with each WARC file among them replaced by its pages and errors."""
    for item in items:
        if isinstance(item, str) and is_warc(item):
            yield from iter_warc(item, stats)
        else:
            yield item


def iter_warc(path: str | Path, stats: WarcStats | None = None) -> Iterator[Page | PageError]:
    """The pages of one WARC file, in file order, and a PageError per broken record or
    per page that is not one (:meth:`Payload.page`)."""
    for item in iter_payloads(path, stats):
        if isinstance(item, PageError):
            yield item
            continue
        try:
            yield item.page()
        except PageError as exc:
            yield exc


def iter_payloads(
    path: str | Path, stats: WarcStats | None = None, fh: IO[bytes] | None = None
) -> Iterator[Payload | PageError]:
    """The page payloads of one WARC file, in file order, and a PageError per broken
    record. ``fh``: the file already open (seekable, binary), e.g. from another filesystem."""
    stats = stats if stats is not None else WarcStats()
    name = str(path)
    if fh is not None:
        yield from _Reader(name, fh, stats).records()
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below; a generator holds it open
    except OSError as exc:
        stats.errors += 1
        yield PageError(name, f"cannot read: {exc.strerror or exc}")
        return
    with fh:
        yield from _Reader(name, fh, stats).records()


class _Gunzip:
    """A file gzipped as a whole, as a forward-reading stream of its uncompressed bytes.

    Unlike :class:`gzip.GzipFile` it returns the bytes it has when the file ends inside a
    member and then says so (``truncated``), so the records before the cut are read.
    ``seek`` backwards starts over from the beginning: only resynchronising after a
    broken record needs it.
    """

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.truncated = False
        self._reset()

    def _reset(self) -> None:
        self.fh.seek(0)
        self._z = zlib.decompressobj(31)
        self._buf = b""
        self._pos = 0  # uncompressed offset of the first byte of _buf

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int) -> int:
        if pos < self._pos:
            self._reset()
        while self._pos < pos and self.read(min(READ_BLOCK, pos - self._pos)):
            pass
        return self._pos

    def read(self, size: int = -1) -> bytes:
        want = size if size >= 0 else 1 << 62
        while len(self._buf) < want:
            more = self._inflate()
            if not more:
                break
            self._buf += more
        out, self._buf = self._buf[:want], self._buf[want:]
        self._pos += len(out)
        return out

    def _inflate(self) -> bytes:
        while True:
            if self._z.eof:  # a member ended: another may follow (a multi-member file)
                rest = self._z.unused_data or self.fh.read(READ_BLOCK)
                if not rest:
                    return b""  # the end of the file, at the end of a member
                self._z = zlib.decompressobj(31)
                out = self._z.decompress(rest)
            else:
                chunk = self.fh.read(READ_BLOCK)
                if not chunk:
                    self.truncated = True  # the file ends inside a member
                    return b""
                out = self._z.decompress(chunk)
            if out:
                return out


def _gzipped_whole(fh: IO[bytes]) -> bool:
    """A gzip file whose first member does not end within :data:`SNIFF_COMPRESSED` bytes,
    or ends where the file does: one member for the whole file (which warcio refuses).
    Per-record files end their first member after the first (small) record."""
    fh.seek(0)
    z = zlib.decompressobj(31)
    read = 0
    try:
        while read < SNIFF_COMPRESSED and not z.eof:
            chunk = fh.read(READ_BLOCK)
            if not chunk:
                break
            read += len(chunk)
            z.decompress(chunk, 1 << 16)  # bounded output: a record can be large
            while z.unconsumed_tail and not z.eof:
                z.decompress(z.unconsumed_tail, 1 << 16)
    except zlib.error:
        return False  # a broken first member: warcio reports it, resynchronising after it
    whole = not z.eof or (not z.unused_data and not fh.read(1))
    fh.seek(0)
    return whole


class _Reader:
    """One pass over one WARC file (see the module docstring)."""

    def __init__(self, name: str, fh: IO[bytes], stats: WarcStats) -> None:
        self.name, self.fh, self.stats = name, fh, stats
        gzipped = fh.read(2) == GZIP_MAGIC[:2]
        self.whole = gzipped and _gzipped_whole(fh)
        self.stream: Any = _Gunzip(fh) if self.whole else fh
        self.magic = GZIP_MAGIC if gzipped and not self.whole else RECORD_MAGIC
        fh.seek(0, 2)
        self.size = fh.tell()
        fh.seek(0)

    def _where(self, offset: int) -> str:
        return f"record at offset {offset}{' (uncompressed)' if self.whole else ''}"

    def _broken(self, offset: int, reason: str, uri: str = "") -> PageError:
        self.stats.errors += 1
        of = f"{uri}, " if uri else ""
        return PageError(self.name, f"{self._where(offset)}: {of}{reason}", uri or None)

    def records(self) -> Iterator[Payload | PageError]:
        pos: int | None = 0
        resynced = False
        while pos is not None:
            self.stream.seek(pos)
            it = _archive_iterator(self.stream)
            offset, read_any, last_broken = pos, False, False
            try:
                for record in it:
                    offset, read_any = it.offset, True
                    item = self._record(record, offset)
                    if item is not None:
                        yield item
                    last_broken = isinstance(item, PageError)
                    offset = -1  # between records: a failure now is the next one's
                end = it.offset
            except Exception as exc:  # warcio, zlib, a bad header value: the record is broken
                if offset < 0:
                    offset = it.offset
                at_end = self._at_end()
                nxt = self._next_start(offset + 1)
                if not (resynced and not read_any):  # else a false start the scan found
                    yield self._broken(offset, self._why(exc, at_end and nxt is None))
                pos, resynced = nxt, True
                continue
            finally:
                it.close()
            # warcio stops quietly where a gzip member is cut off: bytes left unread, or
            # (gzipped as a whole) a stream that ends inside its member
            tail = self.stream.tell() if self.whole else self.size
            if end < tail or (self.whole and self.stream.truncated and not last_broken):
                nxt = self._next_start(end + 1)
                why = _TRUNCATED if nxt is None else "unreadable (damaged gzip member)"
                yield self._broken(end, why)
                pos, resynced = nxt, True
                continue
            pos = None

    def _at_end(self) -> bool:
        """The reading hit the end of the file (warcio reads ahead: within a block of it)."""
        if self.whole:
            return bool(self.stream.truncated)
        return self.fh.tell() >= self.size

    def _why(self, exc: Exception, cut: bool) -> str:
        if self.whole and isinstance(exc, zlib.error):  # a deflate stream has no way back in
            return f"corrupt gzip data ({exc}): the rest of the file cannot be read"
        return _TRUNCATED if cut else _reason(exc)

    def _next_start(self, start: int) -> int | None:
        """Offset of the next record start at or after ``start`` (None: none left, or the
        stream cannot be read on)."""
        try:
            return self._scan(start)
        except (zlib.error, OSError, EOFError):
            return None

    def _scan(self, start: int) -> int | None:
        self.stream.seek(start)
        carry, at = b"", start
        while True:
            chunk = self.stream.read(READ_BLOCK)
            if not chunk:
                return None
            data = carry + chunk
            base = at - len(carry)
            i = data.find(self.magic)
            while i >= 0:
                if self.magic == GZIP_MAGIC or i + base == 0 or data[i - 1 : i] == b"\n":
                    return base + i
                i = data.find(self.magic, i + 1)
            carry = data[-(len(self.magic)) :]
            at += len(chunk)

    def _record(self, record: Any, offset: int) -> Payload | PageError | None:
        """The page payload in ``record``, its error, or None (skipped and counted)."""
        kind = record.rec_type
        uri = record.rec_headers.get_header("WARC-Target-URI") or ""
        length = record.rec_headers.get_header("Content-Length") or ""
        if not length.strip().isdigit():  # mandatory: missing or cut short, the header is broken
            why = _TRUNCATED if self._at_end() else "damaged header (no valid Content-Length)"
            return self._broken(offset, why, uri)
        if kind != "response":
            return self._skip(record, offset, kind or "untyped record", uri)
        http = record.http_headers
        if http is None or not uri.lower().startswith(("http:", "https:")):
            return self._skip(record, offset, "non-HTTP response", uri)
        status = (http.get_statuscode() or "").strip()
        code = int(status) if status.isdigit() else 0
        if not 200 <= code < 300:
            why = {3: "redirect", 4: "HTTP error", 5: "HTTP error"}.get(code // 100, "bad status")
            return self._skip(record, offset, why, uri)
        ctype = http.get_header("Content-Type") or ""
        mime, charset = _content_type(ctype)
        if mime and mime not in PAGE_TYPES:
            return self._skip(record, offset, mime, uri)
        try:
            data = _payload(record, http).read(MAX_PAGE_BYTES + 1)
        except Exception as exc:  # an encoding we cannot undo, a corrupt gzip body
            _drain(record)  # a broken file (not just this payload) raises again here
            why = str(exc) if isinstance(exc, _Unsupported) else f"payload: {_reason(exc)}"
            return self._broken(offset, why, uri)
        _drain(record)
        short = _missing(record)
        if short:
            return self._broken(offset, f"truncated: {short:,} byte(s) of the block missing", uri)
        if len(data) > MAX_PAGE_BYTES:
            return self._broken(offset, f"too large: over {MAX_PAGE_BYTES:,} bytes", uri)
        fmt = PAGE_TYPES.get(mime)
        if fmt is None:  # no Content-Type: an HTML page is recognisable, anything else not
            if not data.strip() or sniff_format(data) != "html":
                self.stats.skipped["no Content-Type"] += 1
                return None
            fmt = "html"
        self.stats.pages += 1
        date = record.rec_headers.get_header("WARC-Date")
        return Payload(uri, fmt, data, charset, date or None)

    def _skip(self, record: Any, offset: int, why: str, uri: str) -> PageError | None:
        _drain(record)
        short = _missing(record)
        if short:  # a skipped record can be broken too
            return self._broken(offset, f"truncated: {short:,} byte(s) of the block missing", uri)
        self.stats.skipped[why] += 1
        return None


def _archive_iterator(stream: Any) -> Any:
    """warcio's ArchiveIterator over ``stream``, minus its stderr warning about a record not
    followed by a blank line (a wrong Content-Length): what follows then fails to parse
    and is reported as a broken record."""
    from warcio.archiveiterator import ArchiveIterator

    it = ArchiveIterator(stream)
    it.INC_RECORD = ""  # the warning's text: formatted and written, it is nothing
    return it


class _Unsupported(ValueError):
    """A content encoding honbun cannot undo."""


def _content_type(value: str) -> tuple[str, str | None]:
    """``("text/html", "shift_jis")`` from ``text/html; charset="Shift_JIS"``."""
    mime, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return mime.strip().lower(), charset


def _payload(record: Any, http: Any) -> Any:
    """The record's payload with chunked transfer coding and content coding undone."""
    from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

    coding = (http.get_header("Content-Encoding") or "").strip().lower()
    decomp = None
    if coding and coding != "identity":
        decomp = ENCODINGS.get(coding)
        if decomp not in BufferedReader.get_supported_decompressors():
            raise _Unsupported(f"cannot undo Content-Encoding {coding!r}")
    chunked = "chunked" in (http.get_header("Transfer-Encoding") or "").lower()
    if chunked:
        return ChunkedDataReader(record.raw_stream, decomp_type=decomp)
    if decomp:
        return BufferedReader(record.raw_stream, decomp_type=decomp)
    return record.raw_stream


def _drain(record: Any) -> None:
    """Read the rest of the record's block (so truncation shows), keeping none of it."""
    while record.raw_stream.read(READ_BLOCK):
        pass


def _missing(record: Any) -> int:
    """How many bytes of the block its ``Content-Length`` promised and the file lacks."""
    return max(0, int(getattr(record.raw_stream, "limit", 0) or 0))


def _reason(exc: Exception) -> str:
    # one short printable line: warcio quotes the raw bytes it could not parse
    text = "".join(
        c if c.isprintable() and c.isascii() else "?" for c in " ".join(str(exc).split())
    )
    if "non-chunked gzip" in text:
        return "a gzip member holds more than one record"
    return f"unreadable ({type(exc).__name__}: {text[:100]})" if text else type(exc).__name__
