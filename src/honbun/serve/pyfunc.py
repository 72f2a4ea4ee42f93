"""The MLflow pyfunc wrapper: pages in, the same JSON as ``honbun score`` out.

Input: a DataFrame with columns ``doc_id``, ``format`` (``html``/``text``, or empty to
sniff) and ``content`` (the page's text). Output: one result dict per row (error records
for pages that fail), so ``mlflow models serve`` answers ``{"predictions": [...]}``.
Parameter ``body_only`` (default false): the pages are article text already (every block
is body; only topics are scored). Parameter ``site_context`` (default false): score the
request's pages against the site context they make together, as ``honbun score
--site-context`` does with its inputs.
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
        from honbun.errors import PageError
        from honbun.read.files import page_from_content
        from honbun.scoring.model import Model
        from honbun.scoring.results import error_result

        out: list[dict[str, Any] | None] = []
        pages = []
        for row in model_input.to_dict(orient="records"):
            doc_id = str(row.get("doc_id") or "page")
            try:
                pages.append(
                    page_from_content(row.get("content"), doc_id, doc_id, row.get("format"))
                )
                out.append(None)  # scored below, with the other pages of the request
            except PageError as exc:
                out.append(error_result(exc))
        model = self.model
        if (params or {}).get("body_only"):  # the pages are article text already
            model = Model(model.bundle, body_only=True)
        if (params or {}).get("site_context"):
            # A site's blocks that repeat on its other pages in this request count as its
            # boilerplate; a page alone on its site scores as it does alone.
            model = model.with_site_context(pages)
        scored = iter(model.score_many(pages))  # chunks of pages, as `honbun score`
        return [r if r is not None else next(scored) for r in out]
