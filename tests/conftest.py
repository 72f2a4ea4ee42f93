"""Shared fixtures: repository paths, a throw-away copy of the repository's data, the CLI."""

from __future__ import annotations

import json
import os
import shutil
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


def _usable(path: Path) -> bool:
    """The model loads and scores a seed page with this checkout's code (not a stale build)."""
    import honbun

    if not (path / "model.joblib").exists():
        return False
    try:
        res = honbun.load_model(str(path)).score(sorted(SEEDS.glob("*.txt"))[0])
    except Exception:
        return False
    return "error" not in res


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """$HONBUN_TEST_MODEL, else models/default, else models/smoke, else (all missing or stale)
    the tiny test config trained now (about a minute)."""
    if os.environ.get("HONBUN_TEST_MODEL"):
        return os.environ["HONBUN_TEST_MODEL"]
    for name in ("default", "smoke"):
        if _usable(REPO / "models" / name):
            return str(REPO / "models" / name)
    from honbun.experiment.config import load_experiment
    from honbun.experiment.train import run

    tmp = tmp_path_factory.mktemp("model")
    exp = load_experiment(REPO / "tests/fixtures/tiny.toml")  # the fast test config
    return run(exp, models_dir=tmp, runs_dir=tmp / "runs", track=False)["model"]
