"""Self-training on unlabelled NHK articles: per document fold, fit on the training gold,
tag the unannotated NHK articles, add the sentences tagged confidently (every label's
probability < LO or > HI) as pseudo-labelled training data, fit again, score the test
documents. Prints both taggers' F1 per label on the same folds (docs/topics.md).

    .venv/bin/python benchmarks/exp_self_training.py 0.05 0.95
"""

import json
import sys

import numpy as np

from honbun.evaluation.topics import TopicData, document_splits, label_scores
from honbun.experiment.config import load_experiment
from honbun.features.lexicon import Lexicon
from honbun.features.text import page_items
from honbun.gold.dataset import load_topic_gold
from honbun.labels import load_labels
from honbun.read.articles import parse_record
from honbun.topics.config import TopicConfig
from honbun.topics.model import TopicTagger

LO, HI = float(sys.argv[1]), float(sys.argv[2])
exp = load_experiment("training/configs/default.toml")
sec = {
    k: v
    for k, v in exp.section("topics").items()
    if k not in ("cv_folds", "cv_repeats", "cv_sources", "learning_curve", "enabled")
}
cfg = TopicConfig.from_dict(sec, 13)
labels = load_labels()
gold = load_topic_gold(labels, context=True)
data = TopicData.of(gold, labels, cfg)
lex = Lexicon.from_config(labels).words
gold_docs = set(data.docs.tolist())
items, groups = [], []
with open("data/raw/security-news/articles.jsonl", encoding="utf-8") as fh:
    records = [json.loads(line) for line in fh if line.strip()]
for rec in records:
    if rec["id"] in gold_docs:
        continue
    page = parse_record(rec, rec["id"])
    its = page_items(page, page.sentences, cfg.stop_pos)
    items += its
    groups += [rec["id"]] * len(its)
groups = np.array(groups)
print(f"pool: {len(set(groups.tolist()))} articles, {len(items)} sentences", flush=True)
lab = data.labelled
Y = data.Y[lab]
D0 = np.zeros(data.Y.shape, dtype=int)
D1 = np.zeros(data.Y.shape, dtype=int)
added = []
for tr, te in document_splits(data, 5, 13):
    tr_items = [data.items[i] for i in tr]
    t0 = TopicTagger(cfg, data.names, lex).fit(tr_items, data.Y[tr], data.docs[tr])
    te_items = [data.items[i] for i in te]
    D0[te] = t0.predict_proba(te_items, data.docs[te]) >= t0.thresholds_
    P = t0.predict_proba(items, groups)
    sure = ((P < LO) | (P > HI)).all(axis=1)
    Yp = (P > HI).astype(int)
    Yp[~sure] = -1  # unsure sentences stay as unlabelled context
    added.append((int(sure.sum()), Yp[sure].sum(axis=0).tolist()))
    t1 = TopicTagger(cfg, data.names, lex).fit(
        tr_items + items, np.vstack([data.Y[tr], Yp]), np.concatenate([data.docs[tr], groups])
    )
    D1[te] = t1.predict_proba(te_items, data.docs[te]) >= t1.thresholds_
    print("fold done", added[-1], flush=True)
for name, D in (("gold only", D0), ("self-trained", D1)):
    s = label_scores(Y, D[lab])
    print(name, np.round(s[:, 2], 3), round(float(s[:, 2].mean()), 3))
