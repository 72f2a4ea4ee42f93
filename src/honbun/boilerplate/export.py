"""The fitted block model as plain numpy arrays: what ``honbun score`` runs.

Training fits scikit-learn estimators; at the end of ``fit`` each model exports itself to
the classes here, which compute the same probabilities with numpy alone. Why: a scoring
process then neither imports scikit-learn (1 s and ~150 MB of start-up: scipy, pandas,
narwhals) nor pays its per-call input validation, which on a 20-block page cost more
than the arithmetic. The training-time ``predict_proba`` of the models goes through the
same export, so cross-validation measures the code that scores; a test checks the
export against the scikit-learn estimators it came from.

:class:`BlockScorer` returns the model's probabilities; the decision rules
(:mod:`honbun.boilerplate.rules`) are a step of their own, after it.

Shapes: ``dense`` is ``(n_blocks, n_features)``; probabilities are ``(n_blocks,)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from honbun.boilerplate.config import DENSE_CLIP, ModelConfig
from honbun.decision import expit, rescale
from honbun.features.bags import family_slices
from honbun.features.design import dense_design, own_columns, stage2_design
from honbun.features.prepared import PreparedPage, split_rows, stacked_counts
from honbun.features.repetition import Repetition, SiteContext
from honbun.trees import Forest, export_forest


# ------------------------------------------------------------------ linear stage 1
@dataclass
class SparseFamily:
    """One hashed family's kept columns and weights (see :class:`~honbun.boilerplate.SparseDesign`)."""

    name: str
    lo: int  # its first column in the hashed counts
    keep: np.ndarray  # kept hashed columns (sorted), (k,)
    idf: np.ndarray  # (k,) float32; unused for "dom" (binary)
    coef: np.ndarray  # (k,) the linear model's weights of these columns


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
    _table: tuple[np.ndarray, ...] | None = field(default=None, repr=False, compare=False)

    def _lookup(self) -> tuple[np.ndarray, ...]:
        """Hashed column -> kept index (-1: dropped), and per kept index its family, IDF,
        weight and whether it is TF-IDF weighted (built on first use)."""
        if self._table is None:
            width = max(
                (f.lo + int(f.keep.max()) + 1 for f in self.families if len(f.keep)), default=0
            )
            lookup = np.full(width, -1, dtype=np.int64)
            pos = 0
            for f in self.families:
                lookup[f.lo + f.keep] = np.arange(pos, pos + len(f.keep))
                pos += len(f.keep)
            fam = np.concatenate([np.full(len(f.keep), i) for i, f in enumerate(self.families)])
            tfidf = np.concatenate([np.full(len(f.keep), f.name != "dom") for f in self.families])
            idf = np.concatenate([np.asarray(f.idf, dtype=np.float32) for f in self.families])
            coef = np.concatenate([f.coef for f in self.families])
            self._table = (lookup, fam.astype(np.int64), idf, coef, tfidf.astype(bool))
        return self._table

    def _sparse(self, rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
        """The hashed families' share of each block's linear score, ``(n,)``: binary DOM
        tokens, and per family sublinear TF-IDF L2-normalised per block."""
        lookup, fam, idf, coef, tfidf = self._lookup()
        inside = cols < len(lookup)
        j = np.full(len(cols), -1, dtype=np.int64)
        j[inside] = lookup[cols[inside]]
        hit = j >= 0
        r, j, c = rows[hit], j[hit], counts[hit].astype(np.float32)
        weighted = tfidf[j]
        val = np.where(
            weighted, (np.float32(1.0) + np.log(c)) * idf[j], np.minimum(c, np.float32(1.0))
        )
        key = r * len(self.families) + fam[j]
        sq = np.where(weighted, val.astype(np.float64) ** 2, 0.0)
        norm = np.sqrt(np.bincount(key, weights=sq, minlength=n * len(self.families)))[key]
        val = np.where(weighted & (norm > 0), val / np.where(norm > 0, norm, 1.0), val)
        return np.bincount(r, weights=val * coef[j], minlength=n)

    def predict_proba(self, pages: list[PreparedPage], dense: np.ndarray) -> np.ndarray:
        """``(total blocks, 2)`` probabilities of boilerplate and body."""
        X = np.nan_to_num(dense[:, self.own]).astype(np.float64)
        scaled = np.clip((X - self.mean) / self.scale, -self.clip, self.clip).astype(np.float32)
        z = scaled.astype(np.float64) @ self.dense_coef + self.intercept
        if self.families:
            z = z + self._sparse(*stacked_counts(pages), len(z))
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
    slices = family_slices()
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
    blend: Forest | None = None  # the plain gradient-boosted model (cfg.blend_hgb), if any
    rounds: list[list[Forest]] | None = None  # stacking rounds before stage 2 (stack_rounds)
    # Further stacks (cfg.stack_variants), averaged with the one above: (rounds, last
    # round, threshold) each.
    variants: list[tuple[list[list[Forest]], list[Forest], float]] | None = None

    def predict_proba(
        self, pages: list[PreparedPage], alone: bool = False, context: SiteContext | None = None
    ) -> list[np.ndarray]:
        """The model's body probability of every block, one ``(n_blocks,)`` array per page
        (before the decision rules).

        The pages are scored together: the repetition columns count the other given pages
        of the same site. With ``alone`` each page gets what scoring it by itself gives
        (only the training pages are counted), while the models still run once over all
        of them: batch scoring, where per-call overhead outweighed the arithmetic. With a
        ``context`` (:mod:`honbun.features.repetition`, built over a batch including ``pages``)
        the columns count that batch's pages of the same site instead.
        """
        if not pages:
            return []
        if context is not None:
            dense = dense_design(pages, self.rep, training=False, context=context)
        elif alone:
            dense = np.vstack([dense_design([p], self.rep, training=False) for p in pages])
        else:
            dense = dense_design(pages, self.rep, training=False)
        if self.cfg.model == "hgb":
            proba = self.stage2[0].predict_proba(dense)[:, 1]
        else:
            scores = stage1_scores(self.stage1, pages, dense)
            if not self.stage2:
                proba = scores[:, 0]
            else:
                stacks = [(self.rounds or [], self.stage2, self.threshold), *(self.variants or [])]
                seen: dict[tuple[tuple[int, ...], ...], np.ndarray] = {}
                # Every stack's first round reads stage 1's scores: one design for all.
                first = stage2_design(pages, dense, scores, self.stage2_own)
                proba = np.mean(
                    [self._stacked(*s, pages, dense, scores, seen, first) for s in stacks],
                    axis=0,
                )
            if self.blend is not None:
                # A second opinion that never saw stage 1's votes: on an unseen site the
                # stacked model's sharp stage-1 votes are sometimes wrong together.
                w = self.cfg.blend_hgb
                proba = (1 - w) * proba + w * self.blend.predict_proba(dense)[:, 1]
        return split_rows(proba, pages)

    def _stacked(
        self,
        rounds: list[list[Forest]],
        last: list[Forest],
        threshold: float,
        pages: list[PreparedPage],
        dense: np.ndarray,
        scores: np.ndarray,
        seen: dict[tuple[tuple[int, ...], ...], np.ndarray],
        first: np.ndarray,
    ) -> np.ndarray:
        """``(total blocks,)`` body probability of one stack over stage 1's ``scores``: its
        rounds in order, each seeing the scores of all before it, then its last round,
        rescaled so that its tuned ``threshold`` falls at 0.5.

        ``first`` is the stacked design over ``scores`` (what the first round reads).
        ``seen`` holds the rounds other stacks already ran, keyed by the models of the
        round and of every round before it: stacks on the same site folds share their
        first rounds (the same Forest objects, see :func:`export_block_model`).
        """
        path: tuple[tuple[int, ...], ...] = ()
        X: np.ndarray | None = first
        for r, models in enumerate([*rounds, last]):
            path += (tuple(id(m) for m in models),)
            if path not in seen:
                if X is None:
                    X = stage2_design(pages, dense, scores, self.stage2_own)
                seen[path] = self._boosted(models, X)
            if r < len(rounds):
                scores = np.column_stack([seen[path], scores])
                X = None
        return rescale(seen[path], threshold)

    def _boosted(self, models: list[Forest], X: np.ndarray) -> np.ndarray:
        """``(total blocks,)`` body probability of one stacking round's models, averaged,
        over its stacked design ``X`` ``(total blocks, d2)``."""
        return np.mean([m.predict_proba(X)[:, 1] for m in models], axis=0)


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
    width = len(model.feature_names) + (Repetition.COLUMNS if model.rep_ is not None else 0)
    stage1 = export_stage1(model, model.stage1_, width)
    own = None if model.cfg.stage2_neighbours else own_columns(model.feature_names, width)
    # A model two stacks share is exported once, so scoring can tell it is the same.
    forests: dict[int, Forest] = {}

    def forest(m: Any) -> Forest:
        if id(m) not in forests:
            forests[id(m)] = export_forest(m)
        return forests[id(m)]

    return BlockScorer(
        cfg=model.cfg,
        rep=model.rep_,
        stage2_own=own,
        stage1=stage1,
        stage2=[forest(m) for m in model.stage2_],
        threshold=float(model.threshold_),
        blend=None if getattr(model, "blend_", None) is None else export_forest(model.blend_),
        rounds=[[forest(m) for m in ms] for ms in getattr(model, "rounds_", [])] or None,
        variants=[
            ([[forest(m) for m in ms] for ms in rounds], [forest(m) for m in last], t)
            for rounds, last, t in getattr(model, "variants_", [])
        ]
        or None,
    )
