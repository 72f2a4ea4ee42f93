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

from honbun.decision import TOPIC_THRESHOLDS, best_threshold
from honbun.features.text import TextItem, prepare_items
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


def _tuned_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold on ``p`` that maximises F1 for ``y`` (0.5 if ``y`` has no positive;
    ties: the lowest)."""
    if y.sum() == 0:
        return 0.5

    return best_threshold(
        lambda t: binary_prf(y, (p >= t).astype(int)).f1, TOPIC_THRESHOLDS, prefer=None
    )


class TopicTagger:
    """One-vs-rest topic tagger with per-label thresholds (see the module docstring)."""

    def __init__(
        self,
        cfg: TopicConfig,
        labels: tuple[str, ...],
        lexicon: dict[str, list[str]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.labels = labels
        self.lexicon = lexicon or {}  # label -> keywords (NFKC), for features and cold start

    def _fit_models(self, X: sp.csr_matrix, Y: np.ndarray, feat: TextFeaturizer) -> list[Any]:
        models: list[Any] = []
        for k in range(Y.shape[1]):
            y = Y[:, k]
            col = feat.lexicon_column(self.labels[k])
            if col is not None and y.sum() < self.cfg.min_positives:
                models.append(LexiconRule(col))
            elif y.min() == y.max():
                models.append(float(y[0]) if len(y) else 0.0)  # constant: no positives
            else:
                models.append(_linear(self.cfg).fit(X, y))
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
        """Fit; ``groups`` (e.g. document ids) keep inner folds honest for thresholds."""
        self.scorer_ = None
        prepare_items(items, self.cfg.stop_pos, self.cfg.context)
        self.featurizer_ = TextFeaturizer(self.cfg, self.lexicon).fit(items)
        X = self.featurizer_.transform(items)
        self.models_ = self._fit_models(X, Y, self.featurizer_)
        self.thresholds_ = np.full(len(self.labels), 0.5)
        if self.cfg.tune_thresholds and len(items) >= 2 * INNER_FOLDS:
            oof = self._oof(items, Y, groups)
            self.thresholds_ = np.array(
                [_tuned_threshold(Y[:, k], oof[:, k]) for k in range(Y.shape[1])]
            )
        return self

    def _oof(self, items: list[TextItem], Y: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        from sklearn.model_selection import GroupKFold

        g = groups if groups is not None else np.arange(len(items))
        n = min(INNER_FOLDS, len(set(g.tolist())))
        oof = np.zeros(Y.shape, dtype=float)
        for tr, te in GroupKFold(n_splits=n).split(items, groups=g):
            feat = TextFeaturizer(self.cfg, self.lexicon).fit([items[i] for i in tr])
            models = self._fit_models(feat.transform([items[i] for i in tr]), Y[tr], feat)
            oof[te] = self._proba(models, feat.transform([items[i] for i in te]))
        return oof

    def scorer(self) -> Any:
        """The fitted tagger in numpy (:class:`honbun.topics.export.TopicScorer`)."""
        if getattr(self, "scorer_", None) is None:
            from honbun.topics.export import export_topic_tagger

            self.scorer_ = export_topic_tagger(self)
        return self.scorer_

    def predict_proba(self, items: list[TextItem]) -> np.ndarray:
        """``(n_items, n_labels)``, by the numpy export (the code scoring runs)."""
        return self.scorer().predict_proba(items)

    def predict(self, items: list[TextItem]) -> np.ndarray:
        return (self.predict_proba(items) >= self.thresholds_).astype(int)

    def explain(
        self, items: list[TextItem], top: int = 5
    ) -> list[dict[str, list[tuple[str, float]]]]:
        """Per item and label: the terms with the largest coefficient × feature value."""
        return self.scorer().explain(items, top)


def rollup(sentence_proba: np.ndarray, owners: list[int]) -> dict[int, np.ndarray]:
    """Max of sentence probabilities per owner (block index or document), per label."""
    out: dict[int, np.ndarray] = {}
    for row, owner in zip(sentence_proba, owners, strict=True):
        out[owner] = np.maximum(out[owner], row) if owner in out else row.copy()
    return out
