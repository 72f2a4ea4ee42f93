"""What a training run reports: its metrics, tables, plots and data manifest, and the run
folder they are written to (``runs/<name>/<time>/``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from honbun.atomic import write_text
from honbun.evaluation.blocks import SystemScores, per_source
from honbun.experiment.config import Experiment
from honbun.gold.dataset import LabelledPage
from honbun.gold.store import sha256_file


@dataclass
class RunOutput:
    """What one training run produced, before it is tracked."""

    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # file name -> text (md/json/csv)
    plots: list[Path] = field(default_factory=list)
    manifest: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def data_manifest(paths: set[str]) -> list[dict[str, str]]:
    """sha256 of every input file (pages, annotations, label config), sorted by path."""
    return [{"path": p, "sha256": sha256_file(p)} for p in sorted(paths)]


def data_hash(manifest: list[dict[str, str]]) -> str:
    h = hashlib.sha256()
    for row in manifest:
        h.update(f"{row['path']}\t{row['sha256']}\n".encode())
    return h.hexdigest()


def fmt(v: float) -> str:
    return f"{v:.4f}" if isinstance(v, float) and not np.isnan(v) else "–"


def boilerplate_comparison(
    systems: list[SystemScores],
    rows: list[tuple[str, dict[str, float]]],
    html: list[LabelledPage],
    n_text: int,
    t_html: dict[str, float],
    t_dump: dict[str, float],
    heading: str,
) -> str:
    """The comparison table of every system on the HTML pages, the text-only model's
    figures and the per-source table, as Markdown."""
    lines = [
        heading,
        "",
        "| system | char3 F1 (macro) | char3 P | char3 R | block P | block R | block F1 | fold std (char3 F1) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, sm in rows:
        lines.append(
            f"| {name} | {fmt(sm.get('char3_f1_macro', np.nan))} | {fmt(sm.get('char3_precision_macro', np.nan))} "
            f"| {fmt(sm.get('char3_recall_macro', np.nan))} | {fmt(sm.get('block_precision', np.nan))} "
            f"| {fmt(sm.get('block_recall', np.nan))} | {fmt(sm.get('block_f1', np.nan))} "
            f"| {fmt(sm.get('char3_f1_fold_std', np.nan))} |"
        )
    lines += [
        "",
        f"Text-only model (no DOM), same CV: on the HTML pages rendered to text char3 F1 "
        f"{fmt(t_html.get('char3_f1_macro', np.nan))}, block F1 {fmt(t_html.get('block_f1', np.nan))}; "
        f"on the {n_text} text dumps char3 F1 {fmt(t_dump.get('char3_f1_macro', np.nan))}, "
        f"block F1 {fmt(t_dump.get('block_f1', np.nan))}.",
        "",
        "Per source (char3 F1 macro):",
        "",
    ]
    src = per_source(systems, html)
    names = [s.name for s in systems]
    lines += ["| source | pages | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for source, vals in src.items():
        lines.append(
            f"| {source} | {int(vals['pages'])} | "
            + " | ".join(fmt(vals.get(n, np.nan)) for n in names)
            + " |"
        )
    return "\n".join(lines) + "\n"


def plot_block_pr(gold: list[Any], proba: list[np.ndarray], path: Path) -> Path:
    from sklearn.metrics import precision_recall_curve

    from honbun.evaluation.figures import axes, save

    y = np.concatenate([g.y for g in gold])
    p = np.concatenate(proba)
    prec, rec, _ = precision_recall_curve(y, p)
    fig, ax = axes("Body-block precision–recall (out-of-fold)", "recall (body blocks)", "precision")
    ax.plot(rec, prec)
    return save(fig, ax, path)


def write_run_dir(run_dir: Path, exp: Experiment, out: RunOutput, card: dict[str, Any]) -> None:
    write_text(run_dir / "config.toml", exp.text)
    write_text(run_dir / "metrics.json", json.dumps(out.metrics, indent=1, sort_keys=True))
    write_text(run_dir / "data_manifest.json", json.dumps(out.manifest, indent=1))
    write_text(run_dir / "card.json", json.dumps(card, ensure_ascii=False, indent=1))
    for name, text in out.tables.items():
        write_text(run_dir / name, text)
