"""Fitted block and role models as plain numpy arrays: what ``honbun score`` runs.

Training fits scikit-learn estimators; at the end of ``fit`` each model exports itself to
the classes here, which compute the same probabilities with numpy alone. Why: a scoring
process then neither imports scikit-learn (1 s and ~150 MB of start-up: scipy, pandas,
narwhals) nor pays its per-call input validation, which on a 20-block page cost more
than the arithmetic. The training-time ``predict_proba`` of the models goes through the
same export, so cross-validation measures the code that scores; a test checks the
export against the scikit-learn estimators it came from.

Shapes: ``dense`` is ``(n_blocks, n_features)``; probabilities are ``(n_blocks,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from honbun.boilerplate import (
    DENSE_CLIP,
    ModelConfig,
    PreparedPage,
    Repetition,
    _at_least_one,
    _family_slices,
    _split,
    dense_design,
    hashed_counts,
    own_columns,
    rescale,
    stage2_design,
)


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function, ``1 / (1 + exp(-x))``, without overflow warnings."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


# ------------------------------------------------------------------ gradient boosting
@dataclass
class Forest:
    """A binary HistGradientBoosting model as flat node arrays (all trees concatenated).

    ``predict_proba(X)`` takes the raw features ``(n, d)`` and returns ``(n, 2)``. The
    trees were grown on :class:`~honbun.boilerplate.QuantizedHGB`'s quantile bins; a split
    "bin <= t" is the same test as "x <= edges[t]" on the raw value (the bin of ``x`` is
    the number of edges below it), so the export stores raw thresholds and never bins.
    """

    roots: np.ndarray  # (n_trees,) node index of each tree's root
    feature: np.ndarray  # (n_nodes,) split column of X
    threshold: np.ndarray  # (n_nodes,) go left when x <= threshold
    missing_left: np.ndarray  # (n_nodes,) bool: NaN goes left
    left: np.ndarray  # (n_nodes,) child indices
    right: np.ndarray
    leaf: np.ndarray  # (n_nodes,) bool
    value: np.ndarray  # (n_nodes,) leaf values (raw log-odds)
    baseline: float
    depth: int  # deepest leaf: the most steps a row takes

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of the positive class, ``(n,)``: baseline + one leaf value per tree."""
        X = np.asarray(X, dtype=np.float64)
        n = X.shape[0]
        node = np.broadcast_to(self.roots, (n, len(self.roots))).copy()
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            inner = ~self.leaf[node]
            if not inner.any():
                break
            x = X[rows, self.feature[node]]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        return self.baseline + self.value[node].sum(axis=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = expit(self.raw(X))
        return np.column_stack([1 - p, p])


def export_forest(q: Any) -> Forest:
    """A :class:`Forest` from a fitted :class:`~honbun.boilerplate.QuantizedHGB`."""
    model = q.model_
    trees = [it[0].nodes for it in model._predictors]  # binary: one tree per iteration
    sizes = np.array([len(t) for t in trees])
    roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    offset = np.repeat(roots, sizes)
    nodes = np.concatenate(trees)
    leaf = nodes["is_leaf"].astype(bool)
    kept = np.flatnonzero(q.keep_)  # QuantizedHGB's columns -> columns of X
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
        feature=np.where(leaf, 0, kept[feature]),
        threshold=threshold,
        missing_left=nodes["missing_go_to_left"].astype(bool),
        left=np.where(leaf, 0, nodes["left"].astype(np.int64) + offset),
        right=np.where(leaf, 0, nodes["right"].astype(np.int64) + offset),
        leaf=leaf,
        value=np.where(leaf, nodes["value"], 0.0),
        baseline=float(np.ravel(model._baseline_prediction)[0]),
        depth=int(nodes["depth"].max()),
    )


# ------------------------------------------------------------------ linear stage 1
@dataclass
class SparseFamily:
    """One hashed family's kept columns and weights (see :class:`~honbun.boilerplate.SparseDesign`)."""

    name: str
    lo: int  # its first column in the hashed counts
    keep: np.ndarray  # kept hashed columns (sorted), (k,)
    idf: np.ndarray  # (k,) float32; unused for "dom" (binary)
    coef: np.ndarray  # (k,) the linear model's weights of these columns

    def decision(
        self, rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, n: int
    ) -> np.ndarray:
        """This family's share of each block's linear score, ``(n,)``."""
        j = np.searchsorted(self.keep, cols - self.lo)
        j = np.minimum(j, len(self.keep) - 1)
        hit = self.keep[j] == cols - self.lo if len(self.keep) else np.zeros(len(cols), bool)
        r, j, c = rows[hit], j[hit], counts[hit].astype(np.float32)
        if self.name == "dom":
            val = np.minimum(c, np.float32(1.0))
        else:  # sublinear TF-IDF, L2-normalised per block
            val = (np.float32(1.0) + np.log(c)) * self.idf[j]
            norm = np.sqrt(np.bincount(r, weights=val.astype(np.float64) ** 2, minlength=n))
            val = val / np.where(norm > 0, norm, 1.0)[r]
        return np.bincount(r, weights=val * self.coef[j], minlength=n)


@dataclass
class LinearBlocks:
    """Stage 1's linear model: scaled dense columns + hashed sparse families, logistic."""

    own: np.ndarray  # (d,) bool: dense columns it reads
    mean: np.ndarray
    scale: np.ndarray
    clip: float
    dense_coef: np.ndarray
    families: list[SparseFamily]
    intercept: float

    def predict_proba(self, pages: list[PreparedPage], dense: np.ndarray) -> np.ndarray:
        """``(total blocks, 2)`` probabilities of boilerplate and body."""
        X = np.nan_to_num(dense[:, self.own]).astype(np.float64)
        scaled = np.clip((X - self.mean) / self.scale, -self.clip, self.clip).astype(np.float32)
        z = scaled.astype(np.float64) @ self.dense_coef + self.intercept
        if self.families:
            rows, cols, counts, offset = [], [], [], 0
            for p in pages:
                r, c, k = hashed_counts(p)
                rows.append(r + offset)
                cols.append(c)
                counts.append(k)
                offset += p.n
            r, c, k = np.concatenate(rows), np.concatenate(cols), np.concatenate(counts)
            for fam in self.families:
                z = z + fam.decision(r, c, k, len(z))
        p = expit(z)
        return np.column_stack([1 - p, p])


def export_linear(block_model: Any, sgd: Any, width: int) -> LinearBlocks:
    """A :class:`LinearBlocks` from a fitted BlockModel's scaler and sparse design and
    its stage-1 SGD model ``sgd``; ``width`` is the number of dense columns."""
    coef = np.ravel(sgd.coef_).astype(np.float64)
    own = own_columns(block_model.feature_names, width)
    n_dense = int(own.sum())
    families, pos = [], n_dense
    design = block_model.sparse_
    slices = _family_slices()
    for name in design.families if design is not None else ():
        keep = np.asarray(design.keep[name])
        families.append(
            SparseFamily(
                name=name,
                lo=slices[name][0],
                keep=keep,
                idf=np.asarray(design.idf[name], dtype=np.float32),
                coef=coef[pos : pos + len(keep)],
            )
        )
        pos += len(keep)
    scaler = block_model.scaler_
    return LinearBlocks(
        own=own,
        mean=np.asarray(scaler.mean_, dtype=np.float64),
        scale=np.asarray(scaler.scale_, dtype=np.float64),
        clip=DENSE_CLIP,
        dense_coef=coef[:n_dense],
        families=families,
        intercept=float(np.ravel(sgd.intercept_)[0]),
    )


# ------------------------------------------------------------------ the block model
@dataclass
class BlockScorer:
    """A fitted :class:`~honbun.boilerplate.BlockModel` in numpy; same ``predict_proba``.

    ``stage1`` is an ensemble: one list of column models per member (a
    :class:`LinearBlocks` reads the sparse features, a :class:`Forest` the dense ones),
    averaged; ``stage2`` the gradient-boosting models over the stacked design, averaged.
    """

    cfg: ModelConfig
    rep: Repetition | None
    stage2_own: np.ndarray | None  # dense columns stage 2 keeps (None: all)
    stage1: list[list[LinearBlocks | Forest]]
    stage2: list[Forest]
    threshold: float

    def predict_proba(self, pages: list[PreparedPage]) -> list[np.ndarray]:
        """Body probability of every block, one ``(n_blocks,)`` array per page."""
        if not pages:
            return []
        dense = dense_design(pages, self.rep, training=False)
        if self.cfg.model == "hgb":
            proba = self.stage2[0].predict_proba(dense)[:, 1]
        else:
            s1 = stage1_scores(self.stage1, pages, dense)
            if not self.stage2:
                proba = s1[:, 0]
            else:
                X2 = stage2_design(pages, dense, s1, self.stage2_own)
                proba = np.mean([m.predict_proba(X2)[:, 1] for m in self.stage2], axis=0)
                proba = rescale(proba, self.threshold)
        out = _split(proba, pages)
        if self.cfg.min_body:
            out = [_at_least_one(p) for p in out]
        return out


def stage1_scores(
    members: list[list[LinearBlocks | Forest]], pages: list[PreparedPage], dense: np.ndarray
) -> np.ndarray:
    """``(total blocks, k)`` stage-1 body probabilities, one column per model of a member,
    averaged over the members (an ensemble)."""
    out = []
    for models in members:
        cols = [
            m.predict_proba(pages, dense)[:, 1]
            if isinstance(m, LinearBlocks)
            else m.predict_proba(dense)[:, 1]
            for m in models
        ]
        out.append(np.column_stack(cols))
    return np.mean(out, axis=0)


def export_stage1(
    model: Any, members: list[list[Any]], width: int
) -> list[list[LinearBlocks | Forest]]:
    """Exports of stage-1 estimators (SGD models and QuantizedHGBs) of a BlockModel whose
    scaler and sparse design are fitted; ``width`` is the number of dense columns."""
    return [
        [export_forest(m) if hasattr(m, "edges_") else export_linear(model, m, width) for m in ms]
        for ms in members
    ]


def export_block_model(model: Any) -> BlockScorer:
    """A :class:`BlockScorer` from a fitted :class:`~honbun.boilerplate.BlockModel`."""
    width = len(model.feature_names) + (2 if model.rep_ is not None else 0)
    stage1 = export_stage1(model, model.stage1_, width)
    own = None if model.cfg.stage2_neighbours else own_columns(model.feature_names, width)
    return BlockScorer(
        cfg=model.cfg,
        rep=model.rep_,
        stage2_own=own,
        stage1=stage1,
        stage2=[export_forest(m) for m in model.stage2_],
        threshold=float(model.threshold_),
    )


# ------------------------------------------------------------------ roles
@dataclass
class RoleScorer:
    """A fitted :class:`~honbun.roles.RoleModel` (scaler + one-vs-rest logistic) in numpy."""

    role_labels: dict[str, str]
    classes: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (n_roles, d)
    intercept: np.ndarray  # (n_roles,)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, n_roles)``: each role's logistic score, normalised to sum to 1."""
        p = expit(((X - self.mean) / self.scale) @ self.coef.T + self.intercept)
        if len(self.classes) == 2:  # one weight vector: the second class's score
            return np.column_stack([1 - p[:, 0], p[:, 0]])
        return p / p.sum(axis=1, keepdims=True)

    def predict(
        self,
        pages: list[PreparedPage],
        p_body: list[np.ndarray],
        labels: list[np.ndarray],
        positive: str,
        negative: str,
    ) -> list[list[str]]:
        """The most likely role of each block among those its label allows, per page."""
        if not pages:
            return []
        dense = np.nan_to_num(np.vstack([p.dense for p in pages]))
        proba = self.predict_proba(np.hstack([dense, np.concatenate(p_body)[:, None]]))
        body_mask = np.array([self.role_labels.get(c) == positive for c in self.classes])
        out = []
        for rows, lab in zip(_split(proba, pages), labels, strict=True):
            page_roles = []
            for row, y in zip(rows, lab, strict=True):
                allowed = body_mask if y else ~body_mask
                if not allowed.any():
                    page_roles.append(default_role(y))
                    continue
                page_roles.append(self.classes[int(np.where(allowed, row, -1.0).argmax())])
            out.append(page_roles)
        return out


def default_role(is_body: Any) -> str:
    """The role of a block when no role model can say: ``paragraph`` or ``other``."""
    return "paragraph" if is_body else "other"


def export_role_model(role_labels: dict[str, str], pipeline: Any) -> RoleScorer:
    """A :class:`RoleScorer` from the fitted ``StandardScaler`` → ``SGDClassifier`` pipeline."""
    scaler, sgd = pipeline[0], pipeline[-1]
    return RoleScorer(
        role_labels=dict(role_labels),
        classes=[str(c) for c in sgd.classes_],
        mean=np.asarray(scaler.mean_, dtype=np.float64),
        scale=np.asarray(scaler.scale_, dtype=np.float64),
        coef=np.asarray(sgd.coef_, dtype=np.float64),
        intercept=np.asarray(sgd.intercept_, dtype=np.float64),
    )
