"""The package's import graph: no cycles (imports inside functions included) and no
``_private`` name taken from another module. Built from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, Path]:
    out = {}
    for f in sorted((SRC / "honbun").rglob("*.py")):
        parts = f.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, str]]:
    """``(module, imported name)`` for every import in the file, wherever it stands; the
    name is ``""`` for a plain ``import module``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub, "") if sub in modules else (base, a.name))
    return [(m, n) for m, n in out if m == "honbun" or m.startswith("honbun.")]


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    privates = []
    for name, path in modules.items():
        for target, imported in _imports(name, path, modules):
            if target not in modules:
                raise AssertionError(f"{path}: imports {target}, which does not exist")
            if target != name:
                edges[name].add(target)
            dunder = imported.startswith("__") and imported.endswith("__")
            if imported.startswith("_") and not dunder and target != name:
                privates.append(f"{name} imports {target}.{imported}")
    return edges, privates


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    edges, _ = _graph()
    assert _cycles(edges) == []


def test_no_private_name_is_imported_from_another_module() -> None:
    _, privates = _graph()
    assert privates == []


def test_the_checks_see_a_cycle_and_a_private_import() -> None:
    """The two checks above are not vacuous: a made-up graph with a cycle is caught."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    edges, _ = _graph()
    assert "honbun.read.page" in edges["honbun.features.prepared"]  # imports are read


# Stages in the order the data flows; a package may import only its own stage and those
# before it (the root modules are shared by all).
STAGES = [
    "read", "features", "boilerplate", "topics", "documents", "gold", "scoring", "serve",
    "evaluation", "experiment", "cli",
]  # fmt: skip


def test_data_flows_one_way_through_the_stages() -> None:
    edges, _ = _graph()
    rank = {s: i for i, s in enumerate(STAGES)}
    upward = []
    for src, targets in edges.items():
        s = src.split(".")
        if len(s) < 3 or s[1] not in rank:
            continue
        for t in targets:
            parts = t.split(".")
            if len(parts) >= 2 and parts[1] in rank and rank[parts[1]] > rank[s[1]]:
                upward.append(f"{src} -> {t}")
    assert upward == []


def test_every_stage_package_says_its_job() -> None:
    for stage in STAGES:
        doc = ast.get_docstring(ast.parse((SRC / "honbun" / stage / "__init__.py").read_text()))
        assert doc and len(doc.split(". ")) <= 4, stage
