"""Evaluation of the single-label document classifier (the livedoor benchmark).

Duplicate articles (same body under different ids; 8 extra files in livedoor) are removed
before splitting, keeping the first in sorted order, so no text is in train and test.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from honbun.documents.model import DocConfig, DocumentClassifier, vectorise


@dataclass
class DocReport:
    cfg: DocConfig
    model: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def load_livedoor_documents(path: str) -> tuple[list[str], np.ndarray, int]:
    """Texts (title + body), categories, and how many duplicates were dropped."""
    from honbun.read.livedoor import iter_livedoor

    texts, cats, seen, dropped = [], [], set(), 0
    for page in iter_livedoor(path):
        body = "\n".join(b.text for b in page.blocks[1:])
        key = hashlib.sha1(body.encode("utf-8")).hexdigest()
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        texts.append(page.text)
        cats.append(page.meta["category"])
    return texts, np.array(cats), dropped


def evaluate_documents(sec: dict[str, Any], seed: int) -> DocReport:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.model_selection import StratifiedKFold

    sec = dict(sec)
    source = sec.pop("source", "livedoor")
    path = sec.pop("path", "data/raw/livedoor/ldcc-20140209.tar.gz")
    n_folds = int(sec.pop("cv_folds", 5))
    sec.pop("enabled", None)
    if source != "livedoor":
        raise ValueError(f"[documents] source {source!r} not supported (livedoor)")
    cfg = DocConfig.from_dict(sec, seed)
    rep = DocReport(cfg)
    t0 = time.perf_counter()
    texts, y, dropped = load_livedoor_documents(path)
    X = vectorise(texts, cfg)
    rep.timings["documents_vectorise_s"] = time.perf_counter() - t0
    accs, f1s = [], []
    pred = np.empty_like(y)
    t0 = time.perf_counter()
    for tr, te in StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, y):
        model = DocumentClassifier(cfg).fit(X[tr], y[tr])
        pred[te] = model.predict(X[te])
        accs.append(accuracy_score(y[te], pred[te]))
        f1s.append(f1_score(y[te], pred[te], average="macro"))
    rep.timings["documents_cv_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep.model = DocumentClassifier(cfg).fit(X, y)
    rep.timings["documents_fit_s"] = time.perf_counter() - t0
    rep.metrics.update(
        accuracy=float(np.mean(accs)), accuracy_std=float(np.std(accs)),
        macro_f1=float(np.mean(f1s)), macro_f1_std=float(np.std(f1s)),
        documents=float(len(texts)), duplicates_dropped=float(dropped),
    )  # fmt: skip
    classes = sorted(set(y.tolist()))
    cm = confusion_matrix(y, pred, labels=classes)
    lines = [
        f"livedoor: {len(texts)} articles ({dropped} duplicates dropped), {n_folds}-fold "
        f"stratified CV: accuracy {np.mean(accs):.4f} ± {np.std(accs):.4f}, macro-F1 "
        f"{np.mean(f1s):.4f} ± {np.std(f1s):.4f}.",
        "",
        "| gold \\ predicted | " + " | ".join(classes) + " |",
        "|---" * (len(classes) + 1) + "|",
    ]
    lines += [
        f"| {c} | " + " | ".join(str(v) for v in row) + " |"
        for c, row in zip(classes, cm, strict=True)
    ]
    rep.tables["documents_report.md"] = "\n".join(lines) + "\n"
    return rep
