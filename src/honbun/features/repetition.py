"""Cross-page repetition: how many other pages of a site hold a block's exact text.

A site's navigation, notices and promos repeat on its pages; its articles do not
(CCNet-style line deduplication, as a feature). :class:`Repetition` counts the training
pages per site (fitted inside each training fold, so cross-validation never sees the test
fold) and, at scoring time, the other pages of the same site in the batch.

:class:`SiteContext` holds those batch counts when a whole input is read first
(``honbun score --site-context``): every page of a site is then scored against the others,
so a site the model never saw still gets help. A page's site is
:func:`honbun.read.sites.site_of`; pages without one get no context. The result for a page
then depends on the other pages given, which is why this is opt-in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from honbun.features.prepared import PreparedPage, block_keys
from honbun.read.page import Page
from honbun.read.sites import site_of


def counted(page: Page) -> tuple[str, list[str]] | None:
    """What a site context counts of ``page``: its site and block keys; None for a page
    without a site (it would lump every site-less page into one "site")."""
    site = site_of(page)
    return (site, block_keys(page)) if site else None


@dataclass
class SiteContext:
    """Per site, how many of the batch's pages hold each block key, and how many pages.

    Built over the same pages that are then scored (each page counts itself once, which
    the repetition feature subtracts).
    """

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    pages: Counter[str] = field(default_factory=Counter)

    def add(self, page: Page) -> None:
        """Count one page (nothing for a page without a site)."""
        entry = counted(page)
        if entry is not None:
            self.add_keys(*entry)

    def add_keys(self, site: str, keys: list[str]) -> None:
        """Count one page of ``site`` with these block keys (each key once per page)."""
        self.counts.setdefault(site, Counter()).update(set(keys))
        self.pages[site] += 1

    @classmethod
    def of(cls, pages: Iterable[Page]) -> SiteContext:
        ctx = cls()
        for page in pages:
            ctx.add(page)
        return ctx


# ----------------------------------------------------------------------- repetition
class Repetition:
    """How many *other* pages of the same site contain a block's exact text.

    CCNet-style line deduplication as a feature. Counts come from the training pages
    (fitted here, so in cross-validation it never sees the test fold) plus the other
    pages of the same site in the batch being scored, so a held-out site's boilerplate
    is recognised across its own pages. Columns: log1p(count), log1p(other pages).
    """

    COLUMNS = 2

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self.pages: Counter[str] = Counter()

    @staticmethod
    def _count(pages: list[PreparedPage]) -> SiteContext:
        """The pages' counts by their prepared site (pages without a site count as one)."""
        ctx = SiteContext()
        for p in pages:
            ctx.add_keys(p.site, p.keys)
        return ctx

    def fit(self, pages: list[PreparedPage]) -> Repetition:
        ctx = self._count(pages)
        self.counts, self.pages = ctx.counts, ctx.pages
        return self

    def transform(
        self, pages: list[PreparedPage], in_training: bool, context: SiteContext | None = None
    ) -> np.ndarray:
        """``(total blocks, COLUMNS)``; training pages are not counted twice.

        With a ``context`` (built over a batch that includes ``pages``), its counts stand
        for the batch's, so each page gets the same whichever chunk it is scored in.
        """
        if context is None:
            context = SiteContext() if in_training else self._count(pages)
        rows = []
        for p in pages:
            batch = context
            if not in_training and not context.pages[p.site]:
                # A page the context does not hold (it has no site) counts itself alone,
                # so it scores as it does without a context.
                batch = self._count([p])
            c, b = self.counts.get(p.site, Counter()), batch.counts.get(p.site, Counter())
            others = self.pages[p.site] + batch.pages[p.site] - 1
            n = np.array([c[k] + b[k] - 1 for k in p.keys], dtype=np.float32)
            rows.append(np.column_stack([np.log1p(np.maximum(n, 0)), np.full(p.n, others)]))
        if not rows:
            return np.zeros((0, self.COLUMNS), np.float32)
        return np.vstack(rows).astype(np.float32)
