"""Evaluation measures, independent of any model.

``char3`` scores an extracted article text against the gold article text as precision,
recall and F1 over the multiset of character 3-grams after NFKC and whitespace removal,
so it does not depend on how either side was segmented (the same score is used for
honbun and for every baseline).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from honbun.read.normalize import compact


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def prf(tp: float, n_pred: float, n_gold: float) -> PRF:
    """Precision/recall/F1; both sides empty counts as perfect, one side empty as 0."""
    if n_pred == 0 and n_gold == 0:
        return PRF(1.0, 1.0, 1.0)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(p, r, f)


def body_text(texts: list[str], labels: np.ndarray) -> str:
    """The article a labelling makes: the texts labelled 1, one per line."""
    return "\n".join(t for t, y in zip(texts, labels, strict=True) if y)


def char_ngrams(text: str, n: int = 3) -> Counter[str]:
    t = compact(text)
    return Counter(t[i : i + n] for i in range(max(0, len(t) - n + 1)))


def char3(pred: str, gold: str) -> PRF:
    """Character-3-gram multiset P/R/F1 of ``pred`` against ``gold``."""
    p, g = char_ngrams(pred), char_ngrams(gold)
    tp = sum((p & g).values())
    return prf(tp, sum(p.values()), sum(g.values()))


def binary_prf(y_true: np.ndarray, y_pred: np.ndarray) -> PRF:
    """Precision/recall/F1 of the positive class of 0/1 arrays (body blocks, a topic)."""
    tp = float(np.sum((y_true == 1) & (y_pred == 1)))
    return prf(tp, float(np.sum(y_pred == 1)), float(np.sum(y_true == 1)))


def page_char_f1(y: np.ndarray, pred: np.ndarray, lengths: np.ndarray) -> float:
    """F1 of body characters on one page (1.0 when both sides are empty)."""
    tp = float(np.dot(lengths, (y == 1) & (pred == 1)))
    return prf(tp, float(np.dot(lengths, pred == 1)), float(np.dot(lengths, y == 1))).f1


def mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return (float(a.mean()), float(a.std())) if len(a) else (float("nan"), float("nan"))
