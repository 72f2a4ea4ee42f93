"""The topic model's second stage reads each sentence in its document.

Stage 1 scores a sentence from its own words; whether a 派遣 or a 訓練 is military often
shows only around it: the neighbouring sentences, what the rest of the document is about,
whether the document is security news at all. :func:`document_design` turns stage 1's
scores of every sentence of a document (and the sentences' keyword-lexicon hits and word
vectors) into the features the second stage learns from.

Shapes: ``scores``, ``hits`` are ``(n, K)`` for ``n`` sentences and ``K`` labels;
``vectors`` ``(n, d)``; ``groups`` ``(n,)`` the document of each sentence, each document's
sentences contiguous and in reading order. The design is ``(n, 8K + 3 + 3d + 2G)``
(``2d`` without the document vector; ``G`` word groups of ``cues``, 0 without).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

NO_NEIGHBOUR = -1.0  # the score a missing previous or next sentence gets


def document_design(
    scores: np.ndarray,
    hits: np.ndarray,
    groups: np.ndarray,
    vectors: np.ndarray | None,
    document_vector: bool = True,
    cues: np.ndarray | None = None,
) -> np.ndarray:
    """Per sentence: its stage-1 scores, its neighbours', its document's highest and mean
    scores and the highest among its other sentences, its lexicon hits and its document's
    share of sentences each lexicon fires on, its relative position, whether it opens the
    document (the headline) and the document's length; with ``vectors``, its own word
    vector, its neighbours' (mean) and (with ``document_vector``) its document's (mean),
    each of unit length; with ``cues`` ``(n, G)`` (word-group hits), its hits and its
    document's share of sentences each group fires on."""
    n, k = scores.shape
    out = [scores]
    prev = np.full((n, k), NO_NEIGHBOUR)
    nxt = np.full((n, k), NO_NEIGHBOUR)
    doc_max = np.empty((n, k))
    doc_mean = np.empty((n, k))
    others_max = np.full((n, k), NO_NEIGHBOUR)
    density = np.empty((n, k))
    cue_density = np.empty(cues.shape) if cues is not None else None
    position = np.empty((n, 3))
    near = np.zeros_like(vectors) if vectors is not None else None
    doc_vec = np.zeros_like(vectors) if vectors is not None else None
    for lo, hi in _runs(groups):
        s = scores[lo:hi]
        m = hi - lo
        prev[lo + 1 : hi] = s[:-1]
        nxt[lo : hi - 1] = s[1:]
        doc_max[lo:hi] = s.max(axis=0)
        doc_mean[lo:hi] = s.mean(axis=0)
        if m > 1:  # the best of the other sentences: the top one sees the runner-up
            top2 = np.sort(s, axis=0)[-2:]
            others_max[lo:hi] = np.where(s >= top2[1], top2[0], top2[1])
        density[lo:hi] = hits[lo:hi].mean(axis=0)
        if cues is not None and cue_density is not None:
            cue_density[lo:hi] = cues[lo:hi].mean(axis=0)
        position[lo:hi, 0] = np.arange(m) / max(1, m - 1)
        position[lo:hi, 1] = 0.0
        position[lo, 1] = 1.0
        position[lo:hi, 2] = np.log1p(m)
        if vectors is not None and near is not None and doc_vec is not None:
            v = vectors[lo:hi]
            pad = np.zeros((1, v.shape[1]), dtype=v.dtype)
            near[lo:hi] = _unit(np.vstack([pad, v[:-1]]) + np.vstack([v[1:], pad]))
            doc_vec[lo:hi] = _unit(v.sum(axis=0, keepdims=True))
    out += [prev, nxt, doc_max, doc_mean, others_max, hits, density, position]
    if vectors is not None:
        out += [vectors, near, doc_vec] if document_vector else [vectors, near]
    if cues is not None and cue_density is not None and cues.shape[1]:
        out += [cues, cue_density]
    return np.hstack(out).astype(np.float32)


def _runs(groups: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of equal group ids."""
    if not len(groups):
        return []
    cuts = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    bounds = [0, *cuts.tolist(), len(groups)]
    return list(pairwise(bounds))


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    return np.where(norm > 0, v / np.where(norm > 0, norm, 1.0), 0.0)
