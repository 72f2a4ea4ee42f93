"""Clean article text in the text-only model's training: its effect on the two seed dumps and on
NHK clean text, both held out (trained on everything else; only the first fold is read).
Prints one line per variant (docs/history.md, "Clean article text").

    .venv/bin/python benchmarks/exp_clean_text.py none quarter all
"""

import sys

import numpy as np

from honbun.cache import Cache
from honbun.evaluation.blocks import cross_validate, score_model
from honbun.experiment.boilerplate import BlockJob, gold_pages, prepare_all
from honbun.experiment.config import load_experiment
from honbun.experiment.report import RunOutput
from honbun.gold.dataset import load_clean_text
from honbun.labels import load_labels

exp = load_experiment("training/configs/default.toml")
labels = load_labels()
html, text, clean = gold_pages(exp, labels, RunOutput())
nhk = load_clean_text(labels, "data/annotations", ("security-news",))[:120]
job = BlockJob.from_experiment(exp)
cache = Cache.from_env()
everything = load_clean_text(labels, "data/annotations", ("security-web",))
variants = {
    "none": [],
    "all": everything,
    "quarter": everything[::4],
    "half": everything[::2],
    "eighth": everything[::8],
    "sixteenth": everything[::16],
}
for name in sys.argv[1:]:
    cl = variants[name]
    gold = text + nhk + html + cl
    pages = prepare_all(gold, job.text_cv_cfg, cache, as_text=True)
    k = len(text) + len(nhk)
    rest = np.arange(k, len(gold))
    folds = [np.arange(k), rest[::2], rest[1::2]]  # only the first fold is read
    oof = cross_validate(job.text_cv_cfg, gold, pages, folds, jobs=2, name=name)
    s = score_model("t", gold, oof, job.text_cfg.threshold)
    seeds = s.summary(text, [[g.page.doc_id for g in text]])
    n = s.summary(nhk, [[g.page.doc_id for g in nhk]])
    print(
        f"{name:8s} clean pages {len(cl):3d} | seeds char3 {seeds['char3_f1_macro']:.4f} block F1 {seeds['block_f1']:.4f} "
        f"| NHK clean text: lines kept {n['block_recall']:.3f}, char3 {n['char3_f1_macro']:.4f}",
        flush=True,
    )
