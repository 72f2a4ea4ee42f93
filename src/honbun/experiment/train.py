"""``honbun train``: evaluate with grouped CV, fit the final models, save, record a run.

Inputs (all declared by the config): the label config, the reviewed annotations and the
pages they point at (or the livedoor corpus for the document benchmark). Outputs:
``models/<name>/`` (atomic), ``runs/<name>/<timestamp>/`` (metrics, comparison table,
per-label report, error file, plots, data manifest, the config), and an MLflow run. The
parts are :mod:`honbun.experiment.boilerplate`, :mod:`honbun.experiment.topics` and
:mod:`honbun.experiment.documents`; the report is :mod:`honbun.experiment.report`.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from honbun.experiment.boilerplate import train_boilerplate
from honbun.experiment.config import Experiment
from honbun.experiment.documents import train_documents
from honbun.experiment.report import RunOutput, data_hash, data_manifest, write_run_dir
from honbun.experiment.topics import train_topics
from honbun.labels import LabelConfig, load_labels
from honbun.progress import progress
from honbun.scoring.bundle import BUNDLE_FORMAT, ModelBundle, label_signature, versions


# ---------------------------------------------------------------- the job
def run(
    exp: Experiment,
    models_dir: Path = Path("models"),
    runs_dir: Path = Path("runs"),
    track: bool = True,
) -> dict[str, Any]:
    """Train and evaluate everything the config enables; save the bundle; record the run."""

    labels = load_labels(exp.labels_path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = runs_dir / exp.name / stamp
    # The report is built in a hidden sibling and renamed when complete, so an interrupted
    # training leaves no half-filled run folder.
    partial = runs_dir / exp.name / f".{stamp}.partial"
    partial.mkdir(parents=True, exist_ok=True)
    try:
        out, card, model_path = _train_into(exp, labels, stamp, partial, models_dir)
        write_run_dir(partial, exp, out, card)
        partial.rename(run_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    summary = {
        "model": str(model_path),
        "run_dir": str(run_dir),
        "data_sha256": card["data"]["sha256"],
        "metrics": out.metrics,
    }
    if track:
        from honbun.experiment.tracking import record_run

        summary.update(record_run(exp, out, card, model_path, run_dir))
    return summary


def _train_into(
    exp: Experiment, labels: LabelConfig, stamp: str, run_dir: Path, models_dir: Path
) -> tuple[RunOutput, dict[str, Any], Path]:
    """Train and evaluate what the config enables; save the bundle; the report goes to run_dir."""
    out = RunOutput()
    t0 = time.perf_counter()
    parts: dict[str, Any] = {}
    if exp.enabled("boilerplate"):
        parts.update(train_boilerplate(exp, labels, out, run_dir))
    if exp.enabled("topics"):
        progress("topics: grouped CV, learning curve, final model")
        parts.update(train_topics(exp, labels, out, run_dir))
        out.manifest += [
            {"path": str(f), "sha256": ""}
            for f in sorted(
                Path(exp.section("data").get("annotations", "data/annotations")).rglob("*.jsonl")
            )
        ]
    if exp.enabled("documents"):
        progress("documents: CV and final model")
        parts.update(train_documents(exp, out))
    out.timings["total_s"] = time.perf_counter() - t0
    paths = {m["path"].split("#", 1)[0] for m in out.manifest} | {str(exp.labels_path)}
    out.manifest = data_manifest({p for p in paths if Path(p).is_file()})
    dhash = data_hash(out.manifest)
    card = {
        "format": BUNDLE_FORMAT,
        "name": exp.name,
        "config": str(exp.path),
        "config_sha256": exp.sha256,
        "trained_at": stamp,
        "data": {"sha256": dhash, "files": len(out.manifest)},
        "metrics": {
            k: v for k, v in out.metrics.items() if not k.startswith("bp.") or "honbun" in k
        },
        "labels": label_signature(labels),
        "versions": versions(),
        "timings": out.timings,
        "limits": (
            "Trained on the reviewed annotations shipped in data/ (Japanese news, blog and other "
            "pages from 53 sites, two Newsweek Japan text dumps, livedoor sentences). Metrics are "
            "grouped cross-validation estimates; pages unlike these (other languages, forums, "
            "single-page apps rendered by JavaScript) will do worse."
        ),
    }
    bundle = ModelBundle(name=exp.name, labels=labels, card=card, **parts)
    model_path = bundle.save(models_dir, exp.text)
    progress(f"saved {model_path} ({out.timings['total_s']:.0f} s)")
    return out, card, model_path
