"""The body-vs-boilerplate part of the training job: cross-validate the block model, the
comparison models and the baselines on the same site folds, then fit the final models.

:func:`train_boilerplate` is the orchestrator; each step below it does one thing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from honbun import jsonl
from honbun.boilerplate.config import ModelConfig, text_model_config
from honbun.boilerplate.model import BlockModel
from honbun.boilerplate.roles import RoleModel
from honbun.evaluation.baselines import available_text_baselines
from honbun.evaluation.blocks import (
    SystemScores,
    cross_validate,
    cross_validate_with_context,
    make_folds,
    score_block_baselines,
    score_model,
    score_text_baselines,
    worst_blocks,
)
from honbun.experiment.config import Experiment
from honbun.experiment.report import RunOutput, boilerplate_comparison, plot_block_pr
from honbun.features.blocks import feature_names
from honbun.features.prepared import PreparedPage, as_text_page, prepare
from honbun.gold.dataset import LabelledPage, load_block_gold
from honbun.labels import LabelConfig
from honbun.progress import progress

T = TypeVar("T")


@dataclass
class BlockJob:
    """The ``[boilerplate]`` table of a config, read once."""

    cfg: ModelConfig  # the HTML model
    text_cfg: ModelConfig  # the text-only model: no DOM features, [boilerplate.text] on top
    compare: list[str]  # other model kinds cross-validated on the same folds
    baselines: list[str]
    scheme: str  # "site" (leave-one-site-out) or "document"

    @classmethod
    def from_experiment(cls, exp: Experiment) -> BlockJob:
        sec = exp.section("boilerplate")
        compare = list(sec.pop("compare", []))
        baselines = list(sec.pop("baselines", ["all-body", "rule"]))
        scheme = sec.pop("cv", "site")
        sec.pop("enabled", None)
        text = dict(sec.pop("text", {}))
        cfg = ModelConfig.from_dict(sec, exp.seed)
        return cls(cfg, text_model_config(sec, text, exp.seed), compare, baselines, scheme)


def train_boilerplate(
    exp: Experiment, labels: LabelConfig, out: RunOutput, run_dir: Path
) -> dict[str, Any]:
    """Evaluate and fit the block models of ``exp``; their metrics, tables and plot go to
    ``out``, the fitted models (for the bundle) are returned."""
    job = BlockJob.from_experiment(exp)
    html, text = gold_pages(exp, labels, out)
    progress(f"boilerplate: tokenising and featurising {len(html)} HTML pages")
    prepared = timed(out, "boilerplate_prepare_s", lambda: prepare_all(html, job.cfg))
    folds = make_folds(html, job.scheme, exp.seed)
    systems, oof = html_systems(job, html, prepared, folds, out)
    t_gold = html + text
    t_pages = [as_text_page(p, job.text_cfg.features) for p in prepared]
    t_pages += prepare_all(text, job.text_cfg)
    t_oof, t_html, t_dump = text_model_cv(job, html, text, t_pages, exp.seed, out)
    fold_ids = [[html[i].page.doc_id for i in f] for f in folds]
    report(job, html, len(text), prepared, systems, oof, fold_ids, (t_html, t_dump), out)
    out.plots.append(plot_block_pr(html, oof, run_dir / "boilerplate_pr.png"))
    progress("boilerplate: final models on all pages")
    return final_models(job, labels, exp.seed, (html, prepared, oof), (t_gold, t_pages, t_oof), out)


def timed(out: RunOutput, key: str, fn: Callable[[], T]) -> T:
    """``fn()``, its wall time recorded in ``out.timings[key]``."""
    t0 = time.perf_counter()
    result = fn()
    out.timings[key] = time.perf_counter() - t0
    return result


def gold_pages(
    exp: Experiment, labels: LabelConfig, out: RunOutput
) -> tuple[list[LabelledPage], list[LabelledPage]]:
    """The block gold the config selects, as HTML pages and text pages; every file it
    read goes to the data manifest."""
    data = exp.section("data")
    gold = load_block_gold(
        labels, data.get("annotations", "data/annotations"), tuple(data.get("block_sets", ()))
    )
    for g in gold:
        out.manifest.append({"path": str(g.doc.file), "sha256": ""})
        out.manifest.append({"path": g.doc.path, "sha256": ""})
    if data.get("limit"):  # a deterministic subset (sorted by doc id) for quick runs and tests
        gold = gold[: int(data["limit"])]
    return [g for g in gold if g.page.format == "html"], [
        g for g in gold if g.page.format != "html"
    ]


def prepare_all(gold: list[LabelledPage], cfg: ModelConfig) -> list[PreparedPage]:
    return [prepare(g.page, cfg.features, g.site) for g in gold]


def html_systems(
    job: BlockJob,
    html: list[LabelledPage],
    prepared: list[PreparedPage],
    folds: list[np.ndarray],
    out: RunOutput,
) -> tuple[list[SystemScores], list[np.ndarray]]:
    """Every system on the HTML pages, same folds: the model (each held-out page alone,
    and with its site context), the comparison models and the baselines; and the model's
    out-of-fold decision scores."""
    cfg = job.cfg
    progress(f"boilerplate: {cfg.model} model, {job.scheme} CV ({len(folds)} folds)")
    oof, oof_site = timed(
        out, "boilerplate_cv_s", lambda: cross_validate_with_context(cfg, html, prepared, folds)
    )
    systems = [score_model(f"honbun-{cfg.model}", html, oof, cfg.threshold)]
    # The same fold models, each held-out fold's pages scored together with their site
    # context (`honbun score --site-context`).
    systems.append(score_model(f"honbun-{cfg.model}-site-context", html, oof_site, cfg.threshold))
    for name in job.compare:
        if name != cfg.model:
            progress(f"boilerplate: {name} model for the comparison, same folds")
            alt = ModelConfig(**{**cfg.__dict__, "model": name})
            p = cross_validate(alt, html, prepared, folds)
            systems.append(score_model(f"honbun-{name}", html, p, alt.threshold))
    progress(f"boilerplate: baselines {', '.join(job.baselines)}")
    systems += score_block_baselines(html)
    wanted = [b for b in job.baselines if b not in ("all-body", "rule")]
    missing = [b for b in wanted if b not in available_text_baselines()]
    if missing:
        progress(f"boilerplate: skipping {', '.join(missing)} (install the `baselines` extra)")
    systems += score_text_baselines(html, [b for b in wanted if b not in missing])
    return systems, oof


def text_model_cv(
    job: BlockJob,
    html: list[LabelledPage],
    text: list[LabelledPage],
    t_pages: list[PreparedPage],
    seed: int,
    out: RunOutput,
) -> tuple[list[np.ndarray], dict[str, float], dict[str, float]]:
    """The text-only model, cross-validated on the HTML pages seen as text dumps plus the
    real text dumps: its out-of-fold scores and its summaries on each kind."""
    t_gold = html + text
    t_folds = make_folds(t_gold, job.scheme, seed)
    progress(f"boilerplate: text-only model, {job.scheme} CV ({len(t_folds)} folds)")
    t_oof = timed(
        out, "text_model_cv_s", lambda: cross_validate(job.text_cfg, t_gold, t_pages, t_folds)
    )
    scores = score_model("honbun-text", t_gold, t_oof, job.text_cfg.threshold)
    fold_ids = [[t_gold[i].page.doc_id for i in f] for f in t_folds]
    text_ids = {g.page.doc_id for g in text}
    t_html = scores.summary(html, [[i for i in f if i not in text_ids] for f in fold_ids])
    t_dump = scores.summary(text, [[i for i in f if i in text_ids] for f in fold_ids])
    return t_oof, t_html, t_dump


def report(
    job: BlockJob,
    html: list[LabelledPage],
    n_text: int,
    prepared: list[PreparedPage],
    systems: list[SystemScores],
    oof: list[np.ndarray],
    fold_ids: list[list[str]],
    text_model: tuple[dict[str, float], dict[str, float]],
    out: RunOutput,
) -> None:
    """The metrics (``bp.<system>.<measure>``, and the main two) and the tables."""
    t_html, t_dump = text_model
    rows = []
    for s in systems:
        sm = s.summary(html, fold_ids)
        rows.append((s.name, sm))
        out.metrics.update({f"bp.{s.name}.{k}": v for k, v in sm.items() if k != "pages"})
    out.metrics.update({f"bp.text-model-on-html.{k}": v for k, v in t_html.items()})
    out.metrics.update({f"bp.text-model-on-dumps.{k}": v for k, v in t_dump.items()})
    main = rows[0][1]
    out.metrics["boilerplate_char3_f1"] = main["char3_f1_macro"]
    out.metrics["boilerplate_block_f1"] = main["block_f1"]
    cv_name = "leave-one-site-out" if job.scheme == "site" else "grouped 10-fold by page"
    heading = (
        f"Body vs boilerplate, {len(html)} HTML pages from {len({g.site for g in html})} sites, "
        f"{cv_name} CV ({len(fold_ids)} folds), threshold {job.cfg.threshold}."
    )
    out.tables["boilerplate_comparison.md"] = boilerplate_comparison(
        systems, rows, html, n_text, t_html, t_dump, heading
    )
    errs = worst_blocks(html, prepared, oof, feature_names(job.cfg.features))
    out.tables["boilerplate_errors.jsonl"] = "".join(jsonl.line(e) for e in errs)
    char3 = systems[0].char3
    per_page = {g.page.doc_id: {"site": g.site, "char3_f1": char3[g.page.doc_id].f1} for g in html}
    out.tables["boilerplate_per_page.json"] = json.dumps(per_page, ensure_ascii=False, indent=1)


def final_models(
    job: BlockJob,
    labels: LabelConfig,
    seed: int,
    html_side: tuple[list[LabelledPage], list[PreparedPage], list[np.ndarray]],
    text_side: tuple[list[LabelledPage], list[PreparedPage], list[np.ndarray]],
    out: RunOutput,
) -> dict[str, Any]:
    """Both block models and their role models fitted on all pages (the role models read
    the out-of-fold decision scores, as they will read unseen pages' scores)."""
    html, prepared, oof = html_side
    t_gold, t_pages, t_oof = text_side
    html_model = timed(
        out, "boilerplate_fit_s", lambda: BlockModel(job.cfg).fit(prepared, [g.y for g in html])
    )
    text_model = timed(
        out,
        "text_model_fit_s",
        lambda: BlockModel(job.text_cfg).fit(t_pages, [g.y for g in t_gold]),
    )
    role_html = RoleModel(labels.roles, seed).fit(prepared, [g.roles for g in html], oof)
    role_text = RoleModel(labels.roles, seed).fit(t_pages, [g.roles for g in t_gold], t_oof)
    return {
        "block_cfg": job.cfg,
        "html_model": html_model,
        "text_cfg": job.text_cfg,
        "text_model": text_model,
        "role_model": {"html": role_html, "text": role_text},
    }
