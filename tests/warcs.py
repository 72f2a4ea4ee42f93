"""WARC files the tests write themselves (with warcio): the 92 development pages as a
crawl would store them, records that are not pages around them, and broken copies."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import MANIFEST, PAGES

CRAWL_DATE = "2024-10-29T00:47:00Z"


def manifest_pages() -> list[dict]:
    """``{"id", "path", "url", "encoding"}`` of each development page, manifest order."""
    rows = [json.loads(line) for line in MANIFEST.read_text("utf-8").splitlines() if line]
    return [
        {
            "id": r["id"],
            "path": PAGES / r["path"],
            "url": r.get("url") or f"https://pages.example/{r['id']}",
            "encoding": r.get("encoding"),
        }
        for r in rows
    ]


def _chunked(data: bytes, size: int = 1000) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
             for i in range(0, len(data), size)]  # fmt: skip
    return b"".join(parts) + b"0\r\n\r\n"


def response(writer: WARCWriter, uri: str, body: bytes, headers: list[tuple[str, str]],
             status: str = "200 OK", date: str = CRAWL_DATE) -> None:  # fmt: skip
    """One HTTP response record (``body`` as it went over the wire)."""
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    rec = writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                    http_headers=http, warc_headers_dict={"WARC-Date": date})  # fmt: skip
    writer.write_record(rec)


def request(writer: WARCWriter, uri: str) -> None:
    http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "x")], is_http_request=True)
    writer.write_record(writer.create_warc_record(uri, "request", payload=io.BytesIO(b""),
                                                  http_headers=http))  # fmt: skip


def write_crawl(path: Path, gzipped: bool = True, pages: list[dict] | None = None) -> Path:
    """A crawl of ``pages`` (default: all 92): each page's request and response (every
    third page chunked, every fifth gzip-encoded), plus a warcinfo, a metadata record, an
    image, a redirect and a 404, which are not pages."""
    pages = manifest_pages() if pages is None else pages
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gzipped)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "honbun tests"}))
        for k, page in enumerate(pages):
            body = page["path"].read_bytes()
            ctype = "text/html" + (f"; charset={page['encoding']}" if page["encoding"] else "")
            headers = [("Content-Type", ctype)]
            if k % 5 == 4:
                body = gzip.compress(body)
                headers.append(("Content-Encoding", "gzip"))
            if k % 3 == 2:
                body = _chunked(body)
                headers.append(("Transfer-Encoding", "chunked"))
            request(w, page["url"])
            response(w, page["url"], body, headers)
            if k == 0:
                meta = w.create_warc_record(page["url"], "metadata",
                                            payload=io.BytesIO(b"outlinks: none\n"),
                                            warc_content_type="application/warc-fields")  # fmt: skip
                w.write_record(meta)
                response(w, "https://pages.example/logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
                         [("Content-Type", "image/png")])  # fmt: skip
                response(w, "https://pages.example/moved", b"", [("Location", page["url"])],
                         status="301 Moved Permanently")  # fmt: skip
                response(w, "https://pages.example/gone", b"<html>not found</html>",
                         [("Content-Type", "text/html")], status="404 Not Found")  # fmt: skip
    return path
