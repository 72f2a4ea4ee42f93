"""Where MLflow runs and their artifacts go: an empty MLFLOW_TRACKING_URI means unset (the
project's SQLite store), and a SQLite store keeps its artifacts in ``mlartifacts/``
beside the database, never in a ``./mlruns`` of whatever folder training started in."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _keep_mlflow_uri():
    """Put back MLflow's global tracking URI: later tests' clients use the session's store."""
    import mlflow

    previous = mlflow.get_tracking_uri()
    yield
    mlflow.set_tracking_uri(previous)


@pytest.mark.parametrize("where", ["unset", "empty", "other"])
def test_runs_and_artifacts_go_where_the_docs_say(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from honbun.experiment.tracking import experiment_id
    from honbun.scoring.registry import tracked_mlflow, tracking_uri

    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    store = project / "mlruns.db"
    if where == "unset":
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    elif where == "empty":
        monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    else:  # a store elsewhere: its artifacts go beside it
        store = tmp_path / "elsewhere" / "store.db"
        store.parent.mkdir()
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    assert tracking_uri() == f"sqlite:///{store}"
    mlflow = tracked_mlflow()
    experiment = experiment_id(mlflow, "where")
    note = tmp_path / "note.txt"
    note.write_text("artifact")
    with mlflow.start_run(experiment_id=experiment) as run:
        mlflow.log_artifact(str(note))
    assert store.is_file()
    artifacts = store.parent / "mlartifacts"
    assert list(artifacts.rglob("note.txt")), sorted(p.name for p in artifacts.parent.iterdir())
    assert run.info.artifact_uri.startswith(artifacts.as_uri())
    assert not (project / "mlruns").exists()
