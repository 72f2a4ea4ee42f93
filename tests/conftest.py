"""Shared fixtures: repository paths, a throw-away copy of the repository's data, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from honbun.read.files import load_page as _load_page  # the original, even while monkeypatched

# Trainings in the tests compute everything: a test that trains twice must not read the
# second result from the first's cache (the cache's own tests use a folder of their own).
os.environ["HONBUN_CACHE"] = "off"

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
DATA = REPO / "data"
PAGES = DATA / "raw" / "pages"
MANIFEST = PAGES / "manifest.jsonl"
LIVEDOOR_TARBALL = DATA / "raw" / "livedoor" / "ldcc-20140209.tar.gz"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def manifest_entries() -> list[dict]:
    return [json.loads(line) for line in MANIFEST.read_text("utf-8").splitlines() if line.strip()]


_PAGE_CACHE: dict[tuple[str, str | None, str | None], object] = {}


def cached_load_page(path, doc_id=None, fmt=None):
    """``honbun.read.files.load_page``, memoised for this test session.

    Parsing the 92 development pages takes seconds; the HTML-loader tests and the
    ``data validate`` regression test load them with the same arguments (a path relative
    to the repository root, the manifest id, format "html"), so they share one parse.
    """
    key = (str(path), doc_id, fmt)
    if key not in _PAGE_CACHE:
        _PAGE_CACHE[key] = _load_page(path, doc_id, fmt)
    return _PAGE_CACHE[key]


@pytest.fixture
def mini_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the labels, lexicons, seeds and seed annotations; the cwd is set to it.

    The data tools resolve ``data/labels.toml``, ``data/annotations`` and the pages an
    annotation header points at relative to the working directory, so commands run here
    read and write only this copy, never the repository's data.
    """
    (tmp_path / "data" / "annotations").mkdir(parents=True)
    shutil.copy(DATA / "labels.toml", tmp_path / "data" / "labels.toml")
    shutil.copytree(DATA / "lexicons", tmp_path / "data" / "lexicons")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copytree(DATA / "annotations" / "seeds", tmp_path / "data" / "annotations" / "seeds")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``honbun.cli.main`` in-process; return (exit status, stdout, stderr)."""
    from honbun.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()  # drop anything printed before
        rc = main(list(args))
        out, err = capsys.readouterr()
        return rc, out, err

    return run


# ------------------------------------------------------------- a model, a Spark session
def needs_spark() -> None:
    pytest.importorskip("pyspark")
    pytest.importorskip("pyarrow")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java: no java on PATH")


def _usable(path: Path) -> bool:
    """The model loads and scores a seed page with this checkout's code (not a stale build)."""
    import honbun

    if not (path / "model.joblib").exists():
        return False
    try:
        res = honbun.load_model(str(path)).score(SEED_FILES[0])
    except Exception:
        return False
    return "error" not in res


@pytest.fixture(scope="session")
def model_dir(request: pytest.FixtureRequest) -> str:
    """$HONBUN_TEST_MODEL, else models/default, else models/smoke, else (all missing or stale)
    the session's tiny model (``trained``: trained once for all the tests)."""
    if os.environ.get("HONBUN_TEST_MODEL"):
        return os.environ["HONBUN_TEST_MODEL"]
    for name in ("default", "smoke"):
        if _usable(REPO / "models" / name):
            return str(REPO / "models" / name)
    return str(request.getfixturevalue("trained")["first"]["model"])


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (two cores, no UI, loopback); skips without PySpark or Java."""
    needs_spark()
    from pyspark.sql import SparkSession

    env = pytest.MonkeyPatch()
    env.setenv("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", sys.executable))
    env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("honbun-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2")  # several batches
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    env.undo()


# ---------------------------------------------------------------- one trained model
# The workflow, command and server tests share these: the tiny config trained (and
# tracked in a throw-away MLflow store) once per session.
TINY = REPO / "tests/fixtures/tiny.toml"


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("workflow")
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{base / 'mlruns.db'}"
    yield {"base": base, "models": base / "models", "runs": base / "runs"}
    if old is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old


def _variant(store: dict[str, Path], name: str, threshold: float) -> Path:
    """A copy of the tiny config with another name and threshold (one setting differs)."""
    text = TINY.read_text("utf-8").replace('name = "tiny"', f'name = "{name}"')
    text = text.replace("threshold = 0.5", f"threshold = {threshold}")
    text = text.replace("[topics]\nenabled = true", "[topics]\nenabled = false")  # faster
    path = store["base"] / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained(store: dict[str, Path]) -> dict:
    from honbun.experiment.config import load_experiment
    from honbun.experiment.train import run

    os.chdir(REPO)  # configs and annotations are addressed from the project root
    first = run(load_experiment(TINY), store["models"], store["runs"], track=True)
    again = run(load_experiment(TINY), store["base"] / "models-again", store["runs"], track=True)
    other = run(load_experiment(_variant(store, "tiny", 0.4)), store["base"] / "models-other",
                store["runs"], track=True)  # fmt: skip
    return {"first": first, "again": again, "other": other}


@pytest.fixture(scope="session")
def model(trained: dict):
    import honbun

    return honbun.load_model(trained["first"]["model"])


# ---------------------------------------------------------------- servers the tests start
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(cmd: list[str], port: int, log: Path, env: dict | None = None):
    """Start ``cmd`` (a server on 127.0.0.1:``port``, in its own process group) and return
    it and its URL once ``/ping`` answers; fail with the end of its log if it exits."""
    import subprocess
    import time
    import urllib.request

    proc = subprocess.Popen(
        cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/ping", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"{cmd[0]} exited early: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            stop_server(proc)
            raise AssertionError(f"{cmd[0]} did not come up in 120 s")
        time.sleep(0.3)


def stop_server(proc) -> int:
    """SIGTERM to the server's process group (SIGKILL after 30 s); its exit status."""
    import signal
    import subprocess

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return int(proc.returncode)
