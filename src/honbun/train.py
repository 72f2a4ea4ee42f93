"""``honbun train``: evaluate with grouped CV, fit the final models, save, record a run.

Inputs (all declared by the config): the label config, the reviewed annotations and the
pages they point at (or the livedoor corpus for the document benchmark). Outputs:
``models/<name>/`` (atomic), ``runs/<name>/<timestamp>/`` (metrics, comparison table,
per-label report, error file, plots, data manifest, the config), and an MLflow run.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from honbun.annotations import sha256_file
from honbun.experiment import Experiment
from honbun.labels import LabelConfig, load_labels


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
    import hashlib

    h = hashlib.sha256()
    for row in manifest:
        h.update(f"{row['path']}\t{row['sha256']}\n".encode())
    return h.hexdigest()


def _fmt(v: float) -> str:
    return f"{v:.4f}" if isinstance(v, float) and not np.isnan(v) else "–"


# ---------------------------------------------------------------- body vs boilerplate
def text_model_config(section: dict[str, Any], text: dict[str, Any], seed: int) -> Any:
    """The text-only model's ModelConfig: the ``[boilerplate]`` settings without DOM
    features, with those of ``[boilerplate.text]`` on top."""
    from honbun.boilerplate import ModelConfig

    features = {**section.get("features", {}), "dom": False}
    return ModelConfig.from_dict({**section, **text, "features": features}, seed)


def train_boilerplate(
    exp: Experiment, labels: LabelConfig, out: RunOutput, run_dir: Path
) -> dict[str, Any]:
    from honbun.baselines import available_text_baselines
    from honbun.block_eval import (
        cross_validate,
        cross_validate_with_context,
        make_folds,
        per_source,
        score_block_baselines,
        score_model,
        score_text_baselines,
        worst_blocks,
    )
    from honbun.block_features import feature_names
    from honbun.boilerplate import BlockModel, ModelConfig, as_text_page, prepare
    from honbun.dataset import load_block_gold
    from honbun.roles import RoleModel

    sec = exp.section("boilerplate")
    data = exp.section("data")
    compare = list(sec.pop("compare", []))
    baselines = list(sec.pop("baselines", ["all-body", "rule"]))
    scheme = sec.pop("cv", "site")
    sec.pop("enabled", None)
    text_settings = dict(sec.pop("text", {}))  # the text-only model's own settings
    cfg = ModelConfig.from_dict(sec, exp.seed)
    gold = load_block_gold(
        labels, data.get("annotations", "data/annotations"), tuple(data.get("block_sets", ()))
    )
    for g in gold:
        out.manifest.append({"path": str(g.doc.file), "sha256": ""})
        out.manifest.append({"path": g.doc.path, "sha256": ""})
    if data.get("limit"):  # a deterministic subset (sorted by doc id) for quick runs and tests
        gold = gold[: int(data["limit"])]
    html = [g for g in gold if g.page.format == "html"]
    text = [g for g in gold if g.page.format != "html"]
    progress(f"boilerplate: tokenising and featurising {len(html)} HTML pages")
    t0 = time.perf_counter()
    prepared = [prepare(g.page, cfg, g.site) for g in html]
    out.timings["boilerplate_prepare_s"] = time.perf_counter() - t0

    folds = make_folds(html, scheme, exp.seed)
    fold_ids = [[html[i].page.doc_id for i in f] for f in folds]
    systems = []
    progress(f"boilerplate: {cfg.model} model, {scheme} CV ({len(folds)} folds)")
    t0 = time.perf_counter()
    oof, oof_site = cross_validate_with_context(cfg, html, prepared, folds)
    out.timings["boilerplate_cv_s"] = time.perf_counter() - t0
    main = score_model(f"honbun-{cfg.model}", html, oof, cfg.threshold)
    systems.append(main)
    # The same fold models, each held-out fold's pages scored together with their site
    # context (`honbun score --site-context`).
    systems.append(score_model(f"honbun-{cfg.model}-site-context", html, oof_site, cfg.threshold))
    for name in compare:
        if name != cfg.model:
            progress(f"boilerplate: {name} model for the comparison, same folds")
            alt = ModelConfig(**{**cfg.__dict__, "model": name})
            systems.append(
                score_model(
                    f"honbun-{name}",
                    html,
                    cross_validate(alt, html, prepared, folds),
                    alt.threshold,
                )
            )
    progress(f"boilerplate: baselines {', '.join(baselines)}")
    systems += score_block_baselines(html)
    wanted = [b for b in baselines if b not in ("all-body", "rule")]
    missing = [b for b in wanted if b not in available_text_baselines()]
    if missing:
        progress(f"boilerplate: skipping {', '.join(missing)} (install the `baselines` extra)")
    systems += score_text_baselines(html, [b for b in wanted if b not in missing])

    # The text-only model: HTML pages seen as text dumps, plus the real text dumps.
    tcfg = text_model_config(sec, text_settings, exp.seed)
    t_pages = [as_text_page(p, tcfg) for p in prepared] + [
        prepare(g.page, tcfg, g.site) for g in text
    ]
    t_gold = html + text
    t_folds = make_folds(t_gold, scheme, exp.seed)
    progress(f"boilerplate: text-only model, {scheme} CV ({len(t_folds)} folds)")
    t0 = time.perf_counter()
    t_oof = cross_validate(tcfg, t_gold, t_pages, t_folds)
    out.timings["text_model_cv_s"] = time.perf_counter() - t0
    t_scores = score_model("honbun-text", t_gold, t_oof, tcfg.threshold)
    t_fold_ids = [[t_gold[i].page.doc_id for i in f] for f in t_folds]
    text_ids = {g.page.doc_id for g in text}
    t_html = t_scores.summary(html, [[i for i in f if i not in text_ids] for f in t_fold_ids])
    t_dump = t_scores.summary(text, [[i for i in f if i in text_ids] for f in t_fold_ids])

    rows = []
    for s in systems:
        sm = s.summary(html, fold_ids)
        rows.append((s.name, sm))
        for k, v in sm.items():
            if k != "pages":
                out.metrics[f"bp.{s.name}.{k}"] = v
    for k, v in t_html.items():
        out.metrics[f"bp.text-model-on-html.{k}"] = v
    for k, v in t_dump.items():
        out.metrics[f"bp.text-model-on-dumps.{k}"] = v
    msum = main.summary(html, fold_ids)
    out.metrics["boilerplate_char3_f1"] = msum["char3_f1_macro"]
    out.metrics["boilerplate_block_f1"] = msum["block_f1"]

    cv_name = "leave-one-site-out" if scheme == "site" else "grouped 10-fold by page"
    lines = [
        f"Body vs boilerplate, {len(html)} HTML pages from {len({g.site for g in html})} sites, "
        f"{cv_name} CV ({len(folds)} folds), threshold {cfg.threshold}.",
        "",
        "| system | char3 F1 (macro) | char3 P | char3 R | block P | block R | block F1 | fold std (char3 F1) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, sm in rows:
        lines.append(
            f"| {name} | {_fmt(sm.get('char3_f1_macro', np.nan))} | {_fmt(sm.get('char3_precision_macro', np.nan))} "
            f"| {_fmt(sm.get('char3_recall_macro', np.nan))} | {_fmt(sm.get('block_precision', np.nan))} "
            f"| {_fmt(sm.get('block_recall', np.nan))} | {_fmt(sm.get('block_f1', np.nan))} "
            f"| {_fmt(sm.get('char3_f1_fold_std', np.nan))} |"
        )
    lines += [
        "",
        f"Text-only model (no DOM), same CV: on the HTML pages rendered to text char3 F1 "
        f"{_fmt(t_html.get('char3_f1_macro', np.nan))}, block F1 {_fmt(t_html.get('block_f1', np.nan))}; "
        f"on the {len(text)} text dumps char3 F1 {_fmt(t_dump.get('char3_f1_macro', np.nan))}, "
        f"block F1 {_fmt(t_dump.get('block_f1', np.nan))}.",
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
            + " | ".join(_fmt(vals.get(n, np.nan)) for n in names)
            + " |"
        )
    out.tables["boilerplate_comparison.md"] = "\n".join(lines) + "\n"
    errs = worst_blocks(html, prepared, oof, feature_names(cfg.features))
    out.tables["boilerplate_errors.jsonl"] = "".join(
        json.dumps(e, ensure_ascii=False) + "\n" for e in errs
    )
    per_page = {
        g.page.doc_id: {"site": g.site, "char3_f1": main.char3[g.page.doc_id].f1} for g in html
    }
    out.tables["boilerplate_per_page.json"] = json.dumps(per_page, ensure_ascii=False, indent=1)
    out.plots.append(_plot_block_pr(html, oof, run_dir / "boilerplate_pr.png"))

    # Final models on all pages.
    progress("boilerplate: final models on all pages")
    t0 = time.perf_counter()
    html_model = BlockModel(cfg).fit(prepared, [g.y for g in html])
    out.timings["boilerplate_fit_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    text_model = BlockModel(tcfg).fit(t_pages, [g.y for g in t_gold])
    out.timings["text_model_fit_s"] = time.perf_counter() - t0
    role_html = RoleModel(labels.roles, exp.seed).fit(prepared, [g.roles for g in html], oof)
    role_text = RoleModel(labels.roles, exp.seed).fit(t_pages, [g.roles for g in t_gold], t_oof)
    return {
        "block_cfg": cfg,
        "html_model": html_model,
        "text_cfg": tcfg,
        "text_model": text_model,
        "role_model": {"html": role_html, "text": role_text},
    }


def _plot_block_pr(gold: list[Any], proba: list[np.ndarray], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    y = np.concatenate([g.y for g in gold])
    p = np.concatenate(proba)
    prec, rec, _ = precision_recall_curve(y, p)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(rec, prec)
    ax.set_xlabel("recall (body blocks)")
    ax.set_ylabel("precision")
    ax.set_title("Body-block precision–recall (out-of-fold)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- topics
def train_topics(
    exp: Experiment, labels: LabelConfig, out: RunOutput, run_dir: Path
) -> dict[str, Any]:
    from honbun.dataset import load_topic_gold
    from honbun.lexicon import Lexicon
    from honbun.topic_eval import evaluate_topics
    from honbun.topics import TopicConfig, TopicTagger

    sec = exp.section("topics")
    data = exp.section("data")
    opts = {
        k: sec.pop(k) for k in ("cv_folds", "cv_repeats", "learning_curve", "enabled") if k in sec
    }
    cfg = TopicConfig.from_dict(sec, exp.seed)
    sets = set(data.get("topic_sets", ()))
    gold = [
        s
        for s in load_topic_gold(labels, data.get("annotations", "data/annotations"))
        if not sets or s.collection in sets
    ]
    names = labels.topic_names
    report = evaluate_topics(
        gold, labels, cfg,
        folds=int(opts.get("cv_folds", 5)), repeats=int(opts.get("cv_repeats", 3)),
        curve=list(opts.get("learning_curve", [])), seed=exp.seed, run_dir=run_dir,
    )  # fmt: skip
    out.metrics.update({f"topics.{k}": v for k, v in report.metrics.items()})
    out.tables.update(report.tables)
    out.plots += report.plots
    items = [s.item() for s in gold]
    Y = np.array([[int(n in s.topics) for n in names] for s in gold], dtype=int)
    t0 = time.perf_counter()
    lexicon = Lexicon.from_config(labels).words
    tagger = TopicTagger(cfg, names, lexicon).fit(items, Y, np.array([s.doc_id for s in gold]))
    out.timings["topics_fit_s"] = time.perf_counter() - t0
    return {"topic_cfg": cfg, "topic_model": tagger}


# ---------------------------------------------------------------- documents
def train_documents(exp: Experiment, out: RunOutput) -> dict[str, Any]:
    from honbun.doc_eval import evaluate_documents

    sec = exp.section("documents")
    res = evaluate_documents(sec, exp.seed)
    out.metrics.update({f"documents.{k}": v for k, v in res.metrics.items()})
    out.tables.update(res.tables)
    out.timings.update(res.timings)
    out.manifest.append({"path": str(sec.get("path")), "sha256": ""})
    return {"doc_cfg": res.cfg, "doc_model": res.model}


# ---------------------------------------------------------------- the job
def run(
    exp: Experiment,
    models_dir: Path = Path("models"),
    runs_dir: Path = Path("runs"),
    track: bool = True,
) -> dict[str, Any]:
    """Train and evaluate everything the config enables; save the bundle; record the run."""

    labels = load_labels(exp.labels_path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = runs_dir / exp.name / stamp
    # The report is built in a hidden sibling and renamed when complete, so an interrupted
    # training leaves no half-filled run folder.
    partial = runs_dir / exp.name / f".{stamp}.partial"
    partial.mkdir(parents=True, exist_ok=True)
    try:
        out, card, model_path = _train_into(exp, labels, stamp, partial, models_dir)
        _write_run_dir(partial, exp, out, card)
        partial.rename(run_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    summary = {
        "model": str(model_path),
        "run_dir": str(run_dir),
        "data_sha256": card["data"]["sha256"],
        "metrics": out.metrics,
    }
    if track:
        from honbun.tracking import record_run

        summary.update(record_run(exp, out, card, model_path, run_dir))
    return summary


def progress(message: str) -> None:
    """One progress line on stderr (stdout carries the summary)."""
    print(f"[honbun train {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr)


def _train_into(
    exp: Experiment, labels: LabelConfig, stamp: str, run_dir: Path, models_dir: Path
) -> tuple[RunOutput, dict[str, Any], Path]:
    """Train and evaluate what the config enables; save the bundle; the report goes to run_dir."""
    from honbun.bundle import BUNDLE_FORMAT, ModelBundle, label_signature, versions

    out = RunOutput()
    t0 = time.perf_counter()
    parts: dict[str, Any] = {}
    if exp.enabled("boilerplate"):
        parts.update(train_boilerplate(exp, labels, out, run_dir))
    if exp.enabled("topics"):
        progress("topics: grouped CV, learning curve, final model")
        parts.update(train_topics(exp, labels, out, run_dir))
        out.manifest += [
            {"path": str(f), "sha256": ""}
            for f in sorted(
                Path(exp.section("data").get("annotations", "data/annotations")).rglob("*.jsonl")
            )
        ]
    if exp.enabled("documents"):
        progress("documents: CV and final model")
        parts.update(train_documents(exp, out))
    out.timings["total_s"] = time.perf_counter() - t0
    paths = {m["path"].split("#", 1)[0] for m in out.manifest} | {str(exp.labels_path)}
    out.manifest = data_manifest({p for p in paths if Path(p).is_file()})
    dhash = data_hash(out.manifest)
    card = {
        "format": BUNDLE_FORMAT,
        "name": exp.name,
        "config": str(exp.path),
        "config_sha256": exp.sha256,
        "trained_at": stamp,
        "data": {"sha256": dhash, "files": len(out.manifest)},
        "metrics": {
            k: v for k, v in out.metrics.items() if not k.startswith("bp.") or "honbun" in k
        },
        "labels": label_signature(labels),
        "versions": versions(),
        "timings": out.timings,
        "limits": (
            "Trained on the reviewed annotations shipped in data/ (Japanese news, blog and other "
            "pages from 53 sites, two Newsweek Japan text dumps, livedoor sentences). Metrics are "
            "grouped cross-validation estimates; pages unlike these (other languages, forums, "
            "single-page apps rendered by JavaScript) will do worse."
        ),
    }
    bundle = ModelBundle(name=exp.name, labels=labels, card=card, **parts)
    model_path = bundle.save(models_dir, exp.text)
    progress(f"saved {model_path} ({out.timings['total_s']:.0f} s)")
    return out, card, model_path


def _write_run_dir(run_dir: Path, exp: Experiment, out: RunOutput, card: dict[str, Any]) -> None:
    from honbun.atomic import write_text

    write_text(run_dir / "config.toml", exp.text)
    write_text(run_dir / "metrics.json", json.dumps(out.metrics, indent=1, sort_keys=True))
    write_text(run_dir / "data_manifest.json", json.dumps(out.manifest, indent=1))
    write_text(run_dir / "card.json", json.dumps(card, ensure_ascii=False, indent=1))
    for name, text in out.tables.items():
        write_text(run_dir / name, text)
