"""The document-classification benchmark of the training job (livedoor, 9 categories)."""

from __future__ import annotations

from typing import Any

from honbun.evaluation.documents import evaluate_documents
from honbun.experiment.config import Experiment
from honbun.experiment.report import RunOutput


# ---------------------------------------------------------------- documents
def train_documents(exp: Experiment, out: RunOutput) -> dict[str, Any]:
    sec = exp.section("documents")
    res = evaluate_documents(sec, exp.seed)
    out.metrics.update({f"documents.{k}": v for k, v in res.metrics.items()})
    out.tables.update(res.tables)
    out.timings.update(res.timings)
    out.manifest.append({"path": str(sec.get("path")), "sha256": ""})
    return {"doc_cfg": res.cfg, "doc_model": res.model}
