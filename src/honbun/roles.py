"""Which role a block plays (title, paragraph, caption, ranking, …), given its label.

A linear log-loss classifier (one-vs-rest, trained by SGD: 17 roles on ~25k blocks in
about a second) over the block's scaled dense features and its body probability. The
role is then chosen among the roles that the predicted label allows, so label and role
never disagree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from honbun.boilerplate import PreparedPage
from honbun.inference import export_role_model, role_design


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
        """Roles per page, by the numpy export (:class:`honbun.inference.RoleScorer`)."""
        return self.scorer().predict(pages, p_body, labels, positive, negative)

    def scorer(self) -> Any:
        if getattr(self, "scorer_", None) is None:
            self.scorer_ = export_role_model(self.role_labels, self.model_)
        return self.scorer_
