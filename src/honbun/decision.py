"""How a probability becomes a decision, for every model of honbun.

The logistic function (:func:`expit`), the decision value (:data:`DECISION`: ``p >= 0.5``
is positive), the search for the threshold that maximises an objective on a grid
(:func:`best_threshold`) and the monotone map that moves a tuned threshold to the decision
value (:func:`rescale`), so that every model's output can be read as ``p >= 0.5``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DECISION = 0.5  # a tuned threshold is mapped to this probability
# Thresholds tried: the block model's stage 2 (mean per-page character F1 is flat near its
# optimum, so a coarse grid), and each topic label (F1 of rare labels moves in small steps).
BLOCK_THRESHOLDS = np.round(np.arange(0.1, 0.91, 0.025), 3)
TOPIC_THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function, ``1 / (1 + exp(-x))``, without overflow warnings."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def best_threshold(
    objective: Callable[[float], float], grid: np.ndarray, prefer: float | None = DECISION
) -> float:
    """The threshold of ``grid`` with the highest ``objective(t)``.

    Ties go to the threshold nearest ``prefer`` (then the higher one); with ``prefer=None``
    to the lowest threshold that reaches the best value.
    """
    best_t, best_key = float(grid[0]), None
    for t in grid:
        value = float(objective(float(t)))
        if prefer is None:
            if best_key is None or value > best_key[0] + 1e-12:
                best_t, best_key = float(t), (value,)
            continue
        key = (value, -abs(float(t) - prefer), float(t))
        if best_key is None or key > best_key:
            best_t, best_key = float(t), key
    return best_t


def rescale(proba: np.ndarray, threshold: float) -> np.ndarray:
    """Monotone piecewise-linear map sending ``threshold`` to :data:`DECISION` (0 and 1 fixed)."""
    t = min(max(threshold, 1e-6), 1 - 1e-6)
    low = proba * DECISION / t
    high = DECISION + (proba - t) * (1 - DECISION) / (1 - t)
    return np.where(proba < t, low, high)


def platt(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of the logistic map ``expit(a * logit(p) + b)`` that calibrates the
    probabilities ``p`` to the 0/1 outcomes ``y`` (Platt scaling; identity when ``y`` is
    constant)."""
    if y.min() == y.max():
        return 1.0, 0.0
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=100.0).fit(logit(p)[:, None], y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def calibrate(p: np.ndarray, a: float, b: float) -> np.ndarray:
    """``p`` through the Platt map ``(a, b)``."""
    return expit(a * logit(p) + b)


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))
