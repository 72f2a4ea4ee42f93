"""``honbun train``: evaluate with grouped CV, fit the final models, save, record a run.

Inputs (all declared by the config): the label config, the reviewed annotations and the
pages they point at (or the livedoor corpus for the document benchmark). Outputs:
``models/<name>/`` (atomic), ``runs/<name>/<timestamp>/`` (metrics, comparison table,
per-label report, error file, plots, data manifest, the config), and an MLflow run. The
parts are :mod:`honbun.experiment.boilerplate`, :mod:`honbun.experiment.topics` and
:mod:`honbun.experiment.documents`; the report is :mod:`honbun.experiment.report`.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from honbun.atomic import exclusive
from honbun.experiment.boilerplate import train_boilerplate
from honbun.experiment.config import Experiment
from honbun.experiment.documents import train_documents
from honbun.experiment.report import RunOutput, data_hash, data_manifest, write_run_dir
from honbun.experiment.topics import train_topics
from honbun.labels import LabelConfig, load_labels
from honbun.progress import progress
from honbun.scoring.bundle import BUNDLE_FORMAT, ModelBundle, label_signature, versions

TRAINING_THREADS = 1  # native threads (BLAS, OpenMP) while training: see run()


# ---------------------------------------------------------------- the job
def run(
    exp: Experiment,
    models_dir: Path = Path("models"),
    runs_dir: Path = Path("runs"),
    track: bool = True,
) -> dict[str, Any]:
    """Train and evaluate everything the config enables; save the bundle; record the run.

    Two trainings of one config may run at once (started in the same second, even): each
    builds its report in a folder of its own and takes the first free run name
    (``<time>``, ``<time>-2``, …), and saving ``models/<name>`` and registering its MLflow
    version are one step under a lock per model, so ``models/<name>`` is always the
    model of the registry's latest version.
    """

    labels = load_labels(exp.labels_path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    runs = runs_dir / exp.name
    runs.mkdir(parents=True, exist_ok=True)
    # The report is built in a hidden folder of this run's own and renamed when complete,
    # so an interrupted training leaves no half-filled run folder.
    partial = Path(tempfile.mkdtemp(prefix=f".{stamp}.", suffix=".partial", dir=runs))
    try:
        # Native thread pools on one thread, as the CV folds already run: a sum split over
        # threads (OpenMP in the gradient boosting, BLAS in L-BFGS) rounds differently with
        # another thread count, so the final models would depend on the machine's cores.
        with threadpool_limits(limits=TRAINING_THREADS):
            out, card, bundle = _train_into(exp, labels, stamp, partial)
        write_run_dir(partial, exp, out, card)
        models_dir.mkdir(parents=True, exist_ok=True)
        with exclusive(models_dir / f".{exp.name}.lock"):
            model_path = bundle.save(models_dir, exp.text)
            progress(f"saved {model_path} ({out.timings['total_s']:.0f} s)")
            run_dir = _publish(partial, runs, stamp)
            summary = {
                "model": str(model_path),
                "run_dir": str(run_dir),
                "data_sha256": card["data"]["sha256"],
                "metrics": out.metrics,
            }
            if track:
                from honbun.experiment.tracking import record_run

                summary.update(record_run(exp, out, card, model_path, run_dir))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return summary


def _publish(partial: Path, parent: Path, stamp: str) -> Path:
    """Rename the finished report ``partial`` to ``parent/<stamp>``, or to ``<stamp>-2``,
    ``-3``, … when another run of the config has taken that name (same second)."""
    for k in itertools.count(1):
        target = parent / (stamp if k == 1 else f"{stamp}-{k}")
        try:
            target.mkdir()  # exclusive: this claims the name
        except FileExistsError:
            continue
        partial.replace(target)  # onto the empty folder just claimed: atomic on POSIX
        return target
    raise AssertionError("unreachable")


def _train_into(
    exp: Experiment, labels: LabelConfig, stamp: str, run_dir: Path
) -> tuple[RunOutput, dict[str, Any], ModelBundle]:
    """Train and evaluate what the config enables; the report's files go to run_dir."""
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
        # The files the tagger reads by path: their hashes too, so a changed one shows.
        topics_cfg = exp.section("topics")
        out.manifest += [
            {"path": str(topics_cfg[k]), "sha256": ""}
            for k in ("vectors", "cues")
            if topics_cfg.get(k)
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
    return out, card, ModelBundle(name=exp.name, labels=labels, card=card, **parts)
