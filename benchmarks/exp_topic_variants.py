"""Variants of the topic tagger's settings on the main job's folds: how small its second
stage can be (its forests, 4 labels × 200 trees up to 11 levels deep, were most of the
topic stage's scoring time on article text), the gate before it, the weight of hard
negatives.

For each variant (settings of ``[topics]`` over the main job's): the same 5-fold CV by
document (seed 13) and leave-one-collection-out as the main job, F1 per label, macro F1
and the share of hard negatives given a label under each; then one tagger fitted on all
the gold, and the time its numpy export takes to tag the sentences of the first N
livedoor articles (best of 3). Prints one row per variant (docs/topics.md).

    .venv/bin/python benchmarks/exp_topic_variants.py --livedoor 300 [--only NAME ...]
        [--seed N] [--no-timing] [--publishers]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Callable
from functools import partial
from itertools import islice
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VARIANTS: dict[str, dict[str, float | str]] = {  # name: [topics] settings changed
    # The main job's settings: since 2026-12-07 five bags of 100 trees at lr 0.1. Before,
    # this variant was "200 trees, lr 0.05 (main job)": now "one fit of 200 trees, lr 0.05".
    "main job": {},
    "one fit of 200 trees, lr 0.05": {
        "stack_bags": 1,
        "stack_iterations": 200,
        "stack_learning_rate": 0.05,
    },
    "5 bags of 200 trees, lr 0.05": {
        "stack_bags": 5,
        "stack_iterations": 200,
        "stack_learning_rate": 0.05,
    },
    "3 bags of 200 trees, lr 0.05": {
        "stack_bags": 3,
        "stack_iterations": 200,
        "stack_learning_rate": 0.05,
    },
    # Shapes of one fit (no bags), as measured before bagging.
    "100 trees, lr 0.1": {"stack_bags": 1, "stack_iterations": 100, "stack_learning_rate": 0.1},
    "200 trees, lr 0.05, depth 5": {
        "stack_bags": 1,
        "stack_iterations": 200,
        "stack_learning_rate": 0.05,
        "stack_depth": 5,
    },
    "100 trees, lr 0.1, depth 5": {
        "stack_bags": 1,
        "stack_iterations": 100,
        "stack_learning_rate": 0.1,
        "stack_depth": 5,
    },
    "60 trees, lr 0.15, depth 5": {
        "stack_bags": 1,
        "stack_iterations": 60,
        "stack_learning_rate": 0.15,
        "stack_depth": 5,
    },
    "no gate": {"stack_gate": 0.0},
    "gate 0.05": {"stack_gate": 0.05},
    "gate 0.1": {"stack_gate": 0.1},
    "gate 0.15": {"stack_gate": 0.15},
    "gate 0.2": {"stack_gate": 0.2},
    "hard negatives 12x": {"hard_negative_weight": 12.0},
    "hard negatives 24x": {"hard_negative_weight": 24.0},
    "no document vector": {"document_vector": False},
    "stage 1 C 2": {"C": 2.0},
    "stage 1 C 8": {"C": 8.0},
    "who-is-sent cues": {"cues": "data/lexicons/cues.toml"},
    "thresholds: the lowest best F1": {"threshold_tolerance": 0.0},
    "thresholds within 0.01 of the best F1": {"threshold_tolerance": 0.01},
    "thresholds within 0.02 of the best F1": {"threshold_tolerance": 0.02},
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--livedoor", type=int, default=300, metavar="N")
    ap.add_argument("--only", nargs="*", help="variant names (default: all)")
    ap.add_argument(
        "--publishers",
        action="store_true",
        help="also 5 folds of whole publishers (sites), and F1 per label by collection",
    )
    ap.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the document folds (default: the main job's)",
    )
    ap.add_argument(
        "--no-timing", action="store_true", help="skip fitting on all the gold and timing it"
    )
    args = ap.parse_args()
    os.chdir(REPO)

    from honbun.evaluation.topics import (
        TopicData,
        cross_validate,
        document_splits,
        hard_negatives,
        label_scores,
        source_splits,
    )
    from honbun.experiment.config import load_experiment
    from honbun.features.lexicon import Lexicon
    from honbun.features.text import page_items
    from honbun.gold.dataset import load_topic_gold
    from honbun.labels import load_labels
    from honbun.read.livedoor import iter_livedoor
    from honbun.topics.config import TopicConfig
    from honbun.topics.export import export_topic_tagger
    from honbun.topics.model import TopicTagger

    exp = load_experiment("training/configs/default.toml")
    skip = ("cv_folds", "cv_repeats", "cv_sources", "learning_curve", "enabled")
    base = TopicConfig.from_dict(
        {k: v for k, v in exp.section("topics").items() if k not in skip}, exp.seed
    )
    labels = load_labels()
    lexicon = Lexicon.from_config(labels).words
    data = TopicData.of(load_topic_gold(labels, context=True), labels, base)
    lab = data.labelled
    Y = data.Y[lab]
    hard = hard_negatives(data)[lab]
    doc_splits = document_splits(data, 5, exp.seed if args.seed is None else args.seed)
    col_splits = source_splits(data, "collection", 5, exp.seed)
    site_splits = source_splits(data, "site", 5, exp.seed)

    pages = list(islice(iter_livedoor("data/raw/livedoor/ldcc-20140209.tar.gz"), args.livedoor))
    items, groups = [], []
    for p in pages:
        its = page_items(p, p.sentences, base.stop_pos)
        items += its
        groups += [p.doc_id] * len(its)
    g = np.array(groups)
    print(f"{int(lab.sum())} gold sentences; timing on {len(items):,} sentences of "
          f"{len(pages)} livedoor articles; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print("| variant | " + " | ".join(data.names) + " | macro | collection macro | "
          "hard neg. tagged | by collection | nodes | stage 2 s | topic s |")  # fmt: skip
    for name, changed in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        cfg = dataclasses.replace(base, **changed)
        _, D = cross_validate(data, cfg, lexicon, doc_splits, f"{name}: by document")
        s = label_scores(Y, D[lab])
        _, Dc = cross_validate(data, cfg, lexicon, col_splits, f"{name}: by collection")
        sc = label_scores(Y, Dc[lab])
        if args.publishers:
            _, Dp = cross_validate(data, cfg, lexicon, site_splits, f"{name}: by publisher")
            sp = label_scores(Y, Dp[lab])
            print(f"{name}: by collection " + " / ".join(f"{f:.3f}" for f in sc[:, 2])
                  + "; by publisher " + " / ".join(f"{f:.3f}" for f in sp[:, 2])
                  + f" = {sp[:, 2].mean():.3f}", flush=True)  # fmt: skip
        hard_rate = float(D[lab][hard].any(axis=1).mean())
        hard_col = float(Dc[lab][hard].any(axis=1).mean())
        nodes, best = 0, (float("nan"), float("nan"))
        if not args.no_timing:
            tagger = TopicTagger(cfg, data.names, lexicon).fit(data.items, data.Y, data.docs)
            scorer = export_topic_tagger(tagger)
            nodes = sum(len(f.feature) for f in scorer.stage2.values())
            total = _best_of(3, partial(scorer.predict_proba, items, g))
            stage1 = _best_of(3, partial(scorer.stage1_proba, items))
            best = (total, total - stage1)
        cells = " | ".join(f"{f:.3f}" for f in s[:, 2])
        print(f"| {name} | {cells} | {s[:, 2].mean():.3f} | {sc[:, 2].mean():.3f} | "
              f"{hard_rate:.1%} | {hard_col:.1%} | {nodes:,} | {best[1]:.2f} | {best[0]:.2f} |", flush=True)  # fmt: skip
    return 0


def _best_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


if __name__ == "__main__":
    raise SystemExit(main())
