"""Gradient-boosted trees, the model family the block and topic models share: trained
on features binned by unweighted quantiles (:class:`QuantizedHGB`, scikit-learn; averaged over
bags of documents by :class:`BaggedHGB`), scored as
flat numpy node arrays (:class:`Forest`, what ``honbun score`` runs).

scikit-learn's ``HistGradientBoostingClassifier`` bins features itself, but with sample
weights it computes *weighted* percentiles one by one, which costs more than the boosting;
:class:`QuantizedHGB` bins first. Scoring never bins: :func:`export_forest` turns each
"bin <= t" split into "value <= edge[t]".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from honbun.decision import expit

# Rows a forest walks at once: its temporaries are (rows × trees) and (rows × 2 columns)
# arrays, 15 KB a row with 150 trees, so a page of 200,000 blocks needed 3 GB at once.
# At 256 rows they stay in the CPU's cache (about 300 KB each with 150 trees): the 93
# development pages score in 0.90-0.95 of the time they take at 1,024 (docs/benchmarks.md).
FOREST_ROWS = 256


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


class BaggedHGB:
    """The mean log-odds of ``n_bags`` :class:`QuantizedHGB`, each fitted on a random
    ``share`` of the documents (``groups``), drawn without replacement.

    Why: the topic tagger's second stage, boosted trees fitted once on a few thousand
    sentences, learns some documents' quirks; averaging fits that each miss a fifth of the
    documents smooths them (docs/topics.md: +0.005 to +0.007 macro F1 on three seeds).
    ``n_bags = 1`` is one :class:`QuantizedHGB` on every row, as before bagging, with the
    same probabilities bit for bit.

    ``fit(X, y, sample_weight, groups)``: ``X`` ``(n, d)``; ``predict_proba(X)``: ``(n, 2)``.
    """

    def __init__(
        self, n_bags: int = 1, share: float = 0.8, random_state: int = 0, **params: Any
    ) -> None:
        self.n_bags = n_bags
        self.share = share
        self.random_state = random_state
        self.params = params
        self.members_: list[QuantizedHGB] = []

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> BaggedHGB:
        def member(rows: np.ndarray | slice) -> QuantizedHGB:
            w = None if sample_weight is None else sample_weight[rows]
            return QuantizedHGB(random_state=self.random_state, **self.params).fit(
                X[rows], y[rows], sample_weight=w
            )

        if self.n_bags <= 1:
            self.members_ = [member(slice(None))]
            return self
        g = np.arange(len(y)) if groups is None else np.asarray(groups)
        docs = np.unique(g)
        take = max(1, round(len(docs) * self.share))
        rng = np.random.default_rng(self.random_state)
        self.members_ = []
        for _ in range(self.n_bags):
            rows = np.flatnonzero(np.isin(g, rng.choice(docs, take, replace=False)))
            self.members_.append(member(rows))
        return self

    def forest(self) -> Forest:
        """The members as one :class:`Forest` (what scoring walks)."""
        return Forest.mean([export_forest(m) for m in self.members_])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if len(self.members_) == 1:
            return self.members_[0].predict_proba(X)
        return self.forest().predict_proba(X)


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


# ------------------------------------------------------------------ gradient boosting
@dataclass
class Forest:
    """A binary HistGradientBoosting model as flat node arrays (all trees concatenated).

    ``predict_proba(X)`` takes the raw features ``(n, d)`` and returns ``(n, 2)``. The
    trees were grown on :class:`~honbun.boilerplate.QuantizedHGB`'s quantile bins; a split
    "bin <= t" is the same test as "x <= edges[t]" on the raw value (the bin of ``x`` is
    the number of edges below it), so the export stores raw thresholds and never bins.
    """

    roots: np.ndarray  # (n_trees,) node index of each tree's root, deepest tree first
    tree_depth: np.ndarray  # (n_trees,) steps to a leaf in each tree (non-increasing)
    feature: np.ndarray  # (n_nodes,) split column of X
    threshold: np.ndarray  # (n_nodes,) go left when x <= threshold
    missing_left: np.ndarray  # (n_nodes,) bool: NaN goes left
    left: np.ndarray  # (n_nodes,) child indices; a leaf is its own child (rows stay)
    right: np.ndarray
    value: np.ndarray  # (n_nodes,) leaf values (raw log-odds), 0 on split nodes
    baseline: float

    _walk: tuple[np.ndarray, ...] | None = field(default=None, repr=False, compare=False)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of the positive class, ``(n,)``: baseline + one leaf value per tree.

        All trees descend together, one level per step, each (tree, row) pair holding a
        *slot*: twice its node, so that the slot plus "goes right" (0 or 1) indexes the
        child's slot. The pairs are laid out tree-major, ``(n_trees, n)``, so the trees
        still descending are a contiguous block (trees are sorted deepest first) and each
        step is a handful of ``take`` calls into preallocated buffers: about 0.55 of the
        time of the row-major walk with fancy indexing, with the same log-odds bit for
        bit (docs/benchmarks.md).

        NaN needs no test of its own: a node whose missing values go left reads a copy
        of ``X`` with NaN as -inf, the others a copy with NaN as +inf (and "x <= +inf"
        thresholds lowered to the largest float, which every finite value still passes).
        That needs ``X`` free of +inf; otherwise each step tests for NaN.
        """
        X = np.asarray(X, dtype=np.float64)
        if len(X) > FOREST_ROWS:  # rows are independent: bound the temporaries below
            return np.concatenate(
                [self.raw(X[i : i + FOREST_ROWS]) for i in range(0, len(X), FOREST_ROWS)]
            )
        n, d = X.shape
        child, feature, missing_left, threshold, lowered, width = self._slots()
        if d < width:  # take(mode="clip") would not notice
            raise ValueError(f"X has {d} columns; this forest reads column {width - 1}")
        n_trees = len(self.roots)
        slot = np.repeat(2 * self.roots[:, None], n, axis=1)  # (n_trees, n)
        nan = np.isnan(X)
        exact = not np.isposinf(X).any()
        # Column-major, so that column j of row r is at j * n + r.
        if exact:  # [NaN as +inf | NaN as -inf]
            flat = np.vstack([np.where(nan, np.inf, X).T, np.where(nan, -np.inf, X).T]).ravel()
            column = (feature + d * missing_left) * n
        else:
            flat, column, lowered = X.T.ravel(), feature * n, threshold
        rows = np.arange(n)
        at_ = np.empty((n_trees, n), dtype=np.int64)
        x_ = np.empty((n_trees, n))
        t_ = np.empty((n_trees, n))
        right_ = np.empty((n_trees, n), dtype=bool)
        for step in range(int(self.tree_depth[0]) if n_trees else 0):
            k = int(np.count_nonzero(self.tree_depth > step))  # trees still descending
            s, at, x, t, right = slot[:k], at_[:k], x_[:k], t_[:k], right_[:k]
            # mode="clip": every index is in range, and "raise" would buffer `out`.
            column.take(s, out=at, mode="clip")
            at += rows
            flat.take(at, out=x, mode="clip")
            lowered.take(s, out=t, mode="clip")
            if exact:
                np.greater(x, t, out=right)  # x is never NaN here: "not x <= t"
            else:
                right[:] = ~(x <= t) & ~(missing_left.take(s, mode="clip") & np.isnan(x))
            s += right
            child.take(s, out=s, mode="clip")
        leaf = np.ascontiguousarray(slot.T) // 2  # (n, n_trees): the sum's order as before
        return self.baseline + self.value[leaf].sum(axis=1)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_walk": None}  # derived: rebuilt on first use

    def _slots(self) -> tuple[np.ndarray, ...]:
        """Per slot (``(2 n_nodes,)``, two per node): the child's slot (left at the even
        slot, right at the odd one), the node's split column, whether NaN goes left, its
        threshold, and its threshold with +inf lowered to the largest float where NaN
        goes right; last, the number of columns ``X`` needs (a 0-d array)."""
        if self._walk is None:
            # take(out=...) needs the buffers' dtypes: int64 nodes, float64 thresholds.
            child = 2 * np.stack([self.left, self.right], axis=1).ravel().astype(np.int64)
            threshold = self.threshold.astype(np.float64)
            top = ~self.missing_left & (threshold == np.inf)
            lowered = np.where(top, np.finfo(np.float64).max, threshold)
            self._walk = (
                child,
                np.repeat(self.feature.astype(np.int64), 2),
                np.repeat(self.missing_left.astype(bool), 2),
                np.repeat(threshold, 2),
                np.repeat(lowered, 2),
                np.array(int(self.feature.max()) + 1 if len(self.feature) else 0),
            )
        return self._walk

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = expit(self.raw(X))
        return np.column_stack([1 - p, p])

    @classmethod
    def mean(cls, forests: list[Forest]) -> Forest:
        """One forest whose log-odds are the mean of ``forests``': their trees side by
        side (deepest first, as the walk needs), leaf values and baselines divided by
        their number."""
        if len(forests) == 1:
            return forests[0]
        trees = []  # (depth, forest, first node, nodes)
        for f in forests:
            sizes = np.diff(np.append(f.roots, len(f.feature)))
            depth, first = f.tree_depth.tolist(), f.roots.tolist()
            trees += zip(depth, [f] * len(sizes), first, sizes.tolist(), strict=True)
        trees.sort(key=lambda t: -t[0])  # stable: each forest's trees keep their order
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("feature", "threshold", "missing_left", "left", "right", "value")
        }
        roots, at = [], 0
        for _, f, first, size in trees:
            nodes = slice(first, first + size)
            roots.append(at)
            for k in ("feature", "threshold", "missing_left"):
                parts[k].append(getattr(f, k)[nodes])
            parts["left"].append(f.left[nodes] - first + at)
            parts["right"].append(f.right[nodes] - first + at)
            parts["value"].append(f.value[nodes] / len(forests))
            at += size
        return cls(
            roots=np.array(roots, dtype=np.int64),
            tree_depth=np.array([t[0] for t in trees], dtype=np.int64),
            baseline=float(np.mean([f.baseline for f in forests])),
            **{k: np.concatenate(v) for k, v in parts.items()},
        )


def export_forest(q: Any) -> Forest:
    """A :class:`Forest` from a fitted :class:`~honbun.boilerplate.QuantizedHGB`."""
    model = q.model_
    trees = [it[0].nodes for it in model._predictors]  # binary: one tree per iteration
    trees.sort(key=lambda t: -int(t["depth"].max()))  # the sum does not care about order
    sizes = np.array([len(t) for t in trees])
    roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    offset = np.repeat(roots, sizes)
    nodes = np.concatenate(trees)
    leaf = nodes["is_leaf"].astype(bool)
    kept = np.flatnonzero(q.keep_)  # QuantizedHGB's columns -> columns of X
    own = np.arange(len(nodes))
    feature = np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64)
    threshold = np.full(len(nodes), np.inf)
    for i in np.flatnonzero(~leaf):
        edges = q.edges_[feature[i]]
        t = float(np.floor(nodes["num_threshold"][i]))  # bins are integers: bin <= t
        if t < 0:  # below every bin: only NaN can go left
            threshold[i] = -np.inf
        elif t < len(edges):  # else (t >= the last bin, or inf: a NaN-only split) stays inf
            threshold[i] = edges[int(t)]
    return Forest(
        roots=roots,
        tree_depth=np.array([int(t["depth"].max()) for t in trees], dtype=np.int64),
        feature=np.where(leaf, 0, kept[feature]),
        threshold=threshold,
        missing_left=nodes["missing_go_to_left"].astype(bool),
        left=np.where(leaf, own, nodes["left"].astype(np.int64) + offset),
        right=np.where(leaf, own, nodes["right"].astype(np.int64) + offset),
        value=np.where(leaf, nodes["value"], 0.0),
        baseline=float(np.ravel(model._baseline_prediction)[0]),
    )
