"""Two trainings of one config at once (started in the same second): both complete, both
are registered, and models/<name> is the model of the registry's latest version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests/fixtures/tiny.toml"

pytestmark = pytest.mark.slow

# `honbun train` with the clock stopped at one second: both runs get the same time stamp,
# as two runs started in the same second do.
FIXED_CLOCK = """
import sys
from datetime import UTC, datetime

import honbun.experiment.train as train

class Clock(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 12, 6, 21, 12, 32, tzinfo=UTC)

train.datetime = Clock
from honbun.cli import main

raise SystemExit(main(sys.argv[1:]))
"""


def test_two_trainings_of_one_config_at_once(tmp_path: Path) -> None:
    import mlflow
    import mlflow.artifacts
    from mlflow.tracking import MlflowClient

    text = TINY.read_text("utf-8").replace("[topics]\nenabled = true", "[topics]\nenabled = false")
    text = text.replace('registered_model = "honbun-tiny"', 'registered_model = "honbun-twice"')
    config = tmp_path / "tiny.toml"
    config.write_text(text, encoding="utf-8")
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "HONBUN_CACHE": "off"}
    args = ["train", "--config", str(config), "--models", str(tmp_path / "models"),
            "--runs", str(tmp_path / "runs")]  # fmt: skip
    logs = [tmp_path / f"train{k}.log" for k in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FIXED_CLOCK, *args],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        for proc, log in zip(procs, logs, strict=True):
            assert proc.wait(timeout=1800) == 0, log.read_text()[-3000:]
    finally:
        for proc in procs:  # a failed test leaves no training running
            if proc.poll() is None:
                proc.terminate()
                proc.wait(60)

    runs = sorted((tmp_path / "runs" / "tiny").iterdir())
    assert [p.name for p in runs] == ["20261206T211232Z", "20261206T211232Z-2"]
    for run in runs:  # both reports complete
        for name in ("metrics.json", "card.json", "config.toml", "boilerplate_comparison.md"):
            assert (run / name).is_file(), (run, name)
    client = MlflowClient(uri)
    mlflow_runs = client.search_runs(
        [client.get_experiment_by_name("honbun-test").experiment_id],
        filter_string="tags.config_name = 'tiny'",
    )
    assert len(mlflow_runs) == 2
    versions = client.search_model_versions("name = 'honbun-twice'")
    assert sorted(v.run_id for v in versions) == sorted(r.info.run_id for r in mlflow_runs)
    # models/tiny is the latest version's model: the cards (their timings differ) agree.
    latest = max(versions, key=lambda v: int(v.version))
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)  # where models:/ resolves (the other tests' store after)
    try:
        logged = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/honbun-twice/{latest.version}", dst_path=str(tmp_path / "dl")
        )
    finally:
        mlflow.set_tracking_uri(previous)
    local = next(Path(logged).rglob("model.joblib")).parent
    saved = json.loads((tmp_path / "models" / "tiny" / "card.json").read_text())
    assert json.loads((local / "card.json").read_text()) == saved
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.endswith((".tmp", ".old"))]
    assert not [p for p in (tmp_path / "runs" / "tiny").iterdir() if p.name.startswith(".")]
