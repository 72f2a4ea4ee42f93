"""What scoring returns for a page: a plain dict (JSON-ready), its schema, and the record
a page that failed gets instead.

``doc_id, source, format, model, [url], [date], title, body_text, labels, topics, blocks[],
sentences[], paragraphs[]`` (and ``error`` instead of all but the first three when the page
failed). ``url`` (the page's canonical link, else the address it was crawled from) and
``date`` (when it was crawled: a WARC record's ``WARC-Date``) are there when known.
A block's ``p_body`` is the block model's probability; its ``label`` is the decision after
the rules, and ``rule`` names the rule that moved it across the decision value, if any.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from honbun.errors import PageError

Result = dict[str, Any]
PAGE_FIELDS = ("url", "date")  # a page's meta copied into its result when the reader knew it


RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["doc_id", "source", "format"],
    "properties": {
        "doc_id": {"type": "string"},
        "source": {"type": "string"},
        "format": {"enum": ["text", "html", "livedoor", "article", "unknown"]},
        "model": {"type": "string"},
        "url": {"type": "string"},
        "date": {"type": "string"},
        "error": {"type": "string"},
        "title": {"type": ["string", "null"]},
        "body_text": {"type": "string"},
        "labels": {"type": "array", "items": {"type": "string"}},
        "topics": {"type": "object", "additionalProperties": {"type": "number"}},
        "blocks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "text", "start", "end", "label", "p_body", "role"],
                "properties": {
                    "index": {"type": "integer"},
                    "text": {"type": "string"},
                    "start": {"type": "integer"},
                    "end": {"type": "integer"},
                    "label": {"enum": ["body", "boilerplate"]},
                    "p_body": {"type": "number", "minimum": 0, "maximum": 1},
                    "role": {"type": "string"},
                    "rule": {"type": "string"},
                },
            },
        },
        "sentences": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["block", "start", "end", "text", "topics", "labels"],
                "properties": {
                    "block": {"type": "integer"},
                    "start": {"type": "integer"},
                    "end": {"type": "integer"},
                    "text": {"type": "string"},
                    "topics": {"type": "object", "additionalProperties": {"type": "number"}},
                    "labels": {"type": "array", "items": {"type": "string"}},
                    "explanation": {"type": "object"},
                },
            },
        },
        "paragraphs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["block", "topics", "labels"],
                "properties": {
                    "block": {"type": "integer"},
                    "topics": {"type": "object"},
                    "labels": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def error_result(err: PageError | Exception, source: str = "") -> Result:
    """The record a failed page gets in the output stream instead of stopping the batch."""
    path = getattr(err, "path", source)
    reason = getattr(err, "reason", f"{type(err).__name__}: {err}")
    doc_id = getattr(err, "doc_id", None) or (Path(path).stem if path else "")
    return {
        "doc_id": doc_id,
        "source": path,
        "format": "unknown",
        "error": reason,
    }
