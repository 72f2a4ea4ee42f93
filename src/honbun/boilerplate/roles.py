"""Which role a block plays (title, paragraph, caption, ranking, …), given its label.

A linear log-loss classifier (one-vs-rest, trained by SGD: 17 roles on ~25k blocks in
about a second) over the block's scaled dense features and its body probability. The
role is then chosen among the roles that the predicted label allows, so label and role
never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from honbun.decision import expit
from honbun.features.prepared import PreparedPage

ROLE_ROWS = 4096  # blocks the role scorer takes at once (its temporaries are rows × features)


class RoleModel:
    """``fit(pages, roles, p_body)`` / ``predict(pages, p_body, labels)``; one array per page."""

    def __init__(self, role_labels: dict[str, str], seed: int = 13) -> None:
        self.role_labels = role_labels  # role -> the block label it implies
        self.seed = seed

    @staticmethod
    def _X(pages: list[PreparedPage], p_body: list[np.ndarray]) -> np.ndarray:
        return role_design(pages, p_body)

    def fit(
        self, pages: list[PreparedPage], roles: list[list[str]], p_body: list[np.ndarray]
    ) -> RoleModel:
        from sklearn.linear_model import SGDClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.scorer_ = None
        y = np.array([r for rs in roles for r in rs])
        self.model_ = make_pipeline(
            StandardScaler(),
            SGDClassifier(
                loss="log_loss", alpha=1e-4, max_iter=30, tol=None, random_state=self.seed
            ),
        ).fit(self._X(pages, p_body), y)
        return self

    def predict(
        self,
        pages: list[PreparedPage],
        p_body: list[np.ndarray],
        labels: list[np.ndarray],
        positive: str,
        negative: str,
    ) -> list[list[str]]:
        """Roles per page, by the numpy export (:class:`RoleScorer`)."""
        return self.scorer().predict(pages, p_body, labels, positive, negative)

    def scorer(self) -> Any:
        if getattr(self, "scorer_", None) is None:
            self.scorer_ = export_role_model(self.role_labels, self.model_)
        return self.scorer_


# ------------------------------------------------------------------ roles
def role_design(pages: list[PreparedPage], p_body: list[np.ndarray]) -> np.ndarray:
    """The role model's input, ``(total blocks, d + 1)``: dense features (NaN as 0) and
    the block's body probability."""
    dense = np.nan_to_num(np.vstack([p.dense for p in pages]))
    return np.hstack([dense, np.concatenate(p_body)[:, None]])


@dataclass
class RoleScorer:
    """A fitted :class:`~honbun.boilerplate.roles.RoleModel` (scaler + one-vs-rest logistic) in numpy."""

    role_labels: dict[str, str]
    classes: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (n_roles, d)
    intercept: np.ndarray  # (n_roles,)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, n_roles)``: each role's logistic score, normalised to sum to 1."""
        if len(X) > ROLE_ROWS:  # rows are independent: bound the (rows × d) temporaries
            return np.vstack(
                [self.predict_proba(X[i : i + ROLE_ROWS]) for i in range(0, len(X), ROLE_ROWS)]
            )
        # Row by row (not a matrix product, whose rounding can depend on the number of
        # rows): a page scored alone or in a batch gets the same bits.
        scaled = (X - self.mean) / self.scale
        z = np.column_stack([(scaled * w).sum(axis=1) for w in self.coef])
        p = expit(z.reshape(len(X), len(self.coef)) + self.intercept)
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
        proba = self.predict_proba(role_design(pages, p_body))
        body_mask = np.array([self.role_labels.get(c) == positive for c in self.classes])
        y = np.concatenate(labels).astype(bool)
        allowed = np.where(y[:, None], body_mask, ~body_mask)  # (total blocks, n_roles)
        best = np.where(allowed, proba, -1.0).argmax(axis=1)
        found = [
            self.classes[b] if ok else default_role(yi)
            for b, ok, yi in zip(
                best.tolist(), allowed.any(axis=1).tolist(), y.tolist(), strict=True
            )
        ]
        bounds = np.cumsum([0] + [p.n for p in pages]).tolist()
        return [found[lo:hi] for lo, hi in pairwise(bounds)]


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
