"""``honbun evaluate``: score a saved model on annotated data, without retraining.

Use it on annotations the model was not trained on (a new site, a fresh batch of
reviewed pages); on its own training data the figures are in-sample and optimistic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from honbun.evaluation.blocks import score_text_baselines
from honbun.gold.dataset import load_block_gold, load_topic_gold
from honbun.labels import load_labels
from honbun.metrics import binary_prf, char3
from honbun.scoring.bundle import load_scoring_bundle
from honbun.scoring.model import score_page


def evaluate_saved(
    model_dir: Path, annotations: Path, labels_path: str, baselines: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The model's figures on ``annotations`` (and the text ``baselines``' on the same
    HTML pages, e.g. trafilatura-precision): blocks macro char3 and block F1, topics F1."""
    labels = load_labels(labels_path)
    bundle = load_scoring_bundle(model_dir, labels)  # what `honbun score` runs
    report: dict[str, Any] = {"model": str(model_dir), "annotations": str(annotations)}
    if bundle.html_model is not None:
        gold = load_block_gold(labels, annotations)
        f1s, yt, yp = [], [], []
        for g in gold:
            res = score_page(bundle, g.page)
            pred = np.array([b["label"] == labels.positive for b in res["blocks"]], dtype=int)
            f1s.append(char3(res["body_text"], g.gold_text()).f1)
            yt.append(g.y)
            yp.append(pred)
        b = binary_prf(np.concatenate(yt), np.concatenate(yp)) if gold else None
        report["boilerplate"] = {
            "pages": len(gold),
            "char3_f1_macro": float(np.mean(f1s)) if f1s else None,
            "block_f1": b.f1 if b else None,
        }
        for system in score_text_baselines(gold, list(baselines)):
            scores = list(system.char3.values())
            report["boilerplate"][f"{system.name}_char3_f1_macro"] = (
                float(np.mean([s.f1 for s in scores])) if scores else None
            )
    if bundle.topic_model is not None:
        sents = load_topic_gold(labels, annotations, context=True)  # documents read whole
        done = [s.topics is not None for s in sents]
        if any(done):
            names = labels.topic_names
            docs = np.array([s.doc_id for s in sents])
            P = bundle.topic_model.predict([s.item() for s in sents], docs)[done]
            Y = np.array(
                [[int(n in s.topics) for n in names] for s in sents if s.topics is not None]
            )
            per = {n: binary_prf(Y[:, k], P[:, k]).f1 for k, n in enumerate(names)}
            report["topics"] = {
                "sentences": int(sum(done)),
                "f1": per,
                "macro_f1": float(np.mean(list(per.values()))),
            }
    return report
