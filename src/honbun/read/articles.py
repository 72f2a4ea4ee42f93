"""Article corpora stored as JSON Lines: one article per line, already clean text.

Each record has ``id``, ``title`` and ``text`` (paragraphs separated by ``\\n``) and may
carry ``url``, ``date`` and ``source``. The NHK security-news corpus under
``data/raw/security-news/`` has this shape, and so does any set of article texts a user
collects. The title is block 0 (kind ``"title"``), each non-empty paragraph one block
(kind ``"line"``), as for livedoor articles. Annotations point at an article as
``<file>#<id>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from honbun.read.normalize import clean_whitespace, unify_newlines
from honbun.read.page import Page, assemble

META_FIELDS = ("url", "date", "source", "publisher")


def parse_record(rec: dict[str, Any], source: str) -> Page:
    """One article record as a Page (title block first, then one block per paragraph)."""
    for key in ("id", "title", "text"):
        if not isinstance(rec.get(key), str):
            raise ValueError(f"{source}: article record lacks a string {key!r}")
    pieces = [(clean_whitespace(rec["title"]), "title", None)]
    pieces += [
        (t, "line", None) for t in map(clean_whitespace, unify_newlines(rec["text"]).split("\n"))
    ]
    pieces = [p for p in pieces if p[0]]
    meta = {k: str(rec[k]) for k in META_FIELDS if rec.get(k)}
    meta["title"] = clean_whitespace(rec["title"])
    return assemble(rec["id"], source, "article", pieces, meta)


@lru_cache(maxsize=4)
def _records(path: str, mtime_ns: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: invalid JSON: {exc.msg}") from exc
            if not isinstance(rec, dict) or not isinstance(rec.get("id"), str):
                raise ValueError(f"{path}:{n}: an article record needs a string 'id'")
            if rec["id"] in out:
                raise ValueError(f"{path}:{n}: duplicate article id {rec['id']!r}")
            out[rec["id"]] = rec
    return out


def records(path: str | Path) -> dict[str, dict[str, Any]]:
    """Every record of a JSON Lines article file by id (read once per file version)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: article file not found")
    return _records(str(p), p.stat().st_mtime_ns)


def iter_articles(path: str | Path) -> Iterator[Page]:
    """Every article of the file as a Page, in file order."""
    for doc_id, rec in records(path).items():
        yield parse_record(rec, f"{path}#{doc_id}")


def load_record(path: str | Path, doc_id: str) -> Page:
    """One article by id."""
    rec = records(path).get(doc_id)
    if rec is None:
        raise ValueError(f"{path}#{doc_id}: no such article")
    return parse_record(rec, f"{path}#{doc_id}")
