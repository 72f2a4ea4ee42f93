"""The MLflow pyfunc wrapper: pages in, the same JSON as ``honbun score`` out.

Input: a DataFrame with columns ``doc_id``, ``format`` (``html``/``text``, or empty to
sniff) and ``content`` (the page's text). Output: one result dict per row (error records
for pages that fail), so ``mlflow models serve`` answers ``{"predictions": [...]}``.
Parameters ``body_only`` (default false): the pages are article text already (every
block is body; only topics are scored); ``site_context`` (default false): score the
request's pages against the site context they make together, as ``honbun score
--site-context`` does with its inputs.

Limits of ``mlflow models serve`` (use ``honbun serve`` for pages from the open web): its
time limit (``MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT``, 60 s) answers 504 but cannot stop
the scoring, which goes on using a core until it ends; and it has no request size limit.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc


class HonbunPyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context: Any) -> None:
        from honbun.scoring.model import load_model

        self.model = load_model(context.artifacts["bundle"])

    def predict(
        self, context: Any, model_input: Any, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        from honbun.serve.rows import score_rows

        rows = model_input.to_dict(orient="records")
        params = params or {}
        return score_rows(
            self.model, rows, bool(params.get("site_context")), bool(params.get("body_only"))
        )
