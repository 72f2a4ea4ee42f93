"""Scoring pages with a trained bundle: the one code path behind the CLI, the Python API,
MLflow serving and Spark.

A :class:`Result` is a plain dict (JSON-ready); its schema is :data:`RESULT_SCHEMA` and is
documented in the README:

``doc_id, source, format, model, title, body_text, labels, topics, blocks[], sentences[],
paragraphs[]`` (and ``error`` instead of all but the first three when the page failed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from honbun.bundle import ModelBundle, load_scoring_bundle
from honbun.errors import PageError
from honbun.inference import default_role
from honbun.page import Page

Result = dict[str, Any]

RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["doc_id", "source", "format"],
    "properties": {
        "doc_id": {"type": "string"},
        "source": {"type": "string"},
        "format": {"enum": ["text", "html", "livedoor", "unknown"]},
        "model": {"type": "string"},
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
    return {
        "doc_id": Path(path).stem if path else "",
        "source": path,
        "format": "unknown",
        "error": reason,
    }


class Model:
    """A loaded bundle that scores pages. Build it with :func:`honbun.load_model`."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle

    @property
    def name(self) -> str:
        return self.bundle.name

    def score(self, page: Page | str | Path, explain: bool = False) -> Result:
        """Score one page (a Page, or a path to a page file)."""
        if not isinstance(page, Page):
            from honbun.loaders import load_page

            page = load_page(page)
        return score_page(self.bundle, page, explain)

    def score_many(
        self, items: Iterable[Page | str | Path], jobs: int = 1, explain: bool = False
    ) -> Iterator[Result]:
        """Score many pages (or paths) in input order, with ``jobs`` worker processes.

        Failed pages yield error records (see :func:`error_result`) instead of raising.
        """
        from honbun.batch import score_stream

        yield from score_stream(self, items, jobs=jobs, explain=explain)


def load_model(path_or_uri: str | Path = "models/default", labels: Any = None) -> Model:
    """Load a model directory (``models/<name>``) or an MLflow model URI (``models:/…``, ``runs:/…``).

    What is loaded is the models' numpy export (``scoring.pkl``): scoring does not import
    scikit-learn.
    """
    s = str(path_or_uri)
    if s.startswith(("models:/", "runs:/", "mlflow-artifacts:", "file://")):
        from honbun.tracking import download_bundle

        return Model(load_scoring_bundle(download_bundle(s), labels))
    return Model(load_scoring_bundle(s, labels))


def _block_probabilities(bundle: ModelBundle, page: Page) -> tuple[Any, np.ndarray, str]:
    """Prepared page, body probabilities, and which model scored it (``html``/``text``)."""
    from honbun.boilerplate import prepare, text_view

    site = page.meta.get("site", "")
    if any(b.dom is not None for b in page.blocks):
        kind, prepared = "html", prepare(page, bundle.block_cfg, site)
        model = bundle.html_model
    else:
        kind, prepared = "text", prepare(text_view(page), bundle.text_cfg, site)
        model = bundle.text_model
    if not page.blocks:
        return prepared, np.zeros(0), kind
    return prepared, model.predict_proba([prepared])[0], kind


def score_page(bundle: ModelBundle, page: Page, explain: bool = False) -> Result:
    """Blocks with body probability and role, the clean article, sentence/paragraph/document topics."""
    labels = bundle.labels
    positive = labels.positive
    negative = next(x for x in labels.block_labels if x != positive)
    result: Result = {
        "doc_id": page.doc_id,
        "source": page.source,
        "format": page.format,
        "model": bundle.name,
    }
    if bundle.html_model is not None:
        prepared, p_body, kind = _block_probabilities(bundle, page)
        thr = bundle.block_cfg.threshold
        is_body = (p_body >= thr).astype(int)
        role_model = (bundle.role_model or {}).get(kind)
        roles = (
            role_model.predict([prepared], [p_body], [is_body], positive, negative)[0]
            if role_model is not None and page.blocks
            else [default_role(y) for y in is_body]
        )
    else:  # topic-only bundle: every block is taken as body
        p_body = np.ones(len(page.blocks))
        is_body = np.ones(len(page.blocks), dtype=int)
        roles = ["paragraph"] * len(page.blocks)
    blocks = []
    for b, p, y, r in zip(page.blocks, p_body, is_body, roles, strict=True):
        blocks.append(
            {
                "index": b.index,
                "text": b.text,
                "start": b.start,
                "end": b.end,
                "label": positive if y else negative,
                "p_body": round(float(p), 4),
                "role": r,
            }
        )
    body_idx = [i for i, y in enumerate(is_body) if y]
    titles = [i for i in body_idx if roles[i] == "title"]
    title = page.blocks[titles[0]].text if titles else None
    order = titles[:1] + [i for i in body_idx if i not in titles[:1]]
    result["title"] = title
    result["body_text"] = "\n".join(page.blocks[i].text for i in order)
    result["blocks"] = blocks
    result.update(_topics(bundle, page, set(body_idx), explain))
    return result


def _topics(bundle: ModelBundle, page: Page, body: set[int], explain: bool) -> Result:
    names = list(bundle.labels.topic_names)
    if bundle.topic_model is None:
        return {"sentences": [], "paragraphs": [], "topics": {}, "labels": []}
    from honbun.topics import page_items, rollup

    sents = [s for s in page.sentences if s.block in body]
    if not sents:
        return {
            "sentences": [],
            "paragraphs": [],
            "topics": dict.fromkeys(names, 0.0),
            "labels": [],
        }
    tagger = bundle.topic_model
    items = page_items(page, sents, tagger.cfg.stop_pos)
    proba = tagger.predict_proba(items)
    thr = tagger.thresholds_
    explanations = tagger.explain(items) if explain else None
    sentences = []
    for k, (s, row) in enumerate(zip(sents, proba, strict=True)):
        rec: Result = {
            "block": s.block,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "topics": {n: round(float(v), 4) for n, v in zip(names, row, strict=True)},
            "labels": [n for n, v, t in zip(names, row, thr, strict=True) if v >= t],
        }
        if explanations is not None:
            rec["explanation"] = {lab: explanations[k].get(lab, []) for lab in rec["labels"]}
        sentences.append(rec)
    paragraphs = [
        {
            "block": blk,
            "topics": {n: round(float(v), 4) for n, v in zip(names, row, strict=True)},
            "labels": [n for n, v, t in zip(names, row, thr, strict=True) if v >= t],
        }
        for blk, row in sorted(rollup(proba, [s.block for s in sents]).items())
    ]
    doc = rollup(proba, [0] * len(sents))[0]
    return {
        "sentences": sentences,
        "paragraphs": paragraphs,
        "topics": {n: round(float(v), 4) for n, v in zip(names, doc, strict=True)},
        "labels": [n for n, v, t in zip(names, doc, thr, strict=True) if v >= t],
    }
