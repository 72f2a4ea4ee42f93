"""Histogram gradient boosting that tolerates all-missing feature columns.

scikit-learn 1.9.1's ``HistGradientBoostingClassifier`` fails while binning a column that
is NaN for every training row ("window shape cannot be larger than input array shape").
Such columns are normal here: a text-only model has no DOM, so its container features are
all missing. This wrapper drops columns that are entirely NaN at ``fit`` and drops the
same columns at prediction time.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class NanSafeHGB:
    """``HistGradientBoostingClassifier`` with all-NaN training columns removed."""

    def __init__(self, **params: Any) -> None:
        self.params = params

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> NanSafeHGB:
        from sklearn.ensemble import HistGradientBoostingClassifier

        self.keep_ = ~np.all(np.isnan(X), axis=0)
        self.model_ = HistGradientBoostingClassifier(**self.params)
        self.model_.fit(X[:, self.keep_], y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(X[:, self.keep_])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(X[:, self.keep_])

    @property
    def classes_(self) -> np.ndarray:
        return self.model_.classes_
