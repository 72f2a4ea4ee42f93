"""Grouped cross-validation of the block model, with the baselines on the same folds.

Folds never split a page: ``site`` is leave-one-site-out (every page of the held-out
site is unseen, and so is its boilerplate), ``document`` is grouped K-fold by page.
For every page the out-of-fold body probabilities give a block labelling and an article
text; both are scored against gold (:mod:`honbun.metrics`), per page, per fold, per source.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from honbun.boilerplate import rules
from honbun.boilerplate.config import ModelConfig
from honbun.boilerplate.model import BlockModel
from honbun.evaluation.baselines import BLOCK_BASELINES, TEXT_BASELINES
from honbun.features.prepared import PreparedPage
from honbun.features.repetition import SiteContext
from honbun.gold.dataset import LabelledPage
from honbun.metrics import PRF, binary_prf, body_text, char3, mean_std
from honbun.progress import Stage

DOCUMENT_FOLDS = 10
WORST_BLOCKS = 200  # rows in the error file
CHUNKS_PER_JOB = 2  # fold batches per worker process (pages are pickled once per batch)


@dataclass
class SystemScores:
    """One system's scores: per page char-3-gram, plus block labels where it has them."""

    name: str
    char3: dict[str, PRF] = field(default_factory=dict)  # doc_id -> PRF
    blocks: dict[str, np.ndarray] = field(default_factory=dict)  # doc_id -> 0/1 predictions

    def summary(self, gold: list[LabelledPage], folds: list[list[str]]) -> dict[str, float]:
        ids = [g.page.doc_id for g in gold if g.page.doc_id in self.char3]
        out: dict[str, float] = {"pages": float(len(ids))}
        if not ids:
            return out
        f1s = [self.char3[i].f1 for i in ids]
        out["char3_f1_macro"] = float(np.mean(f1s))
        out["char3_precision_macro"] = float(np.mean([self.char3[i].precision for i in ids]))
        out["char3_recall_macro"] = float(np.mean([self.char3[i].recall for i in ids]))
        # Folds with none of these pages (the seeds' fold, when scoring HTML only) are
        # skipped rather than averaged over nothing (NumPy's "Mean of empty slice").
        per_fold = [[self.char3[i].f1 for i in f if i in self.char3] for f in folds]
        out["char3_f1_fold_std"] = float(np.std([np.mean(v) for v in per_fold if v]))
        if self.blocks:
            by_id = {g.page.doc_id: g for g in gold}
            yt = np.concatenate([by_id[i].y for i in ids if i in self.blocks])
            yp = np.concatenate([self.blocks[i] for i in ids if i in self.blocks])
            b = binary_prf(yt, yp)
            out.update(block_precision=b.precision, block_recall=b.recall, block_f1=b.f1)
            per_fold = []
            for f in folds:
                fi = [i for i in f if i in self.blocks]
                if fi:
                    per_fold.append(
                        binary_prf(
                            np.concatenate([by_id[i].y for i in fi]),
                            np.concatenate([self.blocks[i] for i in fi]),
                        ).f1
                    )
            out["block_f1_fold_mean"], out["block_f1_fold_std"] = mean_std(per_fold)
        return out


def make_folds(
    gold: list[LabelledPage], scheme: str, seed: int, n_folds: int = 0
) -> list[np.ndarray]:
    """Test-index arrays; every page in exactly one test fold; pages never split.

    ``site``: folds grouped by site, so a held-out site is never seen in training; one
    fold per site (leave-one-site-out) when ``n_folds`` is 0, else ``n_folds`` folds of
    whole sites (shuffled with ``seed``). ``document``: grouped 10-fold by page.
    """
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

    idx = np.arange(len(gold))
    if scheme == "site":
        groups = np.array([g.site for g in gold])
        if n_folds:
            k = min(n_folds, len(set(groups.tolist())))
            splits = GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(
                idx, groups=groups
            )
        else:
            splits = LeaveOneGroupOut().split(idx, groups=groups)
    elif scheme == "document":
        groups = np.array([g.page.doc_id for g in gold])
        n = min(DOCUMENT_FOLDS, len(gold))
        splits = GroupKFold(n_splits=n, shuffle=True, random_state=seed).split(idx, groups=groups)
    else:
        raise ValueError(f"unknown cv scheme {scheme!r} (site or document)")
    return [te for _, te in splits]


def _run_fold(
    cfg: ModelConfig,
    prepared: list[PreparedPage],
    labels: list[np.ndarray],
    test: np.ndarray,
    together: bool = False,
) -> list[list[np.ndarray]]:
    """The fold's held-out pages scored one at a time, and (``together``) as one batch:
    one list of decision scores (the model's probabilities after the rules) per way of
    scoring."""
    test_set = set(test.tolist())
    train = [i for i in range(len(prepared)) if i not in test_set]
    model = BlockModel(cfg).fit([prepared[i] for i in train], [labels[i] for i in train])
    pages = [prepared[i] for i in test]
    # One page at a time, as `honbun score` sees them: scoring a held-out site's pages
    # together would let the repetition feature see that site's boilerplate, which a
    # user scoring a single page never gets.
    alone = [model.predict_proba([p])[0] for p in pages]
    views = [alone]
    if together:
        # ...and as `honbun score --site-context` sees the fold: its pages count each other.
        context = SiteContext.of(p.page for p in pages)
        views.append(model.scorer().predict_proba(pages, alone=True, context=context))
    return [rules.apply(cfg.rules, cfg.features, pages, view) for view in views]


def _run_folds(
    cfg: ModelConfig,
    prepared: list[PreparedPage],
    labels: list[np.ndarray],
    tests: list[np.ndarray],
    together: bool,
) -> list[list[list[np.ndarray]]]:
    """Several folds in one worker, so the pages are sent to each worker once, not per fold."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # folds run in parallel processes; one thread each
        return [_run_fold(cfg, prepared, labels, te, together) for te in tests]


def cross_validate(
    cfg: ModelConfig,
    gold: list[LabelledPage],
    prepared: list[PreparedPage],
    folds: list[np.ndarray],
    jobs: int = 2,
    name: str = "block model",
) -> list[np.ndarray]:
    """Out-of-fold decision scores, one array per page (in ``gold`` order), each page
    scored by itself."""
    return _cross_validate(cfg, gold, prepared, folds, jobs, together=False, name=name)[0]


def cross_validate_with_context(
    cfg: ModelConfig,
    gold: list[LabelledPage],
    prepared: list[PreparedPage],
    folds: list[np.ndarray],
    jobs: int = 2,
    name: str = "block model",
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`cross_validate`, and the same fold models scoring each fold's pages with
    their site context (:mod:`honbun.features.repetition`; one site per leave-one-site-out fold)."""
    alone, together = _cross_validate(cfg, gold, prepared, folds, jobs, together=True, name=name)
    return alone, together


def _cross_validate(
    cfg: ModelConfig,
    gold: list[LabelledPage],
    prepared: list[PreparedPage],
    folds: list[np.ndarray],
    jobs: int,
    together: bool,
    name: str = "block model",
) -> list[list[np.ndarray]]:
    """One list of out-of-fold decision scores (in ``gold`` order) per way of scoring."""
    from joblib import Parallel, delayed

    labels = [g.y for g in gold]
    n_chunks = max(1, min(len(folds), CHUNKS_PER_JOB * jobs))
    chunks = [list(range(len(folds)))[c::n_chunks] for c in range(n_chunks)]
    results = Parallel(n_jobs=jobs, return_as="generator")(
        delayed(_run_folds)(cfg, prepared, labels, [folds[i] for i in chunk], together)
        for chunk in chunks
    )
    outs: list[list[np.ndarray | None]] = [[None] * len(gold) for _ in range(1 + together)]
    with Stage(f"{name}: {len(folds)}-fold CV", len(folds), "fold") as stage:
        done = list(_counted(chunks, results, stage))
    for chunk, fold_results in done:
        for f, views in zip(chunk, fold_results, strict=True):
            for out, probas in zip(outs, views, strict=True):
                for i, p in zip(folds[f], probas, strict=True):
                    out[i] = p
    assert all(o is not None for out in outs for o in out)
    return [[o for o in out if o is not None] for out in outs]


def _counted(chunks: list[list[int]], results: Any, stage: Stage) -> Any:
    """``(chunk, its fold results)`` as each chunk of folds finishes, counted in ``stage``."""
    for chunk, fold_results in zip(chunks, results, strict=True):
        stage.update(len(chunk))
        yield chunk, fold_results


def score_model(
    name: str, gold: list[LabelledPage], proba: list[np.ndarray], threshold: float
) -> SystemScores:
    s = SystemScores(name)
    for g, p in zip(gold, proba, strict=True):
        pred = (p >= threshold).astype(int)
        s.blocks[g.page.doc_id] = pred
        s.char3[g.page.doc_id] = char3(
            body_text([b.text for b in g.page.blocks], pred), g.gold_text()
        )
    return s


def score_block_baselines(gold: list[LabelledPage]) -> list[SystemScores]:
    out = []
    for name, fn in BLOCK_BASELINES.items():
        s = SystemScores(name)
        for g in gold:
            pred = fn(g.page)
            s.blocks[g.page.doc_id] = pred
            s.char3[g.page.doc_id] = char3(
                body_text([b.text for b in g.page.blocks], pred), g.gold_text()
            )
        out.append(s)
    return out


def score_text_baselines(gold: list[LabelledPage], names: list[str]) -> list[SystemScores]:
    """Run the text extractors on the HTML pages (decoded by honbun)."""
    from honbun.read.decode import decode_bytes

    out = []
    htmls = {}
    for g in gold:
        if g.page.format == "html":
            with open(g.doc.path, "rb") as fh:
                htmls[g.page.doc_id] = decode_bytes(fh.read()).text
    for name in names:
        fn = TEXT_BASELINES[name]
        s = SystemScores(name)
        for g in gold:
            if g.page.doc_id in htmls:
                try:
                    text = fn(htmls[g.page.doc_id]) or ""
                except Exception:  # an extractor crash is that extractor's empty output
                    text = ""
                s.char3[g.page.doc_id] = char3(text, g.gold_text())
        out.append(s)
    return out


def per_source(
    systems: list[SystemScores], gold: list[LabelledPage]
) -> dict[str, dict[str, float]]:
    """Macro char-3-gram F1 per source repository, per system."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for g in gold:
        by_source[g.source].append(g.page.doc_id)
    table: dict[str, dict[str, float]] = {}
    for src, ids in sorted(by_source.items()):
        table[src] = {"pages": float(len(ids))}
        for s in systems:
            vals = [s.char3[i].f1 for i in ids if i in s.char3]
            if vals:
                table[src][s.name] = float(np.mean(vals))
    return table


def worst_blocks(
    gold: list[LabelledPage],
    prepared: list[PreparedPage],
    proba: list[np.ndarray],
    feature_names: list[str],
    n: int = WORST_BLOCKS,
) -> list[dict[str, Any]]:
    """The blocks the model got most wrong, with their features, for error analysis."""
    rows = []
    for g, pp, p in zip(gold, prepared, proba, strict=True):
        err = np.abs(p - g.y)
        for i in np.argsort(-err)[:20]:
            if err[i] < 0.5:
                break
            feats = {
                k: round(float(v), 3) for k, v in zip(feature_names, pp.dense[i], strict=False)
            }
            rows.append(
                {
                    "doc_id": g.page.doc_id,
                    "site": g.site,
                    "index": int(i),
                    "gold": "body" if g.y[i] else "boilerplate",
                    "role": g.roles[i],
                    "p_body": round(float(p[i]), 4),
                    "text": g.page.blocks[i].text[:160],
                    "features": feats,
                }
            )
    rows.sort(key=lambda r: -abs(r["p_body"] - (r["gold"] == "body")))
    return rows[:n]
