"""The body-vs-boilerplate block classifier.

Pipeline, top to bottom:

1. :func:`prepare` — tokenise each block once and compute its dense features, DOM tokens,
   lemma string and normalised key (the expensive part, done once per page).
2. ``logreg`` — logistic regression over scaled dense features + DOM-token bag + TF-IDF
   of lemma uni/bigrams and character n-grams. ``hgb`` — histogram gradient boosting over
   the dense features (+ cross-page repetition).
3. ``stacked`` — the logistic regression is stage 1; stage 2 is gradient boosting over
   the dense features plus a window of neighbours' stage-1 probabilities (out-of-fold
   during training, so stage 2 learns from honest scores). This keeps a short line inside
   the article body and a long line inside a ranking boilerplate.

Estimator API in scikit-learn's spirit: ``fit(pages, labels)`` and
``predict_proba(pages)``, where ``pages`` is a list of :class:`PreparedPage` and labels
and probabilities are one 1-D array per page (``1`` = body).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from honbun.block_features import FeatureConfig, dom_strings, feature_names, page_features
from honbun.normalize import compact
from honbun.page import Page
from honbun.tokens import Token, tokenize

STACK_WINDOW = (1, 2, 3, 5)  # neighbour offsets whose stage-1 probability stage 2 sees
STACK_SMOOTH = (2, 5, 10)  # half-widths of windows whose mean/max stage 2 sees
INNER_FOLDS = 3  # grouped folds (by site) for the out-of-fold stage-1 scores
MAX_TOKENISE_CHARS = 5000  # tokens beyond this add nothing to a block's features


@dataclass
class ModelConfig:
    """Settings of the block model; built from the ``[boilerplate]`` config table."""

    model: str = "stacked"  # "logreg" | "hgb" | "stacked"
    features: FeatureConfig = field(default_factory=FeatureConfig)
    lexical: bool = True
    repetition: bool = True
    threshold: float = 0.5
    C: float = 1.0
    hgb_max_iter: int = 150
    hgb_learning_rate: float = 0.1
    hgb_max_leaf_nodes: int = 31
    hgb_max_bins: int = 63
    hgb_l2: float = 1.0
    seed: int = 13

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

    @property
    def n(self) -> int:
        return len(self.page.blocks)


def prepare(page: Page, cfg: ModelConfig, site: str = "") -> PreparedPage:
    """Tokenise and featurise one page (the per-page cost of scoring)."""
    tokens: list[list[Token]] = [tokenize(b.text[:MAX_TOKENISE_CHARS]) for b in page.blocks]
    dense = page_features(page, tokens, cfg.features)
    lemmas = [" ".join(t.lemma for t in toks if t.pos1 not in ("空白",)) for toks in tokens]
    return PreparedPage(
        page=page,
        site=site or page.meta.get("site", ""),
        dense=dense,
        dom=dom_strings(page) if cfg.features.dom else ["" for _ in page.blocks],
        lemmas=lemmas,
        keys=[compact(b.text) for b in page.blocks],
    )


def as_text_page(p: PreparedPage, cfg: ModelConfig) -> PreparedPage:
    """The same page as a text dump would show it: no DOM (for the text-only model)."""
    page = Page(p.page.doc_id, p.page.source, "text", p.page.text, [], dict(p.page.meta))
    from dataclasses import replace

    page.blocks = [replace(b, dom=None) for b in p.page.blocks]
    return prepare_from_tokens(page, cfg, p)


def prepare_from_tokens(page: Page, cfg: ModelConfig, like: PreparedPage) -> PreparedPage:
    tokens = [tokenize(b.text[:MAX_TOKENISE_CHARS]) for b in page.blocks]
    return PreparedPage(
        page=page,
        site=like.site,
        dense=page_features(page, tokens, cfg.features),
        dom=dom_strings(page) if cfg.features.dom else ["" for _ in page.blocks],
        lemmas=like.lemmas,
        keys=like.keys,
    )


class Repetition:
    """How many *other* training pages of the same site contain a block's exact text.

    CCNet-style line deduplication as a feature. Fitted on the training pages only, so in
    cross-validation it never sees the test fold.
    """

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def fit(self, pages: list[PreparedPage]) -> Repetition:
        self.counts = {}
        for p in pages:
            self.counts.setdefault(p.site, Counter()).update(set(p.keys))
        return self

    def transform(self, p: PreparedPage, in_training: bool) -> np.ndarray:
        c = self.counts.get(p.site, Counter())
        own = 1 if in_training else 0
        return np.log1p(np.array([max(0, c[k] - own) for k in p.keys], dtype=np.float32))


CONTAINER_MIN_BLOCKS = 3  # an ancestor must hold this many blocks to count as a container


def container_features(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """Where each block sits relative to the likely article container, ``(n_blocks, 5)``.

    From the stage-1 body probabilities ``proba`` and block lengths, every DOM ancestor
    gets an expected body length ``S`` (sum of p × chars) and a purity ``S / chars``. The
    best container maximises coverage × purity (coverage = S / page S). Columns: inside
    the best container; its purity; purity of the block's nearest container (an ancestor
    with >= CONTAINER_MIN_BLOCKS blocks); mean probability of its siblings (same parent);
    best coverage × purity among the block's ancestors. NaN without a DOM.
    """
    blocks = p.page.blocks
    n = len(blocks)
    out = np.full((n, 5), np.nan)
    if not n or blocks[0].dom is None:
        return out
    lengths = np.array([len(b.text) for b in blocks], dtype=float)
    chains = [b.dom.ancestors() if b.dom else [] for b in blocks]
    body: dict[str, float] = {}
    total: dict[str, float] = {}
    count: dict[str, int] = {}
    for i, chain in enumerate(chains):
        for a in chain:
            body[a] = body.get(a, 0.0) + proba[i] * lengths[i]
            total[a] = total.get(a, 0.0) + lengths[i]
            count[a] = count.get(a, 0) + 1
    page_body = max(1e-9, float(np.dot(proba, lengths)))
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


class BlockModel:
    """Stage-1 / stacked classifier over PreparedPages (see the module docstring)."""

    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg
        self.feature_names = feature_names(cfg.features)

    # ---- stage 1 -------------------------------------------------------------------
    def _fit_stage1(self, pages: list[PreparedPage], y: np.ndarray) -> dict[str, Any]:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        cfg = self.cfg
        rep = Repetition().fit(pages) if cfg.repetition else None
        dense = self._dense(pages, rep, training=True)
        fitted: dict[str, Any] = {"rep": rep}
        if cfg.model in ("logreg", "stacked"):
            scaler = StandardScaler().fit(np.nan_to_num(dense))
            parts = [sp.csr_matrix(scaler.transform(np.nan_to_num(dense)))]
            vecs: dict[str, Any] = {}
            if cfg.features.dom:
                vecs["dom"] = CountVectorizer(
                    tokenizer=str.split, token_pattern=None, lowercase=False, binary=True,
                    min_df=2,
                )  # fmt: skip
            if cfg.lexical:
                vecs["lemma"] = TfidfVectorizer(
                    tokenizer=str.split, token_pattern=None, lowercase=False,
                    ngram_range=(1, 2), min_df=2, max_features=50_000, sublinear_tf=True,
                )  # fmt: skip
                vecs["char"] = TfidfVectorizer(
                    analyzer="char", ngram_range=(2, 3), min_df=3, max_features=50_000,
                    sublinear_tf=True,
                )  # fmt: skip
            for name, vec in vecs.items():
                parts.append(vec.fit_transform(self._strings(pages, name)))
            lr = LogisticRegression(C=cfg.C, solver="liblinear", class_weight="balanced")
            lr.fit(sp.hstack(parts).tocsr(), y)
            fitted.update(scaler=scaler, vecs=vecs, lr=lr)
        if cfg.model == "hgb":
            fitted["hgb"] = self._hgb().fit(dense, y)
        return fitted

    def _hgb(self) -> Any:
        from honbun.hgb import NanSafeHGB as HistGradientBoostingClassifier

        cfg = self.cfg
        # No early stopping: it would hold out a random 10% of blocks (leaking pages
        # across its split) and make the model depend on that draw.
        return HistGradientBoostingClassifier(
            max_iter=cfg.hgb_max_iter,
            learning_rate=cfg.hgb_learning_rate,
            max_leaf_nodes=cfg.hgb_max_leaf_nodes,
            max_bins=cfg.hgb_max_bins,
            l2_regularization=cfg.hgb_l2,
            early_stopping=False,
            random_state=cfg.seed,
        )

    def _dense(self, pages: list[PreparedPage], rep: Repetition | None, training: bool) -> Any:
        dense = np.vstack([p.dense for p in pages]) if pages else np.zeros((0, 0))
        if rep is not None:
            col = np.concatenate([rep.transform(p, training) for p in pages])
            dense = np.hstack([dense, col[:, None]])
        return dense

    @staticmethod
    def _strings(pages: list[PreparedPage], name: str) -> list[str]:
        if name == "dom":
            return [s for p in pages for s in p.dom]
        if name == "lemma":
            return [s for p in pages for s in p.lemmas]
        return [b.text[:1000] for p in pages for b in p.page.blocks]

    def _stage1_proba(
        self, fitted: dict[str, Any], pages: list[PreparedPage], training: bool = False
    ) -> np.ndarray:
        """(n_blocks_total, k) stage-1 body probabilities, one column per stage-1 model."""
        dense = self._dense(pages, fitted["rep"], training)
        cols = []
        if "lr" in fitted:
            parts = [sp.csr_matrix(fitted["scaler"].transform(np.nan_to_num(dense)))]
            for name, vec in fitted["vecs"].items():
                parts.append(vec.transform(self._strings(pages, name)))
            cols.append(fitted["lr"].predict_proba(sp.hstack(parts).tocsr())[:, 1])
        if "hgb" in fitted:
            cols.append(fitted["hgb"].predict_proba(dense)[:, 1])
        return np.column_stack(cols)

    # ---- stage 2 -------------------------------------------------------------------
    @staticmethod
    def _context(pages: list[PreparedPage], s1: np.ndarray) -> np.ndarray:
        """Stage-2 features: own, neighbours' and windowed stage-1 scores, per page."""
        rows = []
        pos = 0
        for p in pages:
            block = s1[pos : pos + p.n]
            pos += p.n
            n, k = block.shape
            feats = [block]
            for off in STACK_WINDOW:
                prev = np.vstack([np.full((off, k), -1.0), block])[:n] if n else block
                nxt = np.vstack([block, np.full((off, k), -1.0)])[off:] if n else block
                feats += [prev, nxt]
            csum = np.vstack([np.zeros((1, k)), np.cumsum(block, axis=0)])
            for w in STACK_SMOOTH:
                idx = np.arange(n)
                lo, hi = np.maximum(0, idx - w), np.minimum(n, idx + w + 1)
                feats.append((csum[hi] - csum[lo]) / (hi - lo)[:, None])
                mx = np.array([block[a:b].max(axis=0) for a, b in zip(lo, hi, strict=True)])
                feats.append(mx.reshape(n, k))
            page_mean = np.repeat(block.mean(axis=0, keepdims=True), n, axis=0)
            rank = block.argsort(axis=0).argsort(axis=0) / max(1, n - 1)
            feats += [page_mean, rank, container_features(p, block[:, 0])]
            rows.append(np.hstack(feats))
        return np.vstack(rows)

    # ---- public API ------------------------------------------------------------------
    def fit(self, pages: list[PreparedPage], labels: list[np.ndarray]) -> BlockModel:
        """Fit on pages with one 0/1 label array per page."""
        y = np.concatenate(labels).astype(int)
        self.stage1_ = self._fit_stage1(pages, y)
        self.stage2_ = None
        if self.cfg.model == "stacked":
            oof = self._oof_stage1(pages, labels)
            X2 = np.hstack(
                [self._dense(pages, self.stage1_["rep"], True), self._context(pages, oof)]
            )
            self.stage2_ = self._hgb().fit(X2, y)
        return self

    def _oof_stage1(self, pages: list[PreparedPage], labels: list[np.ndarray]) -> np.ndarray:
        """Out-of-fold stage-1 scores, folds grouped by site so no page scores itself."""
        from sklearn.model_selection import GroupKFold

        sites = np.array([p.site for p in pages])
        folds = min(INNER_FOLDS, len(set(sites)))
        out: list[np.ndarray | None] = [None] * len(pages)
        for tr, te in GroupKFold(n_splits=folds).split(pages, groups=sites):
            tr_pages = [pages[i] for i in tr]
            y = np.concatenate([labels[i] for i in tr]).astype(int)
            fitted = self._fit_stage1(tr_pages, y)
            te_pages = [pages[i] for i in te]
            proba = self._stage1_proba(fitted, te_pages)
            pos = 0
            for i, p in zip(te, te_pages, strict=True):
                out[i] = proba[pos : pos + p.n]
                pos += p.n
        return np.vstack([o for o in out if o is not None])

    def predict_proba(self, pages: list[PreparedPage]) -> list[np.ndarray]:
        """Body probability of every block, one array per page."""
        if not pages:
            return []
        s1 = self._stage1_proba(self.stage1_, pages)
        if self.stage2_ is not None:
            X2 = np.hstack(
                [self._dense(pages, self.stage1_["rep"], False), self._context(pages, s1)]
            )
            proba = self.stage2_.predict_proba(X2)[:, 1]
        else:
            proba = s1[:, 0]
        out, pos = [], 0
        for p in pages:
            out.append(proba[pos : pos + p.n])
            pos += p.n
        return out
