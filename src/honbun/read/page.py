"""The domain types: a Page is made of Blocks, and Blocks contain Sentences.

Every offset is a character offset (Python ``str`` index) into ``Page.text``, the
normalised text that honbun outputs, so ``page.text[b.start:b.end] == b.text`` always
holds. ``Page.text`` is the block texts joined by ``"\\n"``; text dumps additionally
keep their blank lines (one ``"\\n"`` per blank line), so a gap in the source stays a gap.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from honbun.read.sentences import split_text

# Regions of an HTML page that a block can sit inside; used as DOM features.
REGIONS = ("header", "nav", "footer", "aside", "article", "main")


class TooManyBlocks(ValueError):
    """A loader found more blocks than its caller's limit (it stops there: a page of
    millions of blocks costs time and memory before it is refused)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"too many blocks: more than {limit:,} (limit {limit:,} per page)")


@dataclass(frozen=True, slots=True)
class DomContext:
    """Where an HTML block sits in the DOM.

    ``path`` is the ancestor tag path from ``html`` down to the block's element, joined by
    ``/``; ``tokens`` are the lower-cased class and id tokens of the element and its
    ancestors (nearest first, split on ``-``/``_``/space, duplicates removed);
    ``link_ratio`` is the share of the block's characters that are inside ``<a>``
    (0.0-1.0); ``depth`` is the element's depth below ``<html>``; ``regions`` are the
    members of :data:`REGIONS` among the ancestors (by tag or by ARIA role); ``xpath`` is
    the element's unique XPath, so blocks that share an ancestor (an article container)
    can be grouped.
    """

    tag: str
    path: str
    tokens: tuple[str, ...]
    link_ratio: float
    depth: int
    regions: frozenset[str]
    xpath: str = ""

    def ancestors(self) -> list[str]:
        """XPaths of the element and its ancestors, innermost first."""
        parts = self.xpath.split("/")
        return ["/".join(parts[:i]) for i in range(len(parts), 1, -1)]

    def to_json(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "path": self.path,
            "tokens": list(self.tokens),
            "link_ratio": round(self.link_ratio, 4),
            "depth": self.depth,
            "regions": sorted(self.regions),
            "xpath": self.xpath,
        }


@dataclass(slots=True)
class Block:
    """One paragraph or line of a page.

    ``kind`` names the source structure: ``"line"`` for a line of a text dump, the HTML
    tag of the enclosing block element (``"p"``, ``"li"``, ``"h1"``, …) for HTML, and
    ``"title"`` / ``"line"`` for livedoor articles. ``gap_before`` / ``gap_after`` count
    the blank lines around a text-dump line (0 for HTML).
    """

    index: int
    text: str
    start: int
    end: int
    kind: str
    gap_before: int = 0
    gap_after: int = 0
    dom: DomContext | None = None

    @property
    def key(self) -> str:
        """A short hash of the block text; annotations use it to detect drift."""
        return text_hash(self.text)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "index": self.index,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
        }
        if self.dom is None:
            out["gap_before"] = self.gap_before
            out["gap_after"] = self.gap_after
        else:
            out["dom"] = self.dom.to_json()
        return out


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence inside block ``block``; ``start``/``end`` are page offsets."""

    block: int
    start: int
    end: int
    text: str

    def to_json(self) -> dict[str, object]:
        return {"block": self.block, "start": self.start, "end": self.end, "text": self.text}


@dataclass(slots=True)
class Page:
    """One document: its normalised text and the blocks that cover it.

    ``format`` is ``"text"``, ``"html"`` or ``"livedoor"``; ``meta`` holds what the
    loader knew (url, date, title, category, encoding, …).
    """

    doc_id: str
    source: str
    format: str
    text: str
    blocks: list[Block]
    meta: dict[str, str] = field(default_factory=dict)
    _sentences: list[Sentence] | None = field(default=None, repr=False)

    @property
    def sentences(self) -> list[Sentence]:
        """Sentences of every block, in order (computed once, on first use)."""
        if self._sentences is None:
            self._sentences = split_page(self)
        return self._sentences

    def sentences_of(self, blocks: set[int]) -> list[Sentence]:
        """Sentences of the blocks whose index is in ``blocks``, in order: what
        :attr:`sentences` holds of them. Scoring tags only the body blocks' sentences, a
        small part of a web page's, so they are split alone unless all are already."""
        if self._sentences is not None:
            return [s for s in self._sentences if s.block in blocks]
        return split_page(self, blocks)

    def content_hash(self) -> str:
        """SHA-256 of everything a loader made of the page (text, blocks with their DOM
        context, meta): what the features computed from it depend on."""
        doc = self.to_json(sentences=False)
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()

    def to_json(self, sentences: bool = True) -> dict[str, object]:
        out: dict[str, object] = {
            "doc_id": self.doc_id,
            "source": self.source,
            "format": self.format,
            "meta": self.meta,
            "blocks": [b.to_json() for b in self.blocks],
        }
        if sentences:
            out["sentences"] = [s.to_json() for s in self.sentences]
        return out


def split_page(page: Page, only: set[int] | None = None) -> list[Sentence]:
    """Sentences of every block of ``page`` (or of the blocks whose index is in ``only``),
    with page offsets and their block index."""
    out: list[Sentence] = []
    for block in page.blocks:
        if only is not None and block.index not in only:
            continue
        text = block.text
        base = block.start
        for s, e in split_text(text):
            out.append(Sentence(block.index, base + s, base + e, text[s:e]))
    return out


def text_hash(text: str) -> str:
    """First 16 hex digits of the SHA-1 of ``text`` (UTF-8): a drift check, not security."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def assemble(
    doc_id: str,
    source: str,
    fmt: str,
    pieces: list[tuple[str, str, DomContext | None]],
    meta: dict[str, str] | None = None,
) -> Page:
    """Build a Page from ``(text, kind, dom)`` pieces (already normalised, non-empty).

    The page text is the pieces joined by ``"\\n"``; offsets are computed here, once, so
    no loader can get them wrong.
    """
    blocks: list[Block] = []
    parts: list[str] = []
    pos = 0
    for text, kind, dom in pieces:
        blocks.append(Block(len(blocks), text, pos, pos + len(text), kind, dom=dom))
        parts.append(text)
        pos += len(text) + 1
    return Page(doc_id, source, fmt, "\n".join(parts), blocks, dict(meta or {}))
