"""The topic tagger: multi-label, one-vs-rest linear models over sentence text.

Pipeline, top to bottom:

1. :func:`~honbun.features.text.prepare_items` — fugashi tokens of a text (cut from its
   block's tokens by :func:`~honbun.features.text.page_items`) → content-word lemmas
   (tokens whose POS is in ``stop_pos`` are dropped; configurable).
2. :class:`~honbun.topics.featurizer.TextFeaturizer` — TF-IDF of lemma uni/bigrams + TF-IDF of character n-grams
   (NFKC) + optionally the lemmas of the neighbouring sentences (prefixed ``ctx:``) +
   optionally one lexicon-hit column per label (``lex:<label>``: the sentence contains a
   word of that label's keyword lexicon). The model learns how far to trust each lexicon;
   the n-grams around the hit tell 派遣社員 from 部隊派遣.
3. :class:`TopicTagger` — per label, logistic regression or a linear SVM calibrated to
   probabilities (sigmoid, 3 folds), class-weighted for rare labels; a decision threshold
   per label tuned to maximise F1 on out-of-fold probabilities (scikit-learn's threshold
   tuners are binary-only, so it is done label by label). A label with fewer than
   ``min_positives`` positive training sentences cannot be learned; it falls back to its
   lexicon (:class:`~honbun.topics.cold_start.LexiconRule`) until more are annotated — the cold start of a label a
   user has just added.
4. :func:`rollup` — block and document scores are the maximum of their sentences'
   probabilities: one clear sentence is enough to say a paragraph is about a topic, and
   unlike noisy-or the score does not creep up with the number of weak sentences.

Shapes: ``fit(items, Y)`` with ``Y`` of shape ``(n_items, n_labels)`` in {0, 1};
``predict_proba(items)`` returns ``(n_items, n_labels)`` floats in [0, 1].
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from honbun.decision import TOPIC_THRESHOLDS, best_threshold, calibrate, platt
from honbun.features.lexicon import read_word_groups
from honbun.features.text import TextItem, lexicon_matrix, prepare_items
from honbun.features.vectors import load_vectors
from honbun.metrics import binary_prf
from honbun.topics.cold_start import LexiconRule
from honbun.topics.config import TopicConfig
from honbun.topics.featurizer import TextFeaturizer

if TYPE_CHECKING:  # scipy is imported where it is used: scoring does without it
    import scipy.sparse as sp

INNER_FOLDS = 3


def _linear(cfg: TopicConfig) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if cfg.model == "svm":
        svm = LinearSVC(C=cfg.C / 8, class_weight=cfg.class_weight, random_state=cfg.seed)
        return CalibratedClassifierCV(svm, method="sigmoid", cv=3)
    # Dual liblinear: far fewer sentences than n-gram features, so the dual converges fast.
    # liblinear's dual solver visits samples in a random order: seed it, or two trainings
    # of one config give different probabilities.
    return LogisticRegression(
        C=cfg.C, class_weight=cfg.class_weight, solver="liblinear", dual=True, max_iter=1000,
        random_state=cfg.seed,
    )  # fmt: skip


def tuned_threshold(y: np.ndarray, p: np.ndarray, tolerance: float = 0.0) -> float:
    """The threshold on ``p`` that maximises F1 for ``y`` (0.5 if ``y`` has no positive;
    ties: the lowest); with ``tolerance``, the highest threshold whose F1 is within it of
    that best."""
    if y.sum() == 0:
        return 0.5

    # F1 at every grid point once: the best and the plateau above it both read it.
    f1 = {float(t): binary_prf(y, (p >= float(t)).astype(int)).f1 for t in TOPIC_THRESHOLDS}
    best = best_threshold(f1.__getitem__, TOPIC_THRESHOLDS, prefer=None)
    if tolerance <= 0:
        return best
    floor = f1[best] - tolerance
    return max(t for t, value in f1.items() if t >= best and value >= floor)


class TopicTagger:
    """One-vs-rest topic tagger with per-label thresholds (see the module docstring).

    ``fit(items, Y, groups)``: ``Y`` is ``(n, K)`` in {0, 1}, or -1 on the rows of
    sentences that are not annotated but stand in their document for context (the rest of
    a livedoor article around its sampled sentences); ``groups`` are the documents, each
    document's items contiguous and in reading order.
    """

    def __init__(
        self,
        cfg: TopicConfig,
        labels: tuple[str, ...],
        lexicon: dict[str, list[str]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.labels = labels
        self.lexicon = lexicon or {}  # label -> keywords (NFKC), for features and cold start

    def _weights(self, items: list[TextItem], Y: np.ndarray) -> np.ndarray:
        """``(n, K)`` loss weights: ``hard_negative_weight`` where label k's lexicon fires
        on a sentence that is not k, else 1 (unannotated rows, ``Y`` -1, weigh 1)."""
        W = np.ones(Y.shape)
        if self.cfg.hard_negative_weight != 1.0:
            hits = lexicon_matrix([it.text for it in items], self.labels, self.lexicon)
            W[(hits > 0) & (Y == 0)] = self.cfg.hard_negative_weight
        return W

    def _fit_models(
        self, X: sp.csr_matrix, Y: np.ndarray, feat: TextFeaturizer, W: np.ndarray
    ) -> list[Any]:
        models: list[Any] = []
        for k in range(Y.shape[1]):
            y = Y[:, k]
            col = feat.lexicon_column(self.labels[k])
            if col is not None and y.sum() < self.cfg.min_positives:
                models.append(LexiconRule(col))
            elif y.min() == y.max():
                models.append(float(y[0]) if len(y) else 0.0)  # constant: no positives
            else:
                models.append(_linear(self.cfg).fit(X, y, sample_weight=W[:, k]))
        return models

    @staticmethod
    def _proba(models: list[Any], X: sp.csr_matrix) -> np.ndarray:
        cols = [
            np.full(X.shape[0], m) if isinstance(m, float) else m.predict_proba(X)[:, 1]
            for m in models
        ]
        return np.column_stack(cols) if cols else np.zeros((X.shape[0], 0))

    def fit(
        self, items: list[TextItem], Y: np.ndarray, groups: np.ndarray | None = None
    ) -> TopicTagger:
        """Fit; ``groups`` (document ids) keep inner folds honest and give the second
        stage each sentence's document."""
        self.scorer_ = None
        Y = np.asarray(Y)
        g = np.asarray(groups) if groups is not None else np.arange(len(items))
        labelled = (Y >= 0).all(axis=1)
        prepare_items(items, self.cfg.stop_pos, self.cfg.context)
        train = [it for it, keep in zip(items, labelled, strict=True) if keep]
        W = self._weights(items, Y)  # once: every stage and inner fold takes its rows
        self.featurizer_ = TextFeaturizer(self.cfg, self.lexicon).fit(train)
        self.models_ = self._fit_models(
            self.featurizer_.transform(train), Y[labelled], self.featurizer_, W[labelled]
        )
        self.thresholds_ = np.full(len(self.labels), 0.5)
        self.stage2_: dict[int, Any] = {}
        self.calibration_: dict[int, tuple[float, float]] = {}
        if len(set(g[labelled].tolist())) < INNER_FOLDS:
            return self
        # stage 1, every item scored by a model that never saw its document
        oof = self._oof(items, Y, W, g)
        if self.cfg.stack:
            oof = self._fit_stage2(items, Y, W, g, oof)
        if self.cfg.tune_thresholds:
            self.thresholds_ = np.array(
                [
                    tuned_threshold(Y[labelled, k], oof[labelled, k], self.cfg.threshold_tolerance)
                    for k in range(Y.shape[1])
                ]
            )
        return self

    def _oof(
        self, items: list[TextItem], Y: np.ndarray, W: np.ndarray, groups: np.ndarray
    ) -> np.ndarray:
        """Stage 1's out-of-fold probabilities of every item, folds grouped by document."""
        from sklearn.model_selection import GroupKFold

        n = min(INNER_FOLDS, len(set(groups.tolist())))
        labelled = (Y >= 0).all(axis=1)
        oof = np.zeros(Y.shape, dtype=float)
        for tr, te in GroupKFold(n_splits=n).split(items, groups=groups):
            tr = tr[labelled[tr]]
            feat = TextFeaturizer(self.cfg, self.lexicon).fit([items[i] for i in tr])
            train = [items[i] for i in tr]
            models = self._fit_models(feat.transform(train), Y[tr], feat, W[tr])
            oof[te] = self._proba(models, feat.transform([items[i] for i in te]))
        return oof

    def _learned(self) -> list[int]:
        """Labels with a fitted stage-1 model (not a cold-start lexicon rule or a constant)."""
        return [k for k, m in enumerate(self.models_) if not isinstance(m, (LexiconRule, float))]

    def _fit_stage2(
        self,
        items: list[TextItem],
        Y: np.ndarray,
        W: np.ndarray,
        groups: np.ndarray,
        oof: np.ndarray,
    ) -> np.ndarray:
        """The second stage of each learned label over the document design of stage 1's
        out-of-fold scores, with a Platt calibration fitted on its own out-of-fold scores;
        returns those calibrated out-of-fold scores (the other labels' stay stage 1's)."""
        from sklearn.model_selection import GroupKFold

        from honbun.trees import BaggedHGB

        D = self.stage2_design(items, oof, groups)
        labelled = np.flatnonzero((Y >= 0).all(axis=1))
        docs = groups[labelled]
        out = oof.copy()
        n = min(INNER_FOLDS, len(set(docs.tolist())))
        for k in self._learned():
            y, w = Y[labelled, k], W[labelled, k]

            def hgb() -> BaggedHGB:
                return BaggedHGB(
                    n_bags=self.cfg.stack_bags, share=self.cfg.stack_bag_share,
                    max_iter=self.cfg.stack_iterations, learning_rate=self.cfg.stack_learning_rate,
                    max_leaf_nodes=self.cfg.stack_leaves, random_state=self.cfg.seed,
                    max_depth=self.cfg.stack_depth or None,
                )  # fmt: skip

            inner = np.zeros(len(labelled))
            for tr, te in GroupKFold(n_splits=n).split(labelled, groups=docs):
                fitted = hgb().fit(D[labelled[tr]], y[tr], sample_weight=w[tr], groups=docs[tr])
                inner[te] = fitted.predict_proba(D[labelled[te]])[:, 1]
            self.stage2_[k] = hgb().fit(D[labelled], y, sample_weight=w, groups=docs)
            self.calibration_[k] = platt(inner, y)
            out[labelled, k] = calibrate(inner, *self.calibration_[k])
        return out

    def stage2_design(
        self, items: list[TextItem], scores: np.ndarray, groups: np.ndarray
    ) -> np.ndarray:
        """The second stage's input: :func:`honbun.topics.context.document_design` of the
        items' stage-1 ``scores`` (what the export computes the same way)."""
        from honbun.topics.context import document_design

        texts = [it.text for it in items]
        hits = lexicon_matrix(texts, self.labels, self.lexicon)
        vectors = (
            load_vectors(self.cfg.vectors).mean([it.tokens or [] for it in items])
            if self.cfg.vectors
            else None
        )
        cues = self.cue_words()
        cue_hits = lexicon_matrix(texts, tuple(cues), cues) if cues else None
        return document_design(scores, hits, groups, vectors, self.cfg.document_vector, cue_hits)

    def cue_words(self) -> dict[str, list[str]]:
        """The word groups of ``cfg.cues`` (read once per tagger), {} without."""
        if not self.cfg.cues:
            return {}
        if getattr(self, "cues_", None) is None:
            self.cues_ = read_word_groups(self.cfg.cues)
        return self.cues_

    def scorer(self) -> Any:
        """The fitted tagger in numpy (:class:`honbun.topics.export.TopicScorer`)."""
        if getattr(self, "scorer_", None) is None:
            from honbun.topics.export import export_topic_tagger

            self.scorer_ = export_topic_tagger(self)
        return self.scorer_

    def predict_proba(self, items: list[TextItem], groups: np.ndarray | None = None) -> np.ndarray:
        """``(n_items, n_labels)``, by the numpy export (the code scoring runs); ``groups``
        as in :meth:`fit` (None: each item a document of its own)."""
        return self.scorer().predict_proba(items, groups)

    def predict(self, items: list[TextItem], groups: np.ndarray | None = None) -> np.ndarray:
        return (self.predict_proba(items, groups) >= self.thresholds_).astype(int)

    def explain(
        self, items: list[TextItem], top: int = 5
    ) -> list[dict[str, list[tuple[str, float]]]]:
        """Per item and label: the stage-1 terms with the largest coefficient × value."""
        return self.scorer().explain(items, top)


def rollup(sentence_proba: np.ndarray, owners: list[int]) -> dict[int, np.ndarray]:
    """Max of sentence probabilities per owner (block index or document), per label."""
    out: dict[int, np.ndarray] = {}
    for row, owner in zip(sentence_proba, owners, strict=True):
        out[owner] = np.maximum(out[owner], row) if owner in out else row.copy()
    return out
