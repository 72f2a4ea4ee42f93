"""The livedoor news corpus (ldcc-20140209), read in its official layout.

``text/<category>/<category>-<id>.txt``: line 1 the URL, line 2 the date, line 3 the
title, the body after that. Accepts the ``.tar.gz`` as published or the unpacked folder
(the one holding ``text/``, or ``text/`` itself). Nothing is ever downloaded here: pass
the path of a copy (the repository ships the unmodified tarball under ``data/raw``).
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from honbun.read.normalize import clean_whitespace, unify_newlines
from honbun.read.page import Page, assemble

HOME_URL = "https://www.rondhuit.com/download/ldcc-20140209.tar.gz"
_MEMBER = re.compile(r"(?:^|/)text/([a-z-]+)/\1-(\d+)\.txt$")


def parse_article(raw: str, category: str, article_id: str, source: str) -> Page:
    """One livedoor article as a Page: the title is block 0, each non-empty body line a block."""
    lines = unify_newlines(raw).split("\n")
    if len(lines) < 3:
        raise ValueError(f"{source}: not a livedoor article (fewer than 3 lines)")
    url, date, title = (clean_whitespace(x) for x in lines[:3])
    pieces = [(clean_whitespace(title), "title", None)]
    pieces += [(t, "line", None) for t in map(clean_whitespace, lines[3:]) if t]
    meta = {"url": url, "date": date, "title": title, "category": category}
    return assemble(f"livedoor-{category}-{article_id}", source, "livedoor", pieces, meta)


def iter_livedoor(path: str | Path, categories: set[str] | None = None) -> Iterator[Page]:
    """Yield every article under ``path`` (a ``.tar.gz`` or a folder), sorted by member name."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: livedoor corpus not found (download {HOME_URL})")
    if p.is_dir():
        root = p / "text" if (p / "text").is_dir() else p
        files = sorted(root.glob("*/*.txt"))
        for f in files:
            m = _MEMBER.search(f"text/{f.parent.name}/{f.name}")
            if m and (categories is None or m.group(1) in categories):
                yield parse_article(f.read_text("utf-8"), m.group(1), m.group(2), str(f))
        return
    with tarfile.open(p, "r:*") as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        for member in members:
            m = _MEMBER.search(member.name)
            if not m or (categories is not None and m.group(1) not in categories):
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            raw = fh.read().decode("utf-8")
            yield parse_article(raw, m.group(1), m.group(2), f"{p}#{member.name}")


@lru_cache(maxsize=2)
def _members(archive: str) -> dict[str, str]:
    """All article texts of a tarball by member name (read once; ~26 MB for the corpus)."""
    with tarfile.open(archive, "r:*") as tar:
        out = {}
        for member in tar.getmembers():
            if member.isfile() and _MEMBER.search(member.name):
                fh = tar.extractfile(member)
                assert fh is not None
                out[member.name] = fh.read().decode("utf-8")
        return out


def load_article(archive: str | Path, member: str) -> Page:
    """One article by member name (``text/<cat>/<cat>-<id>.txt``) from the tarball or folder."""
    p = Path(archive)
    if not p.exists():
        raise FileNotFoundError(f"{p}: livedoor corpus not found (download {HOME_URL})")
    m = _MEMBER.search(member)
    if not m:
        raise ValueError(f"{member}: not a livedoor article member name")
    if p.is_dir():
        root = p if (p / member).exists() else p.parent
        raw = (root / member).read_text("utf-8")
    else:
        raw = _members(str(p)).get(member)
        if raw is None:
            raise ValueError(f"{p}#{member}: no such member")
    return parse_article(raw, m.group(1), m.group(2), f"{p}#{member}")
