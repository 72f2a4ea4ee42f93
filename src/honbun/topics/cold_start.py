"""The cold start of a label: too few examples to learn, so its lexicon decides.

A label with fewer than ``min_positives`` positive training sentences (a label a user has
just added) is scored by its keyword lexicon's hit column until more are annotated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp


@dataclass
class LexiconRule:
    """A label with too few examples to learn: its lexicon-hit column, as a probability."""

    column: int
    hit: float = 0.9  # above every tuned threshold on the grid's low end, below certainty
    miss: float = 0.0

    def predict_proba(self, X: sp.csr_matrix) -> np.ndarray:
        p = np.where(X[:, self.column].toarray().ravel() > 0, self.hit, self.miss)
        return np.column_stack([1 - p, p])
