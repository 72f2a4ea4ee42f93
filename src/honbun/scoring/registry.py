"""MLflow as a source of models: the project's tracking store, and fetching a logged
bundle by URI (``models:/honbun@champion``, ``runs:/<id>/model``).

Default store: ``sqlite:///<project>/mlruns.db`` with artifacts in ``<project>/mlartifacts``,
so a fresh clone needs no server; ``MLFLOW_TRACKING_URI`` overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def tracking_uri(root: Path = Path(".")) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(root / 'mlruns.db').resolve()}"


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
