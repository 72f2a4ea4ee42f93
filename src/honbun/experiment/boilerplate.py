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
from honbun.cache import Cache, code_version, fingerprint
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
from honbun.features.prepared import PreparedPage, prepare, text_view
from honbun.gold.dataset import LabelledPage, load_block_gold, load_clean_text
from honbun.labels import LabelConfig
from honbun.progress import Stage, each, progress

T = TypeVar("T")


@dataclass
class BlockJob:
    """The ``[boilerplate]`` table of a config, read once."""

    cfg: ModelConfig  # the HTML model
    text_cfg: ModelConfig  # the text-only model: no DOM features, [boilerplate.text] on top
    cv_cfg: ModelConfig  # the HTML model as cross-validated ([boilerplate.cv_model] on top)
    text_cv_cfg: ModelConfig  # the text-only model as cross-validated
    compare: list[str]  # other model kinds cross-validated on the same folds
    baselines: list[str]
    scheme: str  # "site" (grouped by site) or "document"
    folds: int  # grouped folds; 0: one per site (leave-one-site-out)

    @classmethod
    def from_experiment(cls, exp: Experiment) -> BlockJob:
        sec = exp.section("boilerplate")
        compare = list(sec.pop("compare", []))
        baselines = list(sec.pop("baselines", ["all-body", "rule"]))
        scheme = sec.pop("cv", "site")
        folds = int(sec.pop("cv_folds", 0))
        cv_only = dict(sec.pop("cv_model", {}))  # cheaper settings inside the CV only
        sec.pop("enabled", None)
        text = dict(sec.pop("text", {}))
        cfg = ModelConfig.from_dict(sec, exp.seed)
        text_cfg = text_model_config(sec, text, exp.seed)
        cv_cfg = ModelConfig.from_dict({**sec, **cv_only}, exp.seed)
        text_cv_cfg = text_model_config({**sec, **cv_only}, {**text, **cv_only}, exp.seed)
        return cls(cfg, text_cfg, cv_cfg, text_cv_cfg, compare, baselines, scheme, folds)

    @property
    def cv_name(self) -> str:
        if self.scheme == "document":
            return "grouped 10-fold by page"
        return f"{self.folds}-fold grouped by site" if self.folds else "leave-one-site-out"


def train_boilerplate(
    exp: Experiment, labels: LabelConfig, out: RunOutput, run_dir: Path
) -> dict[str, Any]:
    """Evaluate and fit the block models of ``exp``; their metrics, tables and plot go to
    ``out``, the fitted models (for the bundle) are returned."""
    job = BlockJob.from_experiment(exp)
    html, text, clean = gold_pages(exp, labels, out)
    cache = Cache.from_env()
    prepared = timed(out, "boilerplate_prepare_s", lambda: prepare_all(html, job.cfg, cache))
    folds = make_folds(html, job.scheme, exp.seed, job.folds)
    systems, oof = html_systems(job, html, prepared, folds, out, cache)
    t_gold = html + text + clean
    t_pages = prepare_all(t_gold, job.text_cfg, cache, as_text=True)
    t_oof, t_scores = text_model_cv(job, (html, text, clean), t_pages, exp.seed, out, cache)
    fold_ids = [[html[i].page.doc_id for i in f] for f in folds]
    report(job, html, len(text), prepared, systems, oof, fold_ids, t_scores, out)
    out.plots.append(plot_block_pr(html, oof, run_dir / "boilerplate_pr.png"))
    models = final_models(
        job, labels, exp.seed, (html, prepared, oof), (t_gold, t_pages, t_oof), out, cache
    )
    out.timings["boilerplate_cache_hits"] = float(cache.hits)
    return models


def timed(out: RunOutput, key: str, fn: Callable[[], T]) -> T:
    """``fn()``, its wall time recorded in ``out.timings[key]``."""
    t0 = time.perf_counter()
    result = fn()
    out.timings[key] = time.perf_counter() - t0
    return result


def gold_pages(
    exp: Experiment, labels: LabelConfig, out: RunOutput
) -> tuple[list[LabelledPage], list[LabelledPage], list[LabelledPage]]:
    """The block gold the config selects, as HTML pages and text pages, and the clean
    article texts (``clean_text_sets``: every line body, for the text-only model); every
    file it read goes to the data manifest."""
    data = exp.section("data")
    root = data.get("annotations", "data/annotations")
    gold = load_block_gold(labels, root, tuple(data.get("block_sets", ())))
    clean = load_clean_text(labels, root, tuple(data.get("clean_text_sets", ())))
    clean = clean[:: int(data.get("clean_text_every", 1))]  # every n-th, by doc id
    for g in gold + clean:
        out.manifest.append({"path": str(g.doc.file), "sha256": ""})
        out.manifest.append({"path": g.doc.path, "sha256": ""})
    if data.get("limit"):  # a deterministic subset (sorted by doc id) for quick runs and tests
        gold, clean = gold[: int(data["limit"])], clean[: int(data["limit"])]
    html = [g for g in gold if g.page.format == "html"]
    return html, [g for g in gold if g.page.format != "html"], clean


def prepare_all(
    gold: list[LabelledPage], cfg: ModelConfig, cache: Cache, as_text: bool = False
) -> list[PreparedPage]:
    """Each page tokenised and featurised for ``cfg`` (``as_text``: seen as a text dump, as
    the text-only model sees every page), read from the cache when the page, its site, the
    feature settings and the reading and feature code are unchanged."""
    code = code_version("read", "features")
    what = "text-only model" if as_text else "HTML model"
    out = []
    for g in each(gold, f"boilerplate: featurising pages for the {what}", unit="page"):
        page = text_view(g.page) if as_text else g.page
        key = fingerprint(page.content_hash(), g.site, cfg.features, code)
        out.append(
            cache.fetch("features", key, lambda p=page, g=g: prepare(p, cfg.features, g.site))
        )
    return out


def _cv_key(
    kind: str,
    cfg: ModelConfig,
    gold: list[LabelledPage],
    pages: list[PreparedPage],
    folds: list[np.ndarray],
) -> str:
    """What a cross-validation's result depends on: its kind, the model settings, every
    page's features (by their content) and labels, the folds and all of honbun's code."""
    return fingerprint(
        kind, cfg, [(p.page.content_hash(), p.site, g.y) for g, p in zip(gold, pages, strict=True)],
        folds, code_version("."),
    )  # fmt: skip


def html_systems(
    job: BlockJob,
    html: list[LabelledPage],
    prepared: list[PreparedPage],
    folds: list[np.ndarray],
    out: RunOutput,
    cache: Cache,
) -> tuple[list[SystemScores], list[np.ndarray]]:
    """Every system on the HTML pages, same folds: the model (each held-out page alone,
    and with its site context), the comparison models and the baselines; and the model's
    out-of-fold decision scores."""
    cfg = job.cv_cfg
    key = _cv_key("cv-with-context", cfg, html, prepared, folds)
    oof, oof_site = timed(
        out,
        "boilerplate_cv_s",
        lambda: cache.fetch(
            "cv",
            key,
            lambda: cross_validate_with_context(
                cfg, html, prepared, folds, name=f"boilerplate: {cfg.model} model"
            ),
        ),
    )
    systems = [score_model(f"honbun-{cfg.model}", html, oof, cfg.threshold)]
    # The same fold models, each held-out fold's pages scored together with their site
    # context (`honbun score --site-context`).
    systems.append(score_model(f"honbun-{cfg.model}-site-context", html, oof_site, cfg.threshold))
    for name in job.compare:
        if name != cfg.model:
            alt = ModelConfig(**{**cfg.__dict__, "model": name})
            key = _cv_key("cv", alt, html, prepared, folds)
            p = cache.fetch(
                "cv",
                key,
                lambda alt=alt: cross_validate(
                    alt, html, prepared, folds, name=f"boilerplate: {alt.model} model (comparison)"
                ),
            )
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
    kinds: tuple[list[LabelledPage], list[LabelledPage], list[LabelledPage]],
    t_pages: list[PreparedPage],
    seed: int,
    out: RunOutput,
    cache: Cache,
) -> tuple[list[np.ndarray], dict[str, dict[str, float]]]:
    """The text-only model, cross-validated on the HTML pages seen as text dumps, the
    real text dumps and the clean article texts: its out-of-fold scores and its summary on
    each kind (``html``, ``dumps``, ``clean``)."""
    html, text, clean = kinds
    t_gold = html + text + clean
    t_folds = make_folds(t_gold, job.scheme, seed, job.folds)
    cfg = job.text_cv_cfg
    key = _cv_key("cv", cfg, t_gold, t_pages, t_folds)
    t_oof = timed(
        out,
        "text_model_cv_s",
        lambda: cache.fetch(
            "cv",
            key,
            lambda: cross_validate(
                cfg, t_gold, t_pages, t_folds, name="boilerplate: text-only model"
            ),
        ),
    )
    scores = score_model("honbun-text", t_gold, t_oof, job.text_cfg.threshold)
    fold_ids = [[t_gold[i].page.doc_id for i in f] for f in t_folds]
    summaries = {}
    for name, pages in (("html", html), ("dumps", text), ("clean", clean)):
        if pages:
            ids = {g.page.doc_id for g in pages}
            summaries[name] = scores.summary(pages, [[i for i in f if i in ids] for f in fold_ids])
    return t_oof, summaries


def report(
    job: BlockJob,
    html: list[LabelledPage],
    n_text: int,
    prepared: list[PreparedPage],
    systems: list[SystemScores],
    oof: list[np.ndarray],
    fold_ids: list[list[str]],
    text_model: dict[str, dict[str, float]],
    out: RunOutput,
) -> None:
    """The metrics (``bp.<system>.<measure>``, and the main two) and the tables."""
    t_html, t_dump = text_model.get("html", {}), text_model.get("dumps", {})
    rows = []
    for s in systems:
        sm = s.summary(html, fold_ids)
        rows.append((s.name, sm))
        out.metrics.update({f"bp.{s.name}.{k}": v for k, v in sm.items() if k != "pages"})
    out.metrics.update({f"bp.text-model-on-html.{k}": v for k, v in t_html.items()})
    out.metrics.update({f"bp.text-model-on-dumps.{k}": v for k, v in t_dump.items()})
    for k, v in text_model.get("clean", {}).items():  # clean article text: every line body
        out.metrics[f"bp.text-model-on-clean.{k}"] = v
    main = rows[0][1]
    out.metrics["boilerplate_char3_f1"] = main["char3_f1_macro"]
    out.metrics["boilerplate_block_f1"] = main["block_f1"]
    inside = (
        " (inside the CV: " + _differences(job.cfg, job.cv_cfg) + ")"
        if job.cv_cfg != job.cfg
        else ""
    )
    heading = (
        f"Body vs boilerplate, {len(html)} HTML pages from {len({g.site for g in html})} sites, "
        f"{job.cv_name} CV ({len(fold_ids)} folds), threshold {job.cfg.threshold}{inside}."
    )
    out.tables["boilerplate_comparison.md"] = boilerplate_comparison(
        systems, rows, html, n_text, t_html, t_dump, heading
    )
    errs = worst_blocks(html, prepared, oof, feature_names(job.cfg.features))
    out.tables["boilerplate_errors.jsonl"] = "".join(jsonl.line(e) for e in errs)
    char3 = systems[0].char3
    per_page = {g.page.doc_id: {"site": g.site, "char3_f1": char3[g.page.doc_id].f1} for g in html}
    out.tables["boilerplate_per_page.json"] = json.dumps(per_page, ensure_ascii=False, indent=1)


def _differences(a: ModelConfig, b: ModelConfig) -> str:
    """The settings of ``b`` that differ from ``a``'s, as ``name = value``."""
    return ", ".join(f"{k} = {v}" for k, v in b.__dict__.items() if a.__dict__.get(k) != v)


def final_models(
    job: BlockJob,
    labels: LabelConfig,
    seed: int,
    html_side: tuple[list[LabelledPage], list[PreparedPage], list[np.ndarray]],
    text_side: tuple[list[LabelledPage], list[PreparedPage], list[np.ndarray]],
    out: RunOutput,
    cache: Cache,
) -> dict[str, Any]:
    """Both block models, fitted on all pages with the full settings, and their role
    models (which read the out-of-fold decision scores, as they will read unseen pages')."""
    html, prepared, oof = html_side
    t_gold, t_pages, t_oof = text_side

    def fit(cfg: ModelConfig, gold: list[LabelledPage], pages: list[PreparedPage]) -> BlockModel:
        key = _cv_key("fit", cfg, gold, pages, [])
        return cache.fetch("models", key, lambda: BlockModel(cfg).fit(pages, [g.y for g in gold]))

    with Stage(f"boilerplate: fitting the HTML model on all {len(html)} pages"):
        html_model = timed(out, "boilerplate_fit_s", lambda: fit(job.cfg, html, prepared))
    with Stage(f"boilerplate: fitting the text-only model on all {len(t_gold)} pages"):
        text_model = timed(out, "text_model_fit_s", lambda: fit(job.text_cfg, t_gold, t_pages))
    role_html = RoleModel(labels.roles, seed).fit(prepared, [g.roles for g in html], oof)
    role_text = RoleModel(labels.roles, seed).fit(t_pages, [g.roles for g in t_gold], t_oof)
    return {
        "block_cfg": job.cfg,
        "html_model": html_model,
        "text_cfg": job.text_cfg,
        "text_model": text_model,
        "role_model": {"html": role_html, "text": role_text},
    }
