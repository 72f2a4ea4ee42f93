"""The topic part of the training job: grouped cross-validation against the lexicon, the
learning curve, then the final tagger on every selected gold sentence."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from honbun.evaluation.topics import evaluate_topics
from honbun.experiment.config import Experiment
from honbun.experiment.report import RunOutput
from honbun.features.lexicon import Lexicon
from honbun.gold.dataset import load_topic_gold
from honbun.labels import LabelConfig
from honbun.topics.config import TopicConfig
from honbun.topics.model import TopicTagger


# ---------------------------------------------------------------- topics
def train_topics(
    exp: Experiment, labels: LabelConfig, out: RunOutput, run_dir: Path
) -> dict[str, Any]:
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
