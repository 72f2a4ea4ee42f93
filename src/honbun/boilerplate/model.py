"""The body-vs-boilerplate block classifier.

Pipeline, top to bottom:

1. :func:`~honbun.features.prepared.prepare` — tokenise each block once and compute its
   dense features, DOM tokens, lemma string, normalised key and hashed sparse bag (DOM
   tokens, lemma uni/bigrams, character 2/3-grams): the label-free part, once per page.
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
and probabilities are one 1-D array per page (``1`` = body). The probabilities are the
model's; the decision rules (:mod:`honbun.boilerplate.rules`) run after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from honbun.boilerplate.config import DENSE_CLIP, ModelConfig
from honbun.decision import BLOCK_THRESHOLDS, DECISION, best_threshold
from honbun.features.bags import HASH_BITS, SparseDesign
from honbun.features.blocks import feature_names
from honbun.features.design import dense_design, own_columns, stage2_design
from honbun.features.prepared import PreparedPage, block_groups, split_rows, stacked_counts
from honbun.features.repetition import Repetition
from honbun.metrics import page_char_f1
from honbun.trees import QuantizedHGB

if TYPE_CHECKING:  # scipy is imported where it is used: scoring does without it
    import scipy.sparse as sp

SGD_EPOCHS = 30  # passes of averaged SGD for the linear model
LBFGS_MAX_ITER = 1000  # L-BFGS iterations for the linear model (it needs about 80 on all pages)


@dataclass
class _Round:
    """One stacking round as :meth:`BlockModel.fit` fits it: the inner-fold models with
    their out-of-fold scores ``(n,)``, and the refit model."""

    inner: list[QuantizedHGB] = field(default_factory=list)
    oof: np.ndarray | None = None
    refit: QuantizedHGB | None = None


def _tuned_threshold(
    proba: list[np.ndarray], labels: list[np.ndarray], pages: list[PreparedPage]
) -> float:
    """The threshold with the highest mean per-page character F1 (ties: nearest 0.5)."""
    lengths = [p.lengths for p in pages]

    def mean_char_f1(t: float) -> float:
        f = [
            page_char_f1(y, (p >= t).astype(int), w)
            for p, y, w in zip(proba, labels, lengths, strict=True)
        ]
        return float(np.mean(f))

    return best_threshold(mean_char_f1, BLOCK_THRESHOLDS, prefer=DECISION)


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
        from honbun.boilerplate.export import export_stage1, stage1_scores

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
                    threshold = _tuned_threshold(split_rows(done.oof, pages), labels, pages)
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
        page_of = block_groups(pages)
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
        Computed by the model's numpy export (:class:`honbun.boilerplate.export.BlockScorer`),
        the same code ``honbun score`` runs. These are the model's probabilities: the
        decision rules (:func:`honbun.boilerplate.rules.apply`) are a step of their own.
        """
        return self.scorer().predict_proba(pages)

    def scorer(self) -> Any:
        """The fitted model as plain arrays (:class:`honbun.boilerplate.export.BlockScorer`)."""
        if getattr(self, "scorer_", None) is None:
            from honbun.boilerplate.export import export_block_model

            self.scorer_ = export_block_model(self)
        return self.scorer_
