"""The body of an ``/invocations`` request, in MLflow's scoring protocol, read without
pandas: ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`` or
``{"dataframe_records": [{...}, ...]}``, each row a page (``doc_id``, ``format``,
``content``), and optionally ``"params": {"site_context": true, "body_only": true}``.

A body that is not such a request raises :class:`BadRequest` with a one-line message (the
server's 400). A row that is not a page is no bad request: it gets an error record (see
:mod:`honbun.serve.rows`), and the request's other rows are scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

COLUMNS = ("doc_id", "format", "content")
PARAMS = {"site_context": bool, "body_only": bool}
FRAMES = ("dataframe_split", "dataframe_records")


class BadRequest(ValueError):
    """The body is not an invocation request; the message says what is wrong."""


@dataclass
class Invocation:
    rows: list[dict[str, Any]] = field(default_factory=list)
    site_context: bool = False
    body_only: bool = False  # the pages are article text already


def parse_invocation(body: bytes) -> Invocation:
    """The rows and parameters of a request body (UTF-8 JSON)."""
    try:
        obj = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise BadRequest(f"expected a JSON object with one of {', '.join(FRAMES)}")
    unknown = sorted(set(obj) - {*FRAMES, "params"})
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)}: expected {', '.join(FRAMES)}")
    frames = [k for k in FRAMES if k in obj]
    if len(frames) != 1:
        raise BadRequest(f"expected exactly one of {', '.join(FRAMES)}")
    read = _split if frames[0] == "dataframe_split" else _records
    rows = read(obj[frames[0]])
    return Invocation(rows, **_params(obj.get("params")))


def _split(frame: Any) -> list[dict[str, Any]]:
    if not isinstance(frame, dict) or not isinstance(frame.get("columns"), list):
        raise BadRequest("dataframe_split must be an object with columns and data")
    columns = frame["columns"]
    if not all(isinstance(c, str) for c in columns) or len(set(columns)) != len(columns):
        raise BadRequest("dataframe_split.columns must be distinct strings")
    if "content" not in columns:
        raise BadRequest(f"dataframe_split.columns has no content column: {columns}")
    data = frame.get("data")
    if not isinstance(data, list):
        raise BadRequest("dataframe_split.data must be a list of rows")
    rows = []
    for k, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            raise BadRequest(
                f"dataframe_split.data[{k}] must be a list of {len(columns)} values (the columns)"
            )
        rows.append(dict(zip(columns, row, strict=True)))
    return rows


def _records(records: Any) -> list[dict[str, Any]]:
    if not isinstance(records, list):
        raise BadRequest("dataframe_records must be a list of objects")
    for k, row in enumerate(records):
        if not isinstance(row, dict):
            raise BadRequest(f"dataframe_records[{k}] must be an object")
    return records


def _params(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise BadRequest("params must be an object")
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise BadRequest(f"unknown param(s) {', '.join(unknown)}: known are {', '.join(PARAMS)}")
    for name, kind in PARAMS.items():
        if name in params and not isinstance(params[name], kind):
            raise BadRequest(f"params.{name} must be {kind.__name__}, not {params[name]!r}")
    return dict(params)
