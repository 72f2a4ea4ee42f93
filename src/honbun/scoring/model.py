"""Scoring pages with a trained bundle: the one code path behind the CLI, the Python API,
MLflow serving and Spark.

A page is read and featurised (:func:`prepare_page`: the per-page half), then the models
run once over a batch of prepared pages (:func:`score_prepared`): the block model gives
each block's body probability, the decision rules settle the label
(:mod:`honbun.boilerplate.rules`), the role model the role, and the topic tagger scores
the body sentences. Results are :mod:`honbun.scoring.results` dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from honbun.boilerplate.roles import default_role
from honbun.boilerplate.rules import Decided, decide
from honbun.errors import PageError
from honbun.features.prepared import PreparedPage, prepare, text_view
from honbun.features.repetition import SiteContext
from honbun.features.text import page_items
from honbun.read.page import Page
from honbun.read.sites import site_of
from honbun.read.tokens import Token, block_tokens
from honbun.scoring.bundle import ModelBundle, load_scoring_bundle
from honbun.scoring.results import PAGE_FIELDS, Result
from honbun.topics.model import rollup


class Model:
    """A loaded bundle that scores pages. Build it with :func:`honbun.load_model`.

    ``context``: see :meth:`with_site_context`; None scores each page by itself.
    ``body_only``: the pages are article text already (one paragraph per line, no
    navigation): every block is body and only the topics are scored.
    """

    def __init__(
        self, bundle: ModelBundle, context: SiteContext | None = None, body_only: bool = False
    ) -> None:
        self.bundle = bundle
        self.context = context
        self.body_only = body_only

    def as_body_only(self) -> Model:
        """The same model for pages that are article text already (every block body)."""
        return self._as(True)

    def _as(self, body_only: bool | None) -> Model:
        """This model, or the same with ``body_only`` set (None: as it is)."""
        if body_only is None or body_only == self.body_only:
            return self
        return Model(self.bundle, self.context, body_only)

    def with_site_context(self, items: Iterable[Page | PageError | str | Path]) -> Model:
        """This model scoring against the site context of ``items`` (pages or paths).

        Every item is read once here to count which block texts repeat across its site's
        pages (:mod:`honbun.features.repetition`); then score the same items with the returned
        model. A site's boilerplate is recognised from its own pages, so a page's result
        depends on the other pages given. Items that cannot be read are skipped here and
        get their error record when scored; each read has the per-page time limit.
        """
        from honbun.read.files import load_page
        from honbun.scoring.batch import guarded

        ctx = SiteContext()
        for item in items:
            if isinstance(item, PageError):  # a reader's error: no page to count
                continue
            page = (
                item
                if isinstance(item, Page)
                else guarded(str(item), lambda item=item: load_page(item))
            )
            if isinstance(page, Page):  # else an error record: scoring reports it
                ctx.add(page)
        return Model(self.bundle, ctx, self.body_only)

    @property
    def name(self) -> str:
        return self.bundle.name

    def score(
        self, page: Page | str | Path, explain: bool = False, body_only: bool | None = None
    ) -> Result:
        """Score one page (a Page, or a path to a page file); ``body_only``: the page is
        article text already (every block body, only topics are scored)."""
        model = self._as(body_only)
        return model.score_prepared([model.prepare(page)], explain)[0]

    def prepare(self, page: Page | str | Path) -> Prepared:
        """Read (a path) and featurise one page: the per-page half of :meth:`score`."""
        from honbun.read.files import check_size, load_page

        page = check_size(page) if isinstance(page, Page) else load_page(page)
        return prepare_page(self.bundle, page, self.body_only)

    def score_prepared(self, pages: list[Prepared], explain: bool = False) -> list[Result]:
        """Results of pages from :meth:`prepare`, the models run once over all of them."""
        return score_prepared(self.bundle, pages, explain, self.context)

    def score_many(
        self,
        items: Iterable[Page | str | Path],
        jobs: int = 1,
        explain: bool = False,
        body_only: bool | None = None,
    ) -> Iterator[Result]:
        """Score many pages (or paths) in input order, with ``jobs`` worker processes.

        Pages are scored in chunks of 16 (each result as scoring its page alone gives),
        so a result comes once its chunk is done. Failed pages yield error records (see
        :func:`error_result`) instead of raising. ``body_only`` as in :meth:`score`.
        """
        from honbun.scoring.batch import score_stream

        yield from score_stream(self._as(body_only), items, jobs=jobs, explain=explain)


def load_model(path_or_uri: str | Path = "models/default", labels: Any = None) -> Model:
    """Load a model directory (``models/<name>``) or an MLflow model URI (``models:/…``, ``runs:/…``).

    What is loaded is the models' numpy export (``scoring.pkl``): scoring does not import
    scikit-learn.
    """
    s = str(path_or_uri)
    if s.startswith(("models:/", "runs:/", "mlflow-artifacts:", "file://")):
        from honbun.scoring.registry import download_bundle

        return Model(load_scoring_bundle(download_bundle(s), labels))
    return Model(load_scoring_bundle(s, labels))


@dataclass
class Prepared:
    """A page read and featurised, waiting for the models: the per-page half of scoring."""

    page: Page
    # The block model that reads it: "html", "text", or "" (none: a topic-only bundle, or
    # a page given as article text, body_only).
    kind: str
    features: PreparedPage | None
    tokens: list[list[Token]]  # each block's tokens; sentences are cut from them


def prepare_page(bundle: ModelBundle, page: Page, body_only: bool = False) -> Prepared:
    """Tokenise and featurise ``page`` for ``bundle`` (see :func:`score_prepared`).

    The page's site (:func:`~honbun.read.sites.site_of`: its canonical URL's host) is the
    key training counted its site's pages under, so the repetition feature sees the
    training pages of the page's own site, as it did in training. ``body_only``: no block
    model reads the page; every block is body.
    """
    tokens = [block_tokens(b.text) for b in page.blocks]
    if bundle.html_model is None or body_only:
        return Prepared(page, "", None, tokens)
    site = site_of(page)
    # Hashed counts are left to the models' step, which hashes a whole batch at once.
    if any(b.dom is not None for b in page.blocks):
        features = prepare(page, bundle.block_cfg.features, site, tokens, hashed=False)
        return Prepared(page, "html", features, tokens)
    features = prepare(text_view(page), bundle.text_cfg.features, site, tokens, hashed=False)
    return Prepared(page, "text", features, tokens)


def score_page(bundle: ModelBundle, page: Page, explain: bool = False) -> Result:
    """Blocks with body probability and role, the clean article, sentence/paragraph/document topics."""
    return score_prepared(bundle, [prepare_page(bundle, page)], explain)[0]


def score_prepared(
    bundle: ModelBundle,
    pages: list[Prepared],
    explain: bool = False,
    context: SiteContext | None = None,
) -> list[Result]:
    """Results of prepared pages, in order. Each page gets exactly what scoring it alone
    gives (a test checks), or with a ``context`` what that site context gives; the models
    run once over all of them, which saves their per-call overhead when a batch is scored
    in chunks."""
    p_model = _body_probabilities(bundle, pages, context)
    decided = _decisions(bundle, pages, p_model)
    is_body = [
        (d.p >= bundle.block_cfg.threshold).astype(int) if pr.kind else np.ones(len(d.p), int)
        for pr, d in zip(pages, decided, strict=True)
    ]  # a page no block model reads (body_only, topic-only bundle): every block is body
    labels = bundle.labels
    positive = labels.positive
    negative = next(x for x in labels.block_labels if x != positive)
    roles = _roles(bundle, pages, [d.p for d in decided], is_body, positive, negative)
    results = []
    for pr, p, d, y, r in zip(pages, p_model, decided, is_body, roles, strict=True):
        page = pr.page
        result: Result = {
            "doc_id": page.doc_id,
            "source": page.source,
            "format": page.format,
            "model": bundle.name,
        }
        for key in PAGE_FIELDS:  # what the reader knew: a canonical or crawled URL, a date
            if page.meta.get(key):
                result[key] = page.meta[key]
        blocks = []
        for b, pi, why, yi, ri in zip(page.blocks, p.tolist(), d.rule, y.tolist(), r, strict=True):
            block = {
                "index": b.index,
                "text": b.text,
                "start": b.start,
                "end": b.end,
                "label": positive if yi else negative,
                "p_body": round(pi, 4),
                "role": ri,
            }
            if why:
                block["rule"] = why
            blocks.append(block)
        body_idx = [i for i, yi in enumerate(y) if yi]
        titles = [i for i in body_idx if r[i] == "title"]
        order = titles[:1] + [i for i in body_idx if i not in titles[:1]]
        result["title"] = page.blocks[titles[0]].text if titles else None
        result["body_text"] = "\n".join(page.blocks[i].text for i in order)
        result["blocks"] = blocks
        results.append(result)
    bodies = [{i for i, yi in enumerate(y) if yi} for y in is_body]
    for result, topics in zip(results, _topics(bundle, pages, bodies, explain), strict=True):
        result.update(topics)
    return results


def _of_kind(pages: list[Prepared], kind: str) -> list[int]:
    """Indices of the pages that the ``kind`` ("html"/"text") models score: that kind,
    with blocks."""
    return [i for i, pr in enumerate(pages) if pr.kind == kind and pr.page.blocks]


def _body_probabilities(
    bundle: ModelBundle, pages: list[Prepared], context: SiteContext | None = None
) -> list[np.ndarray]:
    """Each page's ``(n_blocks,)`` body probabilities from the block model of its kind,
    before the rules (1 for a topic-only bundle)."""
    out = [np.ones(len(pr.page.blocks)) for pr in pages]
    for kind, model in (("html", bundle.html_model), ("text", bundle.text_model)):
        at = _of_kind(pages, kind)
        if at and model is not None:
            features = [_features(pages[i]) for i in at]
            proba = model.predict_proba(features, alone=True, context=context)
            for i, p in zip(at, proba, strict=True):
                out[i] = p
    return out


def _decisions(
    bundle: ModelBundle, pages: list[Prepared], p_model: list[np.ndarray]
) -> list[Decided]:
    """The decision rules of each page's block model over its probabilities."""
    out = [Decided(p, [""] * len(p)) for p in p_model]
    for kind, model in (("html", bundle.html_model), ("text", bundle.text_model)):
        at = _of_kind(pages, kind)
        if at and model is not None:
            cfg = model.cfg
            found = decide(
                cfg.rules, cfg.features, [_features(pages[i]) for i in at], [p_model[i] for i in at]
            )
            for i, d in zip(at, found, strict=True):
                out[i] = d
    return out


def _features(pr: Prepared) -> PreparedPage:
    assert pr.features is not None  # pages of a kind with a block model are featurised
    return pr.features


def _roles(
    bundle: ModelBundle,
    pages: list[Prepared],
    p_body: list[np.ndarray],
    is_body: list[np.ndarray],
    positive: str,
    negative: str,
) -> list[list[str]]:
    """Each block's role: from the role model of the page's kind where there is one; on a
    page no block model reads, its article title (a ``title`` block) and paragraphs."""
    out = [[default_role(y) for y in ys] for ys in is_body]
    for i, pr in enumerate(pages):
        if not pr.kind:
            out[i] = ["title" if b.kind == "title" else "paragraph" for b in pr.page.blocks]
    for kind, model in (bundle.role_model or {}).items():
        at = _of_kind(pages, kind)
        if at and model is not None:
            found = model.predict(
                [_features(pages[i]) for i in at],
                [p_body[i] for i in at],
                [is_body[i] for i in at],
                positive,
                negative,
            )
            for i, r in zip(at, found, strict=True):
                out[i] = r
    return out


def _topics(
    bundle: ModelBundle, pages: list[Prepared], bodies: list[set[int]], explain: bool
) -> list[Result]:
    """Sentence, paragraph and document topics of each page's body sentences."""
    names = list(bundle.labels.topic_names)
    tagger = bundle.topic_model
    if tagger is None:
        return [{"sentences": [], "paragraphs": [], "topics": {}, "labels": []} for _ in pages]
    sents = [pr.page.sentences_of(body) for pr, body in zip(pages, bodies, strict=True)]
    items = [
        page_items(pr.page, ss, tagger.cfg.stop_pos, pr.tokens) if ss else []
        for pr, ss in zip(pages, sents, strict=True)
    ]
    flat = [it for its in items for it in its]
    groups = np.repeat(np.arange(len(items)), [len(its) for its in items])  # each page whole
    proba = tagger.predict_proba(flat, groups) if flat else np.zeros((0, len(names)))
    explanations = tagger.explain(flat) if explain and flat else []
    thr = tagger.thresholds_.tolist()

    def scores(row: list[float]) -> Result:
        # Python floats (tolist): rounding numpy scalars one by one cost ~3 % of scoring.
        return {
            "topics": {n: round(v, 4) for n, v in zip(names, row, strict=True)},
            "labels": [n for n, v, t in zip(names, row, thr, strict=True) if v >= t],
        }

    out, k = [], 0
    for ss in sents:
        if not ss:
            empty = {"topics": dict.fromkeys(names, 0.0), "labels": []}
            out.append({"sentences": [], "paragraphs": [], **empty})
            continue
        P = proba[k : k + len(ss)]
        sentences = []
        for j, (s, row) in enumerate(zip(ss, P.tolist(), strict=True)):
            rec: Result = {"block": s.block, "start": s.start, "end": s.end, "text": s.text}
            rec.update(scores(row))
            if explain:
                rec["explanation"] = {
                    lab: explanations[k + j].get(lab, []) for lab in rec["labels"]
                }
            sentences.append(rec)
        paragraphs = [
            {"block": blk, **scores(row.tolist())}
            for blk, row in sorted(rollup(P, [s.block for s in ss]).items())
        ]
        out.append(
            {
                "sentences": sentences,
                "paragraphs": paragraphs,
                **scores(rollup(P, [0] * len(ss))[0].tolist()),
            }
        )
        k += len(ss)
    return out
