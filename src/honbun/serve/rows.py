"""Rows of a request (``doc_id``, ``format``, ``content``) → results: what the MLflow
pyfunc and ``honbun serve`` answer, one result per row in row order.

A row that is not a page (content null or not text, an unknown format) gets an error
record naming its ``doc_id``; the other rows of the request are still scored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from honbun.errors import PageError
from honbun.read.files import page_from_content
from honbun.scoring.results import error_result


def _value(row: Mapping[str, Any], key: str) -> Any:
    """The row's ``key``; pandas' missing value (a float NaN) is None, as in JSON."""
    v = row.get(key)
    return None if isinstance(v, float) and math.isnan(v) else v


def score_rows(
    model: Any,
    rows: Iterable[Mapping[str, Any]],
    site_context: bool = False,
    body_only: bool = False,
) -> list[dict[str, Any]]:
    """One result per row, in order. With ``site_context`` the rows' pages are scored
    against the site context they make together, as ``honbun score --site-context``; with
    ``body_only`` they are article text already (every block body, only topics scored)."""
    out: list[dict[str, Any] | None] = []
    pages = []
    for row in rows:
        doc_id = str(_value(row, "doc_id") or "page")
        try:
            pages.append(
                page_from_content(_value(row, "content"), doc_id, doc_id, _value(row, "format"))
            )
            out.append(None)  # scored below, with the other pages of the request
        except PageError as exc:
            out.append(error_result(exc))
    if body_only:
        model = model.as_body_only()
    if site_context:
        # A site's blocks that repeat on its other pages in this request count as its
        # boilerplate; a page alone on its site scores as it does alone.
        model = model.with_site_context(pages)
    scored = iter(model.score_many(pages))  # chunks of pages, as `honbun score`
    return [r if r is not None else next(scored) for r in out]
