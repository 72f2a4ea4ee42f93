"""The body-vs-boilerplate block classifier.

Pipeline, top to bottom:

1. :func:`prepare` — tokenise each block once and compute its dense features, DOM tokens,
   lemma string, normalised key and hashed sparse bag (DOM tokens, lemma uni/bigrams,
   character 2/3-grams) — the expensive, label-free part, done once per page.
2. ``logreg`` — a linear model (L2-penalised logistic loss, solved by L-BFGS or averaged
   SGD: ``linear_solver``) over clipped scaled dense features + DOM-token bag + TF-IDF of
   lemma n-grams and character n-grams (document frequencies and IDF are fitted on the
   training pages). ``hgb`` — histogram gradient boosting over the dense features (+
   repetition).
3. ``stacked`` — the linear model is stage 1; stage 2 is gradient boosting over the dense
   features plus the stage-1 scores of neighbours, windows, the block's template group,
   its container and the page (out-of-fold during training, folds grouped by site, so
   stage 2 learns from honest scores). Stage 2's decision threshold is tuned on its own
   out-of-fold scores (mean per-page character F1) and folded into the probabilities,
   so that ``p >= 0.5`` is the tuned decision. With ``stack_rounds = N`` there are N such
   gradient-boosted rounds, each over the scores of every stage before it (auto-context);
   ``inner_folds`` sets the number of site folds behind the out-of-fold scores.

Estimator API in scikit-learn's spirit: ``fit(pages, labels)`` and
``predict_proba(pages)``, where ``pages`` is a list of :class:`PreparedPage` and labels
and probabilities are one 1-D array per page (``1`` = body).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from honbun.block_features import (
    FeatureConfig,
    _signature,
    dom_strings,
    feature_names,
    page_features,
)
from honbun.hashing import Counts, chars_flat, ngram_counts_flat, words_flat
from honbun.normalize import squeeze_spaces
from honbun.page import Page
from honbun.site_context import SiteContext, block_keys
from honbun.tokens import Token, block_tokens

if TYPE_CHECKING:  # scipy is imported where it is used: scoring does without it
    import scipy.sparse as sp

STACK_WINDOW = (1, 2, 3, 5)  # neighbour offsets whose stage-1 probability stage 2 sees
STACK_SMOOTH = (2, 5, 10)  # half-widths of windows whose mean/max stage 2 sees
MAX_NGRAM_CHARS = 1000  # characters of a block whose character n-grams are hashed
HASH_BITS = {"dom": 16, "lemma": 18, "char": 18}  # hashed columns per sparse family (log2)
HASH_NGRAMS = {"dom": (1, 1), "lemma": (1, 2), "char": (2, 3)}  # n-gram orders per family
HASH_SALT = {"dom": 3, "lemma": 4, "char": 5}  # so the families hash differently
MIN_DF = {"dom": 2, "lemma": 2, "char": 3}  # training-page document frequency to keep a column
DENSE_CLIP = 5.0  # scaled dense features are clipped to +-this for the linear model
SGD_EPOCHS = 30  # passes of averaged SGD for the linear model
HIGH_P = 0.5  # a stage-1 score at least this marks a likely body block (span features)
THRESHOLD_GRID = np.round(np.arange(0.1, 0.91, 0.025), 3)  # stage-2 thresholds tried
DECISION = 0.5  # the tuned threshold is mapped to this probability
CONTAINER_MIN_BLOCKS = 3  # an ancestor must hold this many blocks to count as a container
STAGE1_KINDS = ("linear", "hgb", "both")
LINEAR_SOLVERS = ("sgd", "lbfgs")
MIN_COUNTS = {"linear_seeds": 1, "inner_folds": 2, "stack_rounds": 1}  # count settings' minimum
LBFGS_MAX_ITER = 1000  # L-BFGS iterations for the linear model (it needs about 80 on all pages)


def _stack_variants(value: Any, refit: bool) -> tuple[tuple[int, int], ...]:
    """``stack_variants`` from the config: ``[[rounds, inner folds], ...]``, checked."""
    out = []
    for item in value:
        if (
            len(item) != 2
            or int(item[0]) < MIN_COUNTS["stack_rounds"]
            or int(item[1]) < MIN_COUNTS["inner_folds"]
        ):
            raise ValueError(
                f"[boilerplate] stack_variants are [rounds >= 1, inner folds >= 2]: {item}"
            )
        out.append((int(item[0]), int(item[1])))
    if out and not refit:
        raise ValueError("[boilerplate] stack_variants need refit = true")
    return tuple(out)


@dataclass
class ModelConfig:
    """Settings of the block model; built from the ``[boilerplate]`` config table."""

    model: str = "stacked"  # "logreg" | "hgb" | "stacked"
    features: FeatureConfig = field(default_factory=FeatureConfig)
    lexical: bool = True
    repetition: bool = True
    threshold: float = 0.5
    C: float = 5.0  # stage-1 inverse regularisation (SGD alpha = 1 / (C * n_blocks))
    hgb_max_iter: int = 150
    hgb_learning_rate: float = 0.1
    hgb_max_leaf_nodes: int = 31
    hgb_max_bins: int = 63
    hgb_l2: float = 1.0
    seed: int = 13
    # Loss weights. The article score is over characters, so a block weighs by its length
    # relative to its page's mean (length_weight 1.0); body blocks count twice (pos_weight)
    # because a missed paragraph costs more than a kept caption. Grouped 10-fold by site:
    # char3 F1 0.844 -> 0.914 with both and min_body (see README, "How it works").
    pos_weight: float = 2.0  # weight of body blocks in the gradient-boosting loss
    length_weight: float = 1.0  # sample weight grows as (block chars / page mean) ** this
    tune_threshold: bool = True  # tune stage 2's threshold on its out-of-fold scores
    stage1: str = "linear"  # stacked stage 1: "linear" | "hgb" (dense only) | "both"
    linear_solver: str = "sgd"  # "sgd" (averaged SGD) | "lbfgs" (exact, seed-free optimum)
    linear_seeds: int = 1  # SGD runs whose weights the linear model averages (sgd only)
    # Decision rules after the models (honbun.rules): the drops, then min_body, keep_headline,
    # keep_subheadings, keep_post_text, keep_under_headline, keep_embedded_posts and the cuts.
    drop_datelines: bool = True  # a block that is only a date/time stamp is not body
    drop_captions: bool = True  # nor is a block opened by a caption label (写真：…)
    drop_title_echo: bool = True  # nor a verbatim copy of "<title>" with its site name
    drop_prompts: bool = True  # nor a short sign-in/subscription prompt (会員限定です)
    drop_promos: bool = True  # nor a short read-also or ranking heading (あわせて読みたい)
    drop_post_headers: bool = True  # nor a 2ch post header (1：名無しさん：21/10/19(火)…)
    drop_reprint_notes: bool = True  # nor a copyright/reprint note (無断転載を禁じます)
    drop_regions: bool = True  # nor a block inside <nav>, <aside> or <footer>
    drop_classes: bool = True  # nor one in an element classed comments, calendar, sidebar…
    min_body: bool = True  # every page keeps its most likely block (and its slot) as body
    keep_headline: bool = True  # the heading that repeats the page's <title> stays body
    keep_subheadings: bool = True  # a short <h2>-<h6> between body blocks stays body
    keep_post_text: bool = True  # the line after a 2ch post header (the post) is body
    keep_under_headline: bool = True  # a lone headline keeps the text lines right below it
    keep_embedded_posts: bool = True  # the text of a tweet quoted in the article is body
    cut_at_paywall: bool = True  # nothing after a paywall notice (残り977文字) is body
    cut_at_ranking_banner: bool = True  # nor after a blog-ranking banner closing a post
    stage2_neighbours: bool = True  # stage 2 also sees the neighbours' dense features
    # Share of a plain gradient-boosted model on the dense features (the "hgb" model) in
    # the stacked model's body probability, averaged in before the rules (0: stacked only).
    blend_hgb: float = 0.0
    refit: bool = True  # refit both stages on all pages; False: average the inner-fold models
    # Stacking rounds (auto-context): round r's gradient boosting sees the window, group and
    # container features of the scores of every earlier round, latest first (1: stage 2 only).
    stack_rounds: int = 1
    inner_folds: int = 3  # grouped folds (by site) for the out-of-fold scores stages learn from
    # Further stacks, (rounds, inner folds) each, fitted over the same stage 1 and averaged
    # with the one above: each split of the sites behind the out-of-fold scores moves whole
    # pages its own way, and the average moves fewer (empty: the one stack only).
    stack_variants: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any], seed: int = 13) -> ModelConfig:
        d = dict(d)
        feats = FeatureConfig.from_dict(d.pop("features", {}))
        known = set(cls.__dataclass_fields__) - {"features"}
        bad = set(d) - known
        if bad:
            raise ValueError(f"[boilerplate] unknown settings: {sorted(bad)}")
        d.setdefault("seed", seed)
        if d.get("model", "stacked") not in ("logreg", "hgb", "stacked"):
            raise ValueError(f"[boilerplate] model must be logreg, hgb or stacked: {d['model']}")
        if not 0.0 <= float(d.get("blend_hgb", 0.0)) < 1.0:
            raise ValueError(f"[boilerplate] blend_hgb must be in [0, 1): {d['blend_hgb']}")
        for key, low in MIN_COUNTS.items():  # the defaults all meet their minimum
            if key in d and int(d[key]) < low:
                raise ValueError(f"[boilerplate] {key} must be >= {low}: {d[key]}")
        if d.get("linear_solver", "sgd") not in LINEAR_SOLVERS:
            raise ValueError(
                f"[boilerplate] linear_solver must be one of {LINEAR_SOLVERS}: {d['linear_solver']}"
            )
        if d.get("linear_solver") == "lbfgs" and int(d.get("linear_seeds", 1)) != 1:
            raise ValueError("[boilerplate] linear_seeds is for linear_solver = 'sgd' only")
        if d.get("stage1", "linear") not in STAGE1_KINDS:
            raise ValueError(f"[boilerplate] stage1 must be one of {STAGE1_KINDS}: {d['stage1']}")
        if "stack_variants" in d:
            d["stack_variants"] = _stack_variants(d["stack_variants"], d.get("refit", True))
        return cls(features=feats, **d)


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


# ------------------------------------------------------------------------ preparing
def _family_slices() -> dict[str, tuple[int, int]]:
    out, lo = {}, 0
    for name, bits in HASH_BITS.items():
        out[name] = (lo, lo + 2**bits)
        lo += 2**bits
    return out


def _char_text(text: str) -> str:
    # Lower-cased, runs of white space as one space: "ＡＢＣ" and "ＡＢＣ  " share n-grams.
    return squeeze_spaces(text[:MAX_NGRAM_CHARS].lower())


def hash_blocks(dom: list[str], lemmas: list[str], texts: list[str]) -> Counts:
    """Hashed counts of the sparse families of a page's blocks, as ``(rows, cols, counts)``.

    ``rows`` are block indices, ``cols`` index ``sum(2 ** HASH_BITS)`` columns: DOM tokens,
    then lemma uni/bigrams, then character 2/3-grams (see :mod:`honbun.hashing`).
    """
    seqs = {
        "dom": words_flat(dom),
        "lemma": words_flat(lemmas),
        "char": chars_flat([_char_text(t) for t in texts]),
    }
    rows, cols, counts = [], [], []
    for name, (lo, _) in _family_slices().items():
        items, lens = seqs[name]
        r, c, n = ngram_counts_flat(
            items, lens, HASH_NGRAMS[name], HASH_BITS[name], HASH_SALT[name]
        )
        rows.append(r)
        cols.append(c + lo)
        counts.append(n)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(counts)


def _lemma_string(tokens: list[Token]) -> str:
    return " ".join([t.lemma for t in tokens if t.pos1 != "空白"])


def prepare(
    page: Page,
    cfg: ModelConfig,
    site: str = "",
    tokens: list[list[Token]] | None = None,
    hashed: bool = True,
) -> PreparedPage:
    """Tokenise and featurise one page (the per-page cost of scoring). ``tokens``: each
    block's :func:`~honbun.tokens.block_tokens`, when the caller already has them.
    ``hashed=False`` leaves the hashed counts to :func:`stacked_counts`, which hashes a
    batch of such pages in one pass."""
    if tokens is None:
        tokens = [block_tokens(b.text) for b in page.blocks]
    return _prepared(page, cfg, site or page.meta.get("site", ""), tokens, hashed)


def _prepared(
    page: Page, cfg: ModelConfig, site: str, tokens: list[list[Token]], hashed: bool
) -> PreparedPage:
    dom = dom_strings(page) if cfg.features.dom else ["" for _ in page.blocks]
    lemmas = [_lemma_string(t) for t in tokens]
    return PreparedPage(
        page=page,
        site=site,
        dense=page_features(page, tokens, cfg.features),
        dom=dom,
        lemmas=lemmas,
        keys=block_keys(page),
        hashed=hash_blocks(dom, lemmas, [b.text for b in page.blocks]) if hashed else None,
    )


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


def as_text_page(p: PreparedPage, cfg: ModelConfig) -> PreparedPage:
    """The same page as a text dump would show it (:func:`text_view`), prepared."""
    return prepare(text_view(p.page), cfg, p.site)


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


# ------------------------------------------------------------------ sparse weighting
class SparseDesign:
    """Column filter and weighting of the hashed families, fitted on training pages.

    ``dom`` stays binary; ``lemma`` and ``char`` become sublinear TF-IDF, L2-normalised
    per family. Columns seen on fewer than :data:`MIN_DF` training blocks are dropped.
    """

    def __init__(self, families: tuple[str, ...]) -> None:
        self.families = families
        self.keep: dict[str, np.ndarray] = {}
        self.idf: dict[str, np.ndarray] = {}

    def fit(self, X: sp.csr_matrix) -> SparseDesign:
        n = X.shape[0]
        for name in self.families:
            lo, hi = _family_slices()[name]
            sub = X[:, lo:hi]
            df = np.bincount(sub.indices, minlength=hi - lo)
            keep = np.flatnonzero(df >= MIN_DF[name])
            self.keep[name] = keep
            self.idf[name] = np.log((1 + n) / (1 + df[keep])) + 1.0
        return self

    def transform(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """``(n_blocks, kept columns)`` float32 CSR."""
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        mats = []
        for name in self.families:
            lo, hi = _family_slices()[name]
            sub = X[:, lo:hi][:, self.keep[name]].tocsr()
            if name == "dom":
                sub.data = np.minimum(sub.data, 1.0)
            else:
                sub.data = 1.0 + np.log(sub.data)
                sub = normalize(sub @ sp.diags(self.idf[name].astype(np.float32)))
            mats.append(sub)
        return sp.hstack(mats, format="csr", dtype=np.float32)


# ------------------------------------------------------------------ stage-2 features
def _stage2_frame(p: PreparedPage, width: int) -> tuple[np.ndarray, bool]:
    """A NaN ``(n_blocks, width)`` array, and whether the page has a DOM to fill it from."""
    out = np.full((p.n, width), np.nan)
    return out, bool(p.n) and p.page.blocks[0].dom is not None


def _expected_body_chars(proba: np.ndarray, lengths: np.ndarray) -> float:
    """Sum of p(body) × chars over the page (floored, it is a denominator)."""
    return max(1e-9, float(np.dot(proba, lengths)))


def container_features(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """Where each block sits relative to the likely article container, ``(n_blocks, 5)``.

    From the stage-1 body probabilities ``proba`` and block lengths, every DOM ancestor
    gets an expected body length ``S`` (sum of p × chars) and a purity ``S / chars``. The
    best container maximises coverage × purity (coverage = S / page S). Columns: inside
    the best container; its purity; purity of the block's nearest container (an ancestor
    with >= CONTAINER_MIN_BLOCKS blocks); mean probability of its siblings (same parent);
    best coverage × purity among the block's ancestors. NaN without a DOM.
    """
    out, has_dom = _stage2_frame(p, 5)
    if not has_dom:
        return out
    lengths = p.lengths
    chains = [b.dom.ancestors() if b.dom else [] for b in p.page.blocks]
    body: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for i, chain in enumerate(chains):
        for a in chain:
            body[a] += proba[i] * lengths[i]
            total[a] += lengths[i]
            count[a] += 1
    page_body = _expected_body_chars(proba, lengths)
    score = {a: (body[a] / page_body) * (body[a] / max(1.0, total[a])) for a in body}
    best = max(score, key=lambda a: (score[a], -len(a)))
    best_purity = body[best] / max(1.0, total[best])
    for i, chain in enumerate(chains):
        containers = [a for a in chain if count[a] >= CONTAINER_MIN_BLOCKS]
        near = containers[0] if containers else None
        parent = chain[1] if len(chain) > 1 else None
        sib = np.nan
        if parent is not None and count[parent] > 1:
            sib = (body[parent] - proba[i] * lengths[i]) / max(1.0, total[parent] - lengths[i])
        out[i] = [
            float(best in chain),
            best_purity,
            body[near] / max(1.0, total[near]) if near else np.nan,
            sib,
            max(score[a] for a in chain) if chain else np.nan,
        ]
    return out


def group_features(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """Stage-1 scores of the block's template group (same tag path and classes), ``(n, 3)``.

    Columns: the group's character-weighted mean score without the block itself, the
    group's highest other score (NaN for a block alone in its group), and the group's
    share of the page's expected body characters. NaN without a DOM.
    """
    out, has_dom = _stage2_frame(p, 3)
    if not has_dom:
        return out
    lengths = p.lengths
    groups: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(p.page.blocks):
        groups[_signature(b)].append(i)
    page_body = _expected_body_chars(proba, lengths)
    for members in groups.values():
        idx = np.array(members)
        w, s = lengths[idx], proba[idx]
        body = float(np.dot(w, s))
        out[idx, 2] = body / page_body
        if len(idx) < 2:
            continue
        sw = w.sum()
        out[idx, 0] = (body - w * s) / np.maximum(1.0, sw - w)
        top2 = np.sort(s)[-2:]
        out[idx, 1] = np.where(s >= top2[1], top2[0], top2[1])
    return out


def span_features(proba: np.ndarray) -> np.ndarray:
    """Position relative to the likely body blocks (stage-1 score >= HIGH_P), ``(n, 5)``.

    Columns: page max score, score minus page max, score / page max, log1p distance (in
    blocks) to the nearest likely body block (log1p(n) when there is none) and whether
    the block lies between the first and the last likely body block.
    """
    n = len(proba)
    top = float(proba.max()) if n else 0.0
    high = np.flatnonzero(proba >= HIGH_P)
    idx = np.arange(n)
    if len(high):
        dist = np.abs(idx[:, None] - high[None, :]).min(axis=1).astype(float)
        inside = (idx >= high[0]) & (idx <= high[-1])
    else:
        dist, inside = np.full(n, float(n)), np.zeros(n, dtype=bool)
    return np.column_stack(
        [np.full(n, top), proba - top, proba / max(top, 1e-9), np.log1p(dist), inside]
    )


def stack_features(p: PreparedPage, s1: np.ndarray) -> np.ndarray:
    """Stage-2 features of one page from its stage-1 scores ``s1`` ``(n, k)``."""
    n, k = s1.shape
    feats = [s1]
    for off in STACK_WINDOW:
        prev = np.vstack([np.full((off, k), -1.0), s1])[:n]
        nxt = np.vstack([s1, np.full((off, k), -1.0)])[off:]
        feats += [prev, nxt]
    csum = np.vstack([np.zeros((1, k)), np.cumsum(s1, axis=0)])
    idx = np.arange(n)
    for w in STACK_SMOOTH:
        lo, hi = np.maximum(0, idx - w), np.minimum(n, idx + w + 1)
        feats.append((csum[hi] - csum[lo]) / (hi - lo)[:, None])
        feats.append(np.array([s1[a:b].max(axis=0) for a, b in zip(lo, hi, strict=True)]))
    page_mean = np.repeat(s1.mean(axis=0, keepdims=True), n, axis=0)
    rank = s1.argsort(axis=0).argsort(axis=0) / max(1, n - 1)
    main = s1[:, 0]
    feats += [
        page_mean,
        rank,
        container_features(p, main),
        group_features(p, main),
        span_features(main),
    ]
    return np.hstack(feats)


# ------------------------------------------------------------------ thresholds
def page_char_f1(y: np.ndarray, pred: np.ndarray, lengths: np.ndarray) -> float:
    """F1 of body characters on one page (1.0 when both sides are empty)."""
    tp = float(np.dot(lengths, (y == 1) & (pred == 1)))
    n_pred, n_gold = float(np.dot(lengths, pred == 1)), float(np.dot(lengths, y == 1))
    if not n_pred and not n_gold:
        return 1.0
    return 2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0


def best_threshold(
    proba: list[np.ndarray], labels: list[np.ndarray], lengths: list[np.ndarray]
) -> float:
    """The grid threshold with the highest mean per-page character F1 (ties: nearest 0.5)."""
    scores = []
    for t in THRESHOLD_GRID:
        f = [
            page_char_f1(y, (p >= t).astype(int), w)
            for p, y, w in zip(proba, labels, lengths, strict=True)
        ]
        scores.append((float(np.mean(f)), -abs(t - DECISION), float(t)))
    return max(scores)[2]


def rescale(proba: np.ndarray, threshold: float) -> np.ndarray:
    """Monotone piecewise-linear map sending ``threshold`` to :data:`DECISION` (0 and 1 fixed)."""
    t = min(max(threshold, 1e-6), 1 - 1e-6)
    low = proba * DECISION / t
    high = DECISION + (proba - t) * (1 - DECISION) / (1 - t)
    return np.where(proba < t, low, high)


# --------------------------------------------------------------- gradient boosting
class QuantizedHGB:
    """Histogram gradient boosting on features binned here, by unweighted quantiles.

    scikit-learn bins features itself, but with sample weights it computes *weighted*
    percentiles one by one, which costs more than the boosting. Binning first (the same
    quantiles it would use without weights) leaves it at most ``max_bins`` distinct
    values per feature, where it takes the fast path. NaN stays NaN (its own bin).
    """

    def __init__(self, max_bins: int = 63, random_state: int = 0, **params: Any) -> None:
        self.max_bins = max_bins
        self.random_state = random_state
        self.params = params
        self.edges_: list[np.ndarray] = []
        self.model_: Any = None

    def _bin(self, X: np.ndarray) -> np.ndarray:
        return bin_columns(X, self.keep_, self.edges_)

    def fit(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> QuantizedHGB:
        from sklearn.ensemble import HistGradientBoostingClassifier

        X = np.asarray(X, dtype=np.float64)
        self.keep_ = ~np.all(np.isnan(X), axis=0)
        q = np.linspace(0, 100, self.max_bins + 1)[1:-1]
        self.edges_ = []
        for j in np.flatnonzero(self.keep_):
            col = X[:, j][~np.isnan(X[:, j])]
            values = np.unique(col)
            if len(values) <= self.max_bins:
                edges = (values[1:] + values[:-1]) / 2
            else:
                edges = np.unique(np.percentile(col, q, method="averaged_inverted_cdf"))
            self.edges_.append(edges)
        # No early stopping: it would hold out a random 10% of blocks (leaking pages
        # across its split) and make the model depend on that draw.
        self.model_ = HistGradientBoostingClassifier(
            max_bins=self.max_bins,
            early_stopping=False,
            random_state=self.random_state,
            **self.params,
        )
        self.model_.fit(self._bin(X), y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(self._bin(np.asarray(X, dtype=np.float64)))


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


def dense_design(
    pages: list[PreparedPage],
    rep: Repetition | None,
    training: bool,
    context: SiteContext | None = None,
) -> np.ndarray:
    """Dense features (+ repetition columns), ``(total blocks, d)`` float32."""
    dense = np.vstack([p.dense for p in pages]) if pages else np.zeros((0, 0), np.float32)
    if rep is not None:
        dense = np.hstack([dense, rep.transform(pages, training, context)])
    return dense


def own_columns(names: list[str], width: int) -> np.ndarray:
    """Mask of the dense columns that are not the neighbours' copies (``prev_``/``next_``)."""
    own = [not n.startswith(("prev_", "next_")) for n in names]
    own += [True] * (width - len(own))  # repetition columns
    return np.array(own, dtype=bool)


def stage2_design(
    pages: list[PreparedPage], dense: np.ndarray, s1: np.ndarray, own: np.ndarray | None
) -> np.ndarray:
    """Stage-2 input ``(total blocks, d2)`` float32: the dense features (only the ``own``
    columns when given) and :func:`stack_features` of the stage-1 scores ``s1``."""
    ctx = [stack_features(p, s) for p, s in zip(pages, _split(s1, pages), strict=True)]
    if own is not None:
        dense = dense[:, own]
    return np.hstack([dense, np.vstack(ctx)]).astype(np.float32)


def bin_columns(X: np.ndarray, keep: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """Quantile bins of the ``keep`` columns of ``X``, ``(n, keep.sum())`` float32; NaN stays NaN.

    Columns that were NaN for every training row are dropped (scikit-learn 1.9.1 fails
    binning them; a text-only model has no DOM, so its container features are).
    """
    X = np.asarray(X, dtype=np.float64)[:, keep]
    out = np.empty(X.shape, dtype=np.float32)
    for j, e in enumerate(edges):
        col = X[:, j]
        out[:, j] = np.searchsorted(e, col, side="left")
        out[np.isnan(col), j] = np.nan
    return out


# ------------------------------------------------------------------------ the model
def _split(values: np.ndarray, pages: list[PreparedPage]) -> list[np.ndarray]:
    out, pos = [], 0
    for p in pages:
        out.append(values[pos : pos + p.n])
        pos += p.n
    return out


def _block_groups(pages: list[PreparedPage]) -> np.ndarray:
    return np.concatenate([np.full(p.n, i) for i, p in enumerate(pages)])


@dataclass
class _Round:
    """One stacking round as :meth:`BlockModel.fit` fits it: the inner-fold models with
    their out-of-fold scores ``(n,)``, and the refit model."""

    inner: list[QuantizedHGB] = field(default_factory=list)
    oof: np.ndarray | None = None
    refit: QuantizedHGB | None = None


class BlockModel:
    """Stage-1 / stacked classifier over PreparedPages (see the module docstring)."""

    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg
        self.feature_names = feature_names(cfg.features)

    # ---- design matrices ------------------------------------------------------------
    def _dense(self, pages: list[PreparedPage], training: bool) -> np.ndarray:
        return dense_design(pages, self.rep_, training)

    def _own_columns(self, dense: np.ndarray) -> np.ndarray:
        return own_columns(self.feature_names, dense.shape[1])

    def _linear_dense(self, dense: np.ndarray) -> np.ndarray:
        """The dense columns the linear model sees: all but the neighbours' copies."""
        return np.nan_to_num(dense[:, self._own_columns(dense)])

    def _fit_design(self, pages: list[PreparedPage], dense: np.ndarray) -> None:
        from sklearn.preprocessing import StandardScaler

        self.scaler_ = StandardScaler().fit(self._linear_dense(dense))
        fams = ("dom",) if self.cfg.features.dom else ()
        if self.cfg.lexical:
            fams += ("lemma", "char")
        self.sparse_ = SparseDesign(fams).fit(self._hashed(pages)) if fams else None

    @staticmethod
    def _hashed(pages: list[PreparedPage]) -> sp.csr_matrix:
        """The pages' hashed counts stacked, ``(total blocks, sum(2 ** HASH_BITS))`` CSR."""
        import scipy.sparse as sp

        rows, cols, counts = stacked_counts(pages)
        width = sum(2**b for b in HASH_BITS.values())
        data = (counts.astype(np.float32), (rows, cols))
        return sp.csr_matrix(data, shape=(sum(p.n for p in pages), width))

    def _linear_X(self, pages: list[PreparedPage], dense: np.ndarray) -> sp.csr_matrix:
        import scipy.sparse as sp

        scaled = self.scaler_.transform(self._linear_dense(dense))
        scaled = np.clip(scaled, -DENSE_CLIP, DENSE_CLIP)
        parts = [sp.csr_matrix(scaled.astype(np.float32))]
        if self.sparse_ is not None:
            parts.append(self.sparse_.transform(self._hashed(pages)))
        return sp.hstack(parts, format="csr")

    # ---- estimators -------------------------------------------------------------------
    def _linear(self, n: int, seed: int) -> Any:
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(
            loss="log_loss",
            alpha=1.0 / (self.cfg.C * max(1, n)),
            class_weight="balanced",
            max_iter=SGD_EPOCHS,
            tol=None,
            average=True,
            random_state=seed,
        )

    def _exact_linear(self) -> Any:
        """The same penalised logistic loss as :meth:`_linear`, solved to convergence."""
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.cfg.C, class_weight="balanced", solver="lbfgs", max_iter=LBFGS_MAX_ITER
        )

    def _fit_linear(self, X: sp.csr_matrix, y: np.ndarray) -> Any:
        """The linear model: the exact optimum (``linear_solver = "lbfgs"``), or its
        weights averaged over ``linear_seeds`` SGD runs.

        SGD's shuffling order moves the weights of rare hashed features, and stage 2 and
        the tuned threshold amplify that. Averaging the weights of runs with different
        seeds is averaging their decision functions, so the result is still one linear
        model (the same export, the same scoring cost); L-BFGS removes the seed altogether.
        """
        if self.cfg.linear_solver == "lbfgs":
            return self._exact_linear().fit(X, y)
        model = self._linear(X.shape[0], self.cfg.seed).fit(X, y)
        extra = [
            self._linear(X.shape[0], self.cfg.seed + k).fit(X, y)
            for k in range(1, self.cfg.linear_seeds)
        ]
        if extra:
            model.coef_ = np.mean([m.coef_ for m in (model, *extra)], axis=0)
            model.intercept_ = np.mean([m.intercept_ for m in (model, *extra)], axis=0)
        return model

    def _hgb(self) -> QuantizedHGB:
        cfg = self.cfg
        return QuantizedHGB(
            max_iter=cfg.hgb_max_iter,
            learning_rate=cfg.hgb_learning_rate,
            max_leaf_nodes=cfg.hgb_max_leaf_nodes,
            max_bins=cfg.hgb_max_bins,
            l2_regularization=cfg.hgb_l2,
            random_state=cfg.seed,
        )

    def _weights(self, pages: list[PreparedPage], y: np.ndarray) -> np.ndarray:
        """Sample weights: ``pos_weight`` for body, times (chars / page mean) ** length_weight."""
        w = np.where(y == 1, self.cfg.pos_weight, 1.0)
        if self.cfg.length_weight:
            rel = [p.lengths / max(1.0, p.lengths.mean()) for p in pages]
            w = w * np.concatenate(rel) ** self.cfg.length_weight
        return w / w.mean()

    def _fit_stage1(self, X: sp.csr_matrix, dense: np.ndarray, y: np.ndarray) -> list[Any]:
        """Stage-1 models, linear first: ``[linear]``, ``[hgb]`` or ``[linear, hgb]``."""
        models: list[Any] = []
        if self.cfg.stage1 in ("linear", "both"):
            models.append(self._fit_linear(X, y))
        if self.cfg.stage1 in ("hgb", "both"):
            models.append(self._hgb().fit(dense, y))
        return models

    def _stack_X(self, pages: list[PreparedPage], dense: np.ndarray, s1: np.ndarray) -> Any:
        own = None if self.cfg.stage2_neighbours else self._own_columns(dense)
        return stage2_design(pages, dense, s1, own)

    # ---- public API ------------------------------------------------------------------
    def fit(self, pages: list[PreparedPage], labels: list[np.ndarray]) -> BlockModel:
        """Fit on pages with one 0/1 label array per page."""
        cfg = self.cfg
        self.scorer_ = None
        y = np.concatenate(labels).astype(int)
        self.rep_ = Repetition().fit(pages) if cfg.repetition else None
        dense = self._dense(pages, training=True)
        w = self._weights(pages, y)
        self.threshold_ = DECISION
        self.stage1_: list[list[Any]] = []
        self.stage2_: list[QuantizedHGB] = []
        self.rounds_: list[list[QuantizedHGB]] = []  # stacking rounds before the last
        # cfg.stack_variants: (rounds before the last, last round, threshold) of each
        self.variants_: list[tuple[list[list[QuantizedHGB]], list[QuantizedHGB], float]] = []
        self.blend_: QuantizedHGB | None = None
        if cfg.model == "hgb":
            self.stage2_ = [self._hgb().fit(dense, y, sample_weight=w)]
            return self
        self._fit_design(pages, dense)
        X = self._linear_X(pages, dense)
        if cfg.model == "logreg":
            self.stage1_ = [[self._fit_linear(X, y)]]
            return self
        folds = self._inner_folds(pages, cfg.inner_folds)
        oof, self.stage1_ = self._stage1_oof(pages, X, dense, y, folds)
        if cfg.refit:
            self.stage1_ = [self._fit_stage1(X, dense, y)]
        # Stage 1's honest scores per split of the sites, each computed once for all stacks.
        splits = {cfg.inner_folds: (folds, oof)}
        # Stacks on the same split share their first rounds ([2, 3]'s first round is
        # [1, 3]'s only one): each round is fitted once, keyed by (split, round).
        fitted: dict[tuple[int, int], _Round] = {}
        stacks = []
        for n_rounds, n_folds in [(cfg.stack_rounds, cfg.inner_folds), *cfg.stack_variants]:
            if n_folds not in splits:
                more = self._inner_folds(pages, n_folds)
                splits[n_folds] = (more, self._stage1_oof(pages, X, dense, y, more)[0])
            rounds = [fitted.setdefault((n_folds, r), _Round()) for r in range(n_rounds)]
            stacks.append(self._fit_stack(pages, labels, dense, w, *splits[n_folds], rounds))
        (self.rounds_, self.stage2_, self.threshold_), *self.variants_ = stacks
        if cfg.blend_hgb:
            self.blend_ = self._hgb().fit(dense, y, sample_weight=w)
        return self

    def _stage1_oof(
        self,
        pages: list[PreparedPage],
        X: sp.csr_matrix,
        dense: np.ndarray,
        y: np.ndarray,
        folds: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray, list[list[Any]]]:
        """Stage 1's out-of-fold scores ``(total blocks, k)`` over ``folds``, and its fold
        models (what ``refit = False`` averages)."""
        from honbun.inference import export_stage1, stage1_scores

        oof = np.zeros((len(y), 2 if self.cfg.stage1 == "both" else 1))
        members = []
        for tr, te, te_pages in folds:
            models = self._fit_stage1(X[tr], dense[tr], y[tr])
            # Scored by the numpy export that scoring runs: stage 2's quantile bins are
            # fine in the tails (p near 0 or 1), where float32-vs-float64 rounding of
            # another code path would move blocks across bins.
            exported = export_stage1(self, [models], dense.shape[1])
            oof[te] = stage1_scores(exported, [pages[i] for i in te_pages], dense[te])
            members.append(models)
        return oof, members

    def _fit_stack(
        self,
        pages: list[PreparedPage],
        labels: list[np.ndarray],
        dense: np.ndarray,
        w: np.ndarray,
        folds: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        oof: np.ndarray,
        rounds: list[_Round],
    ) -> tuple[list[list[QuantizedHGB]], list[QuantizedHGB], float]:
        """``len(rounds)`` rounds of gradient boosting over stage 1's out-of-fold scores
        ``oof``: the rounds before the last, the last round's models and its tuned
        threshold. ``rounds`` holds what earlier stacks on ``folds`` already fitted."""
        cfg = self.cfg
        y = np.concatenate(labels).astype(int)
        before: list[list[QuantizedHGB]] = []
        scores = oof  # honest scores of every stage so far, latest first
        for r, done in enumerate(rounds):
            last = r == len(rounds) - 1
            need_inner = done.oof is None and (cfg.tune_threshold or not cfg.refit or not last)
            need_refit = cfg.refit and done.refit is None
            if need_inner or need_refit:  # the design (the biggest array here) only to fit
                X2 = self._stack_X(pages, dense, scores)
                if need_inner:
                    done.oof, done.inner = np.zeros(len(y)), []
                    for tr, te, _ in folds:
                        done.inner.append(self._hgb().fit(X2[tr], y[tr], sample_weight=w[tr]))
                        done.oof[te] = done.inner[-1].predict_proba(X2[te])[:, 1]
                if need_refit:
                    done.refit = self._hgb().fit(X2, y, sample_weight=w)
            boosted = [done.refit] if done.refit is not None else list(done.inner)
            if last:
                threshold = DECISION
                if cfg.tune_threshold:
                    threshold = best_threshold(
                        _split(done.oof, pages), labels, [p.lengths for p in pages]
                    )
                return before, boosted, threshold
            before.append(boosted)
            scores = np.column_stack([done.oof, scores])
        raise ValueError("a stack needs at least one round")

    @staticmethod
    def _inner_folds(
        pages: list[PreparedPage], n_folds: int
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """GroupKFold by site: train blocks, test blocks, test pages; pages never split."""
        from sklearn.model_selection import GroupKFold

        sites = np.array([p.site for p in pages])
        k = min(n_folds, len(set(sites)))
        if k < 2:
            raise ValueError("the stacked model needs training pages from at least 2 sites")
        page_of = _block_groups(pages)
        out = []
        for tr_p, te_p in GroupKFold(n_splits=k).split(sites, groups=sites):
            tr, te = np.flatnonzero(np.isin(page_of, tr_p)), np.flatnonzero(np.isin(page_of, te_p))
            out.append((tr, te, np.sort(te_p)))
        return out

    def predict_proba(self, pages: list[PreparedPage]) -> list[np.ndarray]:
        """Body probability of every block, one array per page.

        The stacked model's tuned threshold is mapped to 0.5 (:func:`rescale`), so the
        usual ``p >= 0.5`` is its decision. Repetition counts include the other pages of
        the same site in ``pages``, so score a site's pages together when you can.
        Computed by the model's numpy export (:class:`honbun.inference.BlockScorer`), the
        same code ``honbun score`` runs.
        """
        return self.scorer().predict_proba(pages)

    def scorer(self) -> Any:
        """The fitted model as plain arrays (:class:`honbun.inference.BlockScorer`)."""
        if getattr(self, "scorer_", None) is None:
            from honbun.inference import export_block_model

            self.scorer_ = export_block_model(self)
        return self.scorer_
