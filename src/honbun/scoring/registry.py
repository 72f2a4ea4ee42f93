"""MLflow as a source of models: the project's tracking store, and fetching a logged
bundle by URI (``models:/honbun@champion``, ``runs:/<id>/model``).

Default store: ``sqlite:///<project>/mlruns.db`` with artifacts in ``<project>/mlartifacts``,
so a fresh clone needs no server; ``MLFLOW_TRACKING_URI`` overrides it (set but empty, it
counts as unset, as MLflow itself reads it). Any SQLite store keeps its artifacts in
``mlartifacts/`` beside the database file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def tracking_uri(root: Path = Path(".")) -> str:
    """``MLFLOW_TRACKING_URI`` when it is set to something, else the project's SQLite store."""
    given = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    return given or f"sqlite:///{(root / 'mlruns.db').resolve()}"


def artifact_location(uri: str) -> str | None:
    """Where a new experiment of the store at ``uri`` keeps its artifacts.

    For a SQLite store, ``mlartifacts/`` beside the database file. MLflow's own default
    for it is ``./mlruns`` under whatever the working directory is, which scattered
    artifacts over the folders training was started from. Anything else (a tracking
    server, a file store) decides for itself: None.
    """
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///").split("?", 1)[0])
    return (database.parent / "mlartifacts").resolve().as_uri()


def tracked_mlflow(root: Path = Path(".")) -> Any:
    """``mlflow``, pointed at the project's tracking store, its loggers quietened."""
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri(root))
    return mlflow


def download_bundle(uri: str) -> Path:
    """Fetch a logged model (``models:/name@alias``, ``runs:/id/model``) and return its bundle dir."""
    mlflow = tracked_mlflow()
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    hits = sorted(local.rglob("model.joblib"))
    if not hits:
        raise FileNotFoundError(f"{uri}: no honbun bundle inside this MLflow model")
    return hits[0].parent
