"""Same config, data and code give the same figures on any machine.

The smoke config's metrics are compared with the figures committed in
``tests/fixtures/smoke_metrics.json`` (to 1e-9): a change of behaviour, or of machine
(core count, hash seed, file order), shows up here. After an intended change of the
figures, rewrite the file from a fresh run and say why in the commit:

    HONBUN_CACHE=off .venv/bin/honbun train --config training/configs/smoke.toml \\
        --models /tmp/smoke-models --runs /tmp/smoke-runs --no-track
    cp /tmp/smoke-runs/smoke/<time>/metrics.json tests/fixtures/smoke_metrics.json
"""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

FIGURES = REPO / "tests/fixtures/smoke_metrics.json"
LISTINGS = {"iterdir", "glob", "rglob", "listdir", "scandir", "walk", "listStatus"}
ORDER_FREE = {"sorted", "any", "all", "len", "sum"}


@pytest.mark.slow
def test_smoke_metrics_equal_the_committed_figures(tmp_path: Path) -> None:
    # Another hash seed than the test process's, and the thread counts left as they are:
    # training pins what depends on them.
    env = {**os.environ, "HONBUN_CACHE": "off", "PYTHONHASHSEED": "2027"}
    run = subprocess.run(
        [sys.executable, "-m", "honbun.cli", "train", "--config", "training/configs/smoke.toml",
         "--models", str(tmp_path / "models"), "--runs", str(tmp_path / "runs"), "--no-track"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    (report,) = (tmp_path / "runs" / "smoke").iterdir()
    got = json.loads((report / "metrics.json").read_text())
    want = json.loads(FIGURES.read_text())
    assert sorted(got) == sorted(want)
    differ = {
        k: (got[k], want[k])
        for k in sorted(want)
        if not (math.isnan(got[k]) and math.isnan(want[k]))
        and not math.isclose(got[k], want[k], rel_tol=0, abs_tol=1e-9)
    }
    assert not differ, differ


def _unsorted_listings(tree: ast.AST) -> list[int]:
    """Lines where a directory listing's order can reach the result."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in LISTINGS:
            continue
        if node.func.attr == "walk" and not (
            isinstance(node.func.value, ast.Name) and node.func.value.id == "os"
        ):
            continue
        up = parents.get(node)
        while up is not None and not isinstance(up, ast.stmt):
            if isinstance(up, ast.Call) and getattr(up.func, "id", None) in ORDER_FREE:
                break
            up = parents.get(up)
        else:
            lines.append(node.lineno)
    return lines


def test_every_directory_listing_in_the_package_is_sorted() -> None:
    found = {}
    for path in sorted((REPO / "src/honbun").rglob("*.py")):
        lines = _unsorted_listings(ast.parse(path.read_text("utf-8")))
        if lines:
            found[str(path.relative_to(REPO))] = lines
    assert not found, f"sort these listings (file order differs between machines): {found}"


def test_the_listing_check_can_fail() -> None:
    assert _unsorted_listings(ast.parse("names = [p.name for p in root.iterdir()]")) == [1]
    assert _unsorted_listings(ast.parse("names = sorted(p.name for p in root.iterdir())")) == []
