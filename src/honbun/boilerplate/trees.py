"""Gradient-boosted trees on features binned by unweighted quantiles (training only).

scikit-learn's ``HistGradientBoostingClassifier`` bins features itself, but with sample
weights it computes *weighted* percentiles one by one, which costs more than the boosting;
:class:`QuantizedHGB` bins first. Scoring never bins: the export turns each "bin <= t"
split into "value <= edge[t]" (:func:`honbun.boilerplate.export.export_forest`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


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
