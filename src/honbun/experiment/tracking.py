"""MLflow tracking: run records, the registered pyfunc model, run listing, comparison, promotion.

The store is :func:`honbun.scoring.registry.tracking_uri`'s: ``sqlite:///<project>/mlruns.db``
with artifacts in ``<project>/mlartifacts``, or ``MLFLOW_TRACKING_URI`` (a real tracking
server: ``export MLFLOW_TRACKING_URI=http://mlflow.example:5000``; another SQLite file keeps
its artifacts in ``mlartifacts/`` beside it; an empty value counts as unset).
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

from honbun.experiment.config import Experiment
from honbun.scoring.registry import artifact_location, tracked_mlflow

MAIN_METRICS = ("boilerplate_char3_f1", "topics.macro_f1", "documents.accuracy")
SHOWN_METRICS = (
    "boilerplate_char3_f1", "boilerplate_block_f1", "topics.macro_f1", "topics.micro_f1",
    "documents.accuracy",
)  # fmt: skip
CHAMPION = "champion"


def experiment_id(mlflow: Any, name: str) -> str:
    """The id of experiment ``name``; a new one keeps its artifacts where
    :func:`~honbun.scoring.registry.artifact_location` says (MLflow's default experiment
    would put them in ``./mlruns``)."""
    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return str(exp.experiment_id)
    location = artifact_location(mlflow.get_tracking_uri())
    return str(mlflow.create_experiment(name, artifact_location=location))


def git_state() -> dict[str, str]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit or "unknown", "git_dirty": str(bool(dirty)).lower()}


def main_metric(metrics: dict[str, float]) -> tuple[str, float] | None:
    for name in MAIN_METRICS:
        if name in metrics and not math.isnan(metrics[name]):
            return name, float(metrics[name])
    return None


def record_run(
    exp: Experiment, out: Any, card: dict[str, Any], model_path: Path, run_dir: Path
) -> dict[str, Any]:
    """Log params, metrics, artifacts, tags and the pyfunc model; register the model."""
    mlflow = tracked_mlflow()
    exp_id = experiment_id(mlflow, exp.section("tracking").get("experiment", "honbun"))
    registered = exp.section("tracking").get("registered_model", f"honbun-{exp.name}")
    previous = mlflow.search_runs(
        [exp_id], filter_string=f"tags.config_name = '{exp.name}'",
        order_by=["attributes.start_time DESC"], max_results=1, output_format="list",
    )  # fmt: skip
    data_sha = card["data"]["sha256"]
    changed = bool(previous) and previous[0].data.tags.get("data_sha256") != data_sha
    if changed:
        print(
            f"note: the data differ from the last run of config {exp.name!r} "
            f"({previous[0].info.run_id[:8]}): data sha256 {data_sha[:12]}"
        )
    tags = {
        "config_name": exp.name,
        "config_path": str(exp.path),
        "config_sha256": exp.sha256,
        "data_sha256": data_sha,
        "data_changed_since_last_run": str(changed).lower(),
        **git_state(),
        **{f"version.{k}": str(v) for k, v in card["versions"].items()},
    }
    with mlflow.start_run(experiment_id=exp_id, run_name=f"{exp.name}-{run_dir.name}") as run:
        mlflow.set_tags(tags)
        params = exp.flat()
        for i in range(0, len(params), 90):  # MLflow caps a batch at 100 params
            mlflow.log_params(dict(list(params.items())[i : i + 90]))
        metrics = {
            k.replace("@", "_"): float(v)
            for k, v in out.metrics.items()
            if not math.isnan(float(v))
        }
        metrics.update({f"time.{k}": float(v) for k, v in out.timings.items()})
        for i in range(0, len(metrics), 500):
            mlflow.log_metrics(dict(list(metrics.items())[i : i + 500]))
        mlflow.log_artifacts(str(run_dir), artifact_path="report")
        info = log_pyfunc(mlflow, model_path, registered)
        run_id = run.info.run_id
    version = getattr(info, "registered_model_version", None)
    return {
        "run_id": run_id,
        "registered_model": registered,
        "model_version": version,
        "data_changed": changed,
    }


def log_pyfunc(mlflow: Any, model_path: Path, registered: str) -> Any:
    """Log the bundle as a pyfunc model (signature + input example) and register it."""
    import importlib.metadata as md

    import pandas as pd
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    from honbun.serve.pyfunc import HonbunPyfunc

    example = pd.DataFrame(
        [{"doc_id": "example", "format": "text",
          "content": "北朝鮮派兵、NATOが確認\nロシアに派兵された北朝鮮軍部隊がクルスク地域に配備された。"}]
    )  # fmt: skip
    signature = ModelSignature(
        inputs=Schema(
            [ColSpec("string", "doc_id"), ColSpec("string", "format"), ColSpec("string", "content")]
        ),
        params=ParamSchema(
            [ParamSpec("site_context", "boolean", False), ParamSpec("body_only", "boolean", False)]
        ),
    )
    reqs = [
        f"{p}=={md.version(p)}"
        for p in ("scikit-learn", "fugashi", "unidic-lite", "lxml", "joblib", "numpy", "scipy")
    ]
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=HonbunPyfunc(),
        artifacts={"bundle": str(model_path)},
        signature=signature,
        input_example=example,
        pip_requirements=reqs,
        registered_model_name=registered,
    )


# ---------------------------------------------------------------- listing and comparing
def list_runs(limit: int = 50) -> list[dict[str, Any]]:
    mlflow = tracked_mlflow()
    exps = [e.experiment_id for e in mlflow.search_experiments()]
    runs = mlflow.search_runs(
        exps, order_by=["attributes.start_time DESC"], max_results=limit, output_format="list"
    )
    rows = []
    for r in runs:
        from datetime import UTC, datetime

        rows.append(
            {
                "run_id": r.info.run_id,
                "config": r.data.tags.get("config_name", "?"),
                "date": datetime.fromtimestamp(r.info.start_time / 1000, UTC).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "data": r.data.tags.get("data_sha256", "")[:10],
                **{m: r.data.metrics.get(m) for m in SHOWN_METRICS},
            }
        )
    return rows


def _run(mlflow: Any, run_id: str) -> Any:
    client = mlflow.tracking.MlflowClient()
    matches = [r for r in list_runs(1000) if r["run_id"].startswith(run_id)]
    if len(matches) != 1:
        raise SystemExit(f"honbun: error: run {run_id!r} matches {len(matches)} runs")
    return client.get_run(matches[0]["run_id"])


def compare_runs(run_ids: list[str]) -> str:
    """Side-by-side: params that differ, then every metric with its delta to the first run."""
    mlflow = tracked_mlflow()
    runs = [_run(mlflow, r) for r in run_ids]
    ids = [r.info.run_id[:8] for r in runs]
    keys = sorted(set().union(*(r.data.params for r in runs)))
    differ = [k for k in keys if len({r.data.params.get(k) for r in runs}) > 1]
    lines = [
        "params that differ:",
        "",
        "| param | " + " | ".join(ids) + " |",
        "|---" * (len(ids) + 1) + "|",
    ]
    lines += [
        f"| {k} | " + " | ".join(str(r.data.params.get(k, "–")) for r in runs) + " |"
        for k in differ
    ]
    if not differ:
        lines.append("| (none) |" + " |" * len(ids))
    mkeys = sorted(set().union(*(r.data.metrics for r in runs)))
    head = " | ".join([ids[0], *(f"{i} (Δ)" for i in ids[1:])])
    lines += ["", "metrics:", "", f"| metric | {head} |", "|---" * (len(ids) + 1) + "|"]
    for k in mkeys:
        base = runs[0].data.metrics.get(k)
        cells = [f"{base:.4f}" if base is not None else "–"]
        for r in runs[1:]:
            v = r.data.metrics.get(k)
            if v is None:
                cells.append("–")
            elif base is None:
                cells.append(f"{v:.4f}")
            else:
                cells.append(f"{v:.4f} ({v - base:+.4f})")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def promote(run_id: str, force: bool = False) -> str:
    """Point the ``champion`` alias of the run's registered model at the run's version."""
    mlflow = tracked_mlflow()
    client = mlflow.tracking.MlflowClient()
    run = _run(mlflow, run_id)
    versions = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    if not versions:
        raise SystemExit(f"honbun: error: run {run_id} registered no model")
    mv = versions[0]
    mine = main_metric(run.data.metrics)
    try:
        champ = client.get_model_version_by_alias(mv.name, CHAMPION)
    except Exception:  # no champion yet
        champ = None
    if champ is not None and champ.run_id != run.info.run_id and mine is not None:
        theirs = client.get_run(champ.run_id).data.metrics.get(mine[0])
        if theirs is not None and mine[1] < theirs and not force:
            raise SystemExit(
                f"honbun: refused: {mine[0]} {mine[1]:.4f} is below the champion's {theirs:.4f} "
                f"(version {champ.version}); use --force to promote anyway"
            )
    client.set_registered_model_alias(mv.name, CHAMPION, mv.version)
    return f"{mv.name} version {mv.version} (run {run.info.run_id[:8]}) is now @{CHAMPION}"


def format_runs(rows: list[dict[str, Any]]) -> str:
    cols = ["run_id", "config", "date", "data", *SHOWN_METRICS]
    out = ["\t".join(cols)]
    for r in rows:
        out.append(
            "\t".join(
                (
                    f"{r[c]:.4f}"
                    if isinstance(r.get(c), float)
                    else str(r.get(c) if r.get(c) is not None else "–")
                )
                if c != "run_id"
                else r[c][:12]
                for c in cols
            )
        )
    return "\n".join(out) + "\n"


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1)
