"""The design matrices of the block model: dense features with repetition columns, and
the stage-2 (stacking) features computed from stage 1's scores.

Stage 2 sees each block's dense features plus the stage-1 scores of its neighbours
(:data:`STACK_WINDOW`), of windows around it (:data:`STACK_SMOOTH`), of its template group,
of its article container and of the page (:func:`stack_features`).

Shapes: every design is ``(total blocks, columns)`` over a batch of pages stacked in order.
"""

from __future__ import annotations

import numpy as np

from honbun.features.prepared import PreparedPage, split_rows
from honbun.features.repetition import Repetition, SiteContext

STACK_WINDOW = (1, 2, 3, 5)  # neighbour offsets whose stage-1 probability stage 2 sees
STACK_SMOOTH = (2, 5, 10)  # half-widths of windows whose mean/max stage 2 sees
HIGH_P = 0.5  # a stage-1 score at least this marks a likely body block (span features)


def dense_design(
    pages: list[PreparedPage],
    rep: Repetition | None,
    training: bool,
    context: SiteContext | None = None,
) -> np.ndarray:
    """Dense features (+ repetition columns), ``(total blocks, d)`` float32."""
    dense = np.vstack([p.dense for p in pages]) if pages else np.zeros((0, 0), np.float32)
    if rep is not None:
        dense = np.hstack([dense, rep.transform(pages, training, context)])
    return dense


def own_columns(names: list[str], width: int) -> np.ndarray:
    """Mask of the dense columns that are not the neighbours' copies (``prev_``/``next_``)."""
    own = [not n.startswith(("prev_", "next_")) for n in names]
    own += [True] * (width - len(own))  # repetition columns
    return np.array(own, dtype=bool)


# ------------------------------------------------------------------ stage-2 features
def _stage2_frame(p: PreparedPage, width: int) -> tuple[np.ndarray, bool]:
    """A NaN ``(n_blocks, width)`` array, and whether the page has a DOM to fill it from."""
    out = np.full((p.n, width), np.nan)
    return out, bool(p.n) and p.page.blocks[0].dom is not None


def _expected_body_chars(proba: np.ndarray, lengths: np.ndarray) -> float:
    """Sum of p(body) × chars over the page (floored, it is a denominator)."""
    return max(1e-9, float(np.dot(proba, lengths)))


def container_features(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """Where each block sits relative to the likely article container, ``(n_blocks, 5)``.

    From the stage-1 body probabilities ``proba`` and block lengths, every DOM ancestor
    gets an expected body length ``S`` (sum of p × chars) and a purity ``S / chars``. The
    best container maximises coverage × purity (coverage = S / page S). Columns: inside
    the best container; its purity; purity of the block's nearest container (an ancestor
    with >= CONTAINER_MIN_BLOCKS blocks); mean probability of its siblings (same parent);
    best coverage × purity among the block's ancestors. NaN without a DOM.
    """
    out, has_dom = _stage2_frame(p, 5)
    if not has_dom:
        return out
    st = p.structure
    if not len(st.key_len):
        return out
    lengths = p.lengths
    blk, anc = st.block_of, st.ancestor_of
    # Sums per ancestor, pair by pair in chain order: the same additions as a loop.
    body = np.bincount(anc, weights=(proba[blk] * lengths[blk]), minlength=len(st.key_len))
    total = np.bincount(anc, weights=lengths[blk], minlength=len(st.key_len))
    page_body = _expected_body_chars(proba, lengths)
    purity = body / np.maximum(1.0, total)
    score = (body / page_body) * purity
    # The best: highest score, then the shortest XPath, then the first met.
    best = int(np.lexsort((st.first_seen, st.key_len, -score))[0])
    out[:, 0] = 0.0
    out[blk[anc == best], 0] = 1.0
    out[:, 1] = purity[best]
    # Id 0 (the first block's outermost ancestor) reads as "no container", as the
    # trained models saw it (the loop this replaces tested the id for truth).
    near = st.near
    has_near = near > 0
    out[has_near, 2] = purity[near[has_near]]
    parent = st.parent
    sib = (parent >= 0) & (st.count[np.maximum(parent, 0)] > 1)
    i = np.flatnonzero(sib)
    a = parent[i]
    out[i, 3] = (body[a] - proba[i] * lengths[i]) / np.maximum(1.0, total[a] - lengths[i])
    has_chain = np.diff(np.append(st.chain_start, len(anc))) > 0
    if has_chain.any():
        top = np.maximum.reduceat(score[anc], st.chain_start[has_chain])
        out[has_chain, 4] = top
    return out


def group_features(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """Stage-1 scores of the block's template group (same tag path and classes), ``(n, 3)``.

    Columns: the group's character-weighted mean score without the block itself, the
    group's highest other score (NaN for a block alone in its group), and the group's
    share of the page's expected body characters. NaN without a DOM.
    """
    out, has_dom = _stage2_frame(p, 3)
    if not has_dom:
        return out
    lengths = p.lengths
    page_body = _expected_body_chars(proba, lengths)
    groups = p.structure.groups
    # A block alone in its group (most groups) has only the share column: all at once.
    alone = [idx for idx in groups if len(idx) == 1]
    if alone:
        i = np.concatenate(alone)
        out[i, 2] = lengths[i] * proba[i] / page_body
    for idx in groups:
        if len(idx) < 2:
            continue
        w, s = lengths[idx], proba[idx]
        body = float(np.dot(w, s))
        out[idx, 2] = body / page_body
        sw = w.sum()
        out[idx, 0] = (body - w * s) / np.maximum(1.0, sw - w)
        top2 = np.sort(s)[-2:]
        out[idx, 1] = np.where(s >= top2[1], top2[0], top2[1])
    return out


def span_features(proba: np.ndarray) -> np.ndarray:
    """Position relative to the likely body blocks (stage-1 score >= HIGH_P), ``(n, 5)``.

    Columns: page max score, score minus page max, score / page max, log1p distance (in
    blocks) to the nearest likely body block (log1p(n) when there is none) and whether
    the block lies between the first and the last likely body block.
    """
    n = len(proba)
    top = float(proba.max()) if n else 0.0
    high = np.flatnonzero(proba >= HIGH_P)
    idx = np.arange(n)
    if len(high):
        # The likely body blocks on either side of each block (searchsorted: a blocks ×
        # likely-body-blocks distance matrix made long pages quadratic in time and memory).
        after = np.searchsorted(high, idx)
        left = high[np.maximum(after - 1, 0)]
        right = high[np.minimum(after, len(high) - 1)]
        dist = np.minimum(np.abs(idx - left), np.abs(right - idx)).astype(float)
        inside = (idx >= high[0]) & (idx <= high[-1])
    else:
        dist, inside = np.full(n, float(n)), np.zeros(n, dtype=bool)
    return np.column_stack(
        [np.full(n, top), proba - top, proba / max(top, 1e-9), np.log1p(dist), inside]
    )


def _window_max(s1: np.ndarray, w: int) -> np.ndarray:
    """Column-wise max of ``s1[i - w : i + w + 1]`` (clipped to the page) for each row ``i``."""
    n, k = s1.shape
    padded = np.vstack([np.full((w, k), -np.inf), s1, np.full((w, k), -np.inf)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1, axis=0)
    return windows.max(axis=-1)[:n]


def stack_features(p: PreparedPage, s1: np.ndarray) -> np.ndarray:
    """Stage-2 features of one page from its stage-1 scores ``s1`` ``(n, k)``."""
    n, k = s1.shape
    feats = [s1]
    for off in STACK_WINDOW:
        prev = np.vstack([np.full((off, k), -1.0), s1])[:n]
        nxt = np.vstack([s1, np.full((off, k), -1.0)])[off:]
        feats += [prev, nxt]
    csum = np.vstack([np.zeros((1, k)), np.cumsum(s1, axis=0)])
    idx = np.arange(n)
    for w in STACK_SMOOTH:
        lo, hi = np.maximum(0, idx - w), np.minimum(n, idx + w + 1)
        feats.append((csum[hi] - csum[lo]) / (hi - lo)[:, None])
        feats.append(_window_max(s1, w))
    page_mean = np.repeat(s1.mean(axis=0, keepdims=True), n, axis=0)
    rank = s1.argsort(axis=0).argsort(axis=0) / max(1, n - 1)
    main = s1[:, 0]
    feats += [
        page_mean,
        rank,
        container_features(p, main),
        group_features(p, main),
        span_features(main),
    ]
    return np.hstack(feats)


def stage2_design(
    pages: list[PreparedPage], dense: np.ndarray, s1: np.ndarray, own: np.ndarray | None
) -> np.ndarray:
    """Stage-2 input ``(total blocks, d2)`` float32: the dense features (only the ``own``
    columns when given) and :func:`stack_features` of the stage-1 scores ``s1``."""
    ctx = [stack_features(p, s) for p, s in zip(pages, split_rows(s1, pages), strict=True)]
    if own is not None:
        dense = dense[:, own]
    return np.hstack([dense, np.vstack(ctx)]).astype(np.float32)
