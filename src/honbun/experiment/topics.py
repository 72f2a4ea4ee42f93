"""The topic part of the training job: grouped cross-validation against the lexicon, the
learning curve, then the final tagger on every selected gold sentence."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from honbun.cache import Cache, fingerprint
from honbun.evaluation.topics import TopicData, evaluate_topics
from honbun.experiment.config import Experiment
from honbun.experiment.report import RunOutput
from honbun.features.lexicon import Lexicon
from honbun.gold.dataset import load_topic_gold
from honbun.labels import LabelConfig
from honbun.progress import Stage
from honbun.topics.config import TopicConfig
from honbun.topics.model import TopicTagger


# ---------------------------------------------------------------- topics
def train_topics(
    exp: Experiment, labels: LabelConfig, out: RunOutput, run_dir: Path
) -> dict[str, Any]:
    """Evaluate the topic tagger of ``exp`` (grouped by document, and leaving whole sources
    out) and fit it on every selected gold sentence, each document read whole."""
    sec = exp.section("topics")
    data = exp.section("data")
    keys = ("cv_folds", "cv_repeats", "cv_sources", "learning_curve", "enabled")
    opts = {k: sec.pop(k) for k in keys if k in sec}
    cfg = TopicConfig.from_dict(sec, exp.seed)
    sets = set(data.get("topic_sets", ()))
    gold = [
        s
        for s in load_topic_gold(labels, data.get("annotations", "data/annotations"), context=True)
        if not sets or s.collection in sets
    ]
    topics = TopicData.of(gold, labels, cfg)  # tokenised once, for the CV and the fit
    cache = Cache.from_env()
    report = evaluate_topics(
        topics, labels, cfg,
        folds=int(opts.get("cv_folds", 5)), repeats=int(opts.get("cv_repeats", 3)),
        curve=list(opts.get("learning_curve", [])), seed=exp.seed, run_dir=run_dir,
        sources=tuple(opts.get("cv_sources", ["collection"])), cache=cache,
    )  # fmt: skip
    out.metrics.update({f"topics.{k}": v for k, v in report.metrics.items()})
    out.tables.update(report.tables)
    out.plots += report.plots
    names = labels.topic_names
    t0 = time.perf_counter()
    lexicon = Lexicon.from_config(labels).words
    with Stage(f"topics: fitting on all {int(topics.labelled.sum())} gold sentences"):
        tagger = cache.fetch(
            "models",
            fingerprint("topics-fit", topics.fingerprint(cfg, lexicon)),
            lambda: TopicTagger(cfg, names, lexicon).fit(topics.items, topics.Y, topics.docs),
        )
    out.timings["topics_fit_s"] = time.perf_counter() - t0
    return {"topic_cfg": cfg, "topic_model": tagger}
