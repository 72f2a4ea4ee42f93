"""A page prepared for the block models: everything they read of it, computed once.

:func:`prepare` tokenises nothing itself (it takes each block's tokens, or makes them) and
computes the dense block features (:mod:`honbun.features.blocks`), the DOM-token and lemma
strings, the normalised block keys that the repetition feature counts, and the hashed bags
(:mod:`honbun.features.bags`). That is the label-free, per-page cost of scoring.
:func:`text_view` is how the text-only model sees any page: no DOM and no ``<title>``.

Shapes: ``PreparedPage.dense`` is ``(n_blocks, n_features)``; a batch's blocks are stacked
page after page, and :func:`split_rows` cuts such a stack back into one array per page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from honbun.features.bags import hash_blocks
from honbun.features.blocks import (
    FeatureConfig,
    PageStructure,
    dom_strings,
    page_features,
    page_structure,
)
from honbun.features.hashing import Counts
from honbun.read.normalize import compact
from honbun.read.page import Page
from honbun.read.tokens import Token, block_tokens


def block_keys(page: Page) -> list[str]:
    """The page's normalised block texts, the keys the repetition feature counts."""
    return [compact(b.text) for b in page.blocks]


@dataclass
class PreparedPage:
    """One page with everything the model reads, computed once."""

    page: Page
    site: str
    dense: np.ndarray  # (n_blocks, n_features) float32
    dom: list[str]  # DOM tokens per block
    lemmas: list[str]  # space-joined content lemmas per block
    keys: list[str]  # normalised block texts, for cross-page repetition
    # Raw counts of the sparse families as (row, column, count) triples; columns index
    # the concatenated 2**HASH_BITS ranges of dom, lemma, char (see hash_blocks).
    hashed: Counts | None = None

    @property
    def n(self) -> int:
        return len(self.page.blocks)

    @property
    def lengths(self) -> np.ndarray:
        """Characters per block, ``(n_blocks,)`` float."""
        return np.array([len(b.text) for b in self.page.blocks], dtype=float)

    @cached_property
    def structure(self) -> PageStructure:
        """The page's DOM structure (ancestors, containers, template slots), made on first
        use: the stage-2 features of every stack read it."""
        return page_structure(self.page.blocks)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "structure"}  # derived


def _lemma_string(tokens: list[Token]) -> str:
    return " ".join([t.lemma for t in tokens if t.pos1 != "空白"])


def prepare(
    page: Page,
    features: FeatureConfig,
    site: str = "",
    tokens: list[list[Token]] | None = None,
    hashed: bool = True,
) -> PreparedPage:
    """Tokenise and featurise one page (the per-page cost of scoring) with the feature
    families ``features`` switches on. ``tokens``: each block's
    :func:`~honbun.read.tokens.block_tokens`, when the caller already has them.
    ``hashed=False`` leaves the hashed counts to :func:`stacked_counts`, which hashes a
    batch of such pages in one pass."""
    if tokens is None:
        tokens = [block_tokens(b.text) for b in page.blocks]
    dom = dom_strings(page) if features.dom else ["" for _ in page.blocks]
    lemmas = [_lemma_string(t) for t in tokens]
    # The structure features and the stage-2 features read the same PageStructure: made
    # once here when the page has a DOM (else only if stage 2 asks, which it does not).
    blocks = page.blocks
    has_dom = features.dom and bool(blocks) and all(b.dom is not None for b in blocks)
    structure = page_structure(blocks) if has_dom else None
    prepared = PreparedPage(
        page=page,
        site=site or page.meta.get("site", ""),
        dense=page_features(page, tokens, features, structure),
        dom=dom,
        lemmas=lemmas,
        keys=block_keys(page),
        hashed=hash_blocks(dom, lemmas, [b.text for b in page.blocks]) if hashed else None,
    )
    if structure is not None:
        prepared.structure = structure  # fills the cached property
    return prepared


def text_view(page: Page) -> Page:
    """``page`` as the text-only model sees every page: no DOM and no ``<title>``.

    A text dump has neither, and the text model is trained on exactly such views (HTML
    pages rendered to text, and the text dumps), so scoring gives it the same view: a
    livedoor article's title meta would only feed columns the model never saw filled.
    """
    has_dom = any(b.dom is not None for b in page.blocks)
    if "title" not in page.meta and not has_dom:
        return page
    meta = {k: v for k, v in page.meta.items() if k != "title"}
    blocks = [replace(b, dom=None) for b in page.blocks] if has_dom else page.blocks
    return Page(page.doc_id, page.source, "text", page.text, blocks, meta)


def as_text_page(p: PreparedPage, features: FeatureConfig) -> PreparedPage:
    """The same page as a text dump would show it (:func:`text_view`), prepared."""
    return prepare(text_view(p.page), features, p.site)


# ------------------------------------------------------------------------ designs
def hashed_counts(p: PreparedPage) -> Counts:
    """``p.hashed``, or computed now (a page prepared with ``hashed=False``)."""
    if p.hashed is None:
        return hash_blocks(p.dom, p.lemmas, [b.text for b in p.page.blocks])
    return p.hashed


def stacked_counts(pages: list[PreparedPage]) -> Counts:
    """The pages' hashed counts as one set of triples, rows numbered across the pages.

    When no page carries its counts yet (batch scoring), all blocks are hashed in one
    pass: n-grams never span blocks, so each block gets the counts its page alone
    gives, and the triples of a block come in the same order (family, then column).
    """
    if pages and all(p.hashed is None for p in pages):
        return hash_blocks(
            [d for p in pages for d in p.dom],
            [x for p in pages for x in p.lemmas],
            [b.text for p in pages for b in p.page.blocks],
        )
    rows, cols, counts, offset = [], [], [], 0
    for p in pages:
        r, c, n = hashed_counts(p)
        rows.append(r + offset)
        cols.append(c)
        counts.append(n)
        offset += p.n
    if not rows:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(counts)


# ------------------------------------------------------------------------ the model
def split_rows(values: np.ndarray, pages: list[PreparedPage]) -> list[np.ndarray]:
    out, pos = [], 0
    for p in pages:
        out.append(values[pos : pos + p.n])
        pos += p.n
    return out


def block_groups(pages: list[PreparedPage]) -> np.ndarray:
    return np.concatenate([np.full(p.n, i) for i, p in enumerate(pages)])
