"""Evaluation of the topic tagger against the lexicon baseline, on the same folds.

Folds are grouped by document (no sentence of a document is in both train and test) and
repeated with several seeds. Per label: precision, recall, F1 (model and lexicon) and
average precision (model); micro and macro F1 with their spread over folds; hard
negatives (gold-negative sentences that contain one of the label's lexicon words, e.g.
派遣社員 for deployment), where the model should stay silent and the lexicon cannot;
a learning curve (macro F1 against the number of training documents) as a PNG.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from pathlib import Path

import numpy as np

from honbun.features.lexicon import Lexicon
from honbun.features.text import TextItem, prepare_items
from honbun.gold.dataset import LabelledSentence
from honbun.labels import LabelConfig
from honbun.metrics import binary_prf
from honbun.progress import each
from honbun.topics.config import TopicConfig
from honbun.topics.model import TopicTagger


@dataclass
class TopicReport:
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    plots: list[Path] = field(default_factory=list)


def _folds(groups: np.ndarray, n: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    k = min(n, len(set(groups.tolist())))
    return list(
        GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(groups, groups=groups)
    )


def evaluate_topics(
    gold: list[LabelledSentence],
    labels: LabelConfig,
    cfg: TopicConfig,
    folds: int,
    repeats: int,
    curve: list[float],
    seed: int,
    run_dir: Path,
) -> TopicReport:
    names = labels.topic_names
    items = prepare_items([s.item() for s in gold], cfg.stop_pos, cfg.context)
    Y = np.array([[int(n in s.topics) for n in names] for s in gold], dtype=int)
    groups = np.array([s.doc_id for s in gold])
    lex = Lexicon.from_config(labels)
    L = np.array([[int(n in lex.labels(s.text)) for n in names] for s in gold], dtype=int)
    rep = TopicReport()

    oof_runs = []
    fold_rows: list[dict[str, float]] = []
    for r in range(repeats):
        oof = np.zeros(Y.shape, dtype=float)
        pred = np.zeros(Y.shape, dtype=int)
        name = f"topics: {folds}-fold CV, seed {r + 1} of {repeats}"
        for tr, te in each(_folds(groups, folds, seed + r), name, unit="fold"):
            tagger = TopicTagger(cfg, names, lex.words).fit(
                [items[i] for i in tr], Y[tr], groups[tr]
            )
            proba = tagger.predict_proba([items[i] for i in te])
            oof[te] = proba
            pred[te] = (proba >= tagger.thresholds_).astype(int)
            fold_rows.append(_fold_scores(Y[te], pred[te], L[te]))
        oof_runs.append((oof, pred))

    from sklearn.metrics import average_precision_score

    lines = [
        f"Topics: {len(gold)} sentences from {len(set(groups.tolist()))} documents; "
        f"{folds}-fold CV grouped by document × {repeats} seeds; thresholds tuned per label "
        "inside each training fold.",
        "",
        "| label | gold + | model P | model R | model F1 | model AP | lexicon P | lexicon R "
        "| lexicon F1 | hard negatives | model FP on them | lexicon FP on them |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    per_label_f1, lex_f1 = [], []
    for k, name in enumerate(names):
        mp = [astuple(binary_prf(Y[:, k], pred[:, k])) for _, pred in oof_runs]
        ap = [
            average_precision_score(Y[:, k], oof[:, k]) if Y[:, k].sum() else float("nan")
            for oof, _ in oof_runs
        ]
        lp = astuple(binary_prf(Y[:, k], L[:, k]))
        hard = (Y[:, k] == 0) & (L[:, k] == 1)
        model_fp = np.mean([float(np.sum(pred[hard, k])) for _, pred in oof_runs])
        m = np.mean(mp, axis=0)
        per_label_f1.append(m[2])
        lex_f1.append(lp[2])
        rep.metrics.update(
            {
                f"{name}.f1": float(m[2]), f"{name}.precision": float(m[0]), f"{name}.recall": float(m[1]),
                f"{name}.ap": float(np.nanmean(ap)) if not np.all(np.isnan(ap)) else float("nan"),
                f"{name}.lexicon_f1": lp[2], f"{name}.hard_negatives": float(hard.sum()),
                f"{name}.model_fp_hard": float(model_fp), f"{name}.lexicon_fp_hard": float(hard.sum()),
            }
        )  # fmt: skip
        lines.append(
            f"| {name} | {int(Y[:, k].sum())} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} | {np.nanmean(ap):.3f} "
            f"| {lp[0]:.3f} | {lp[1]:.3f} | {lp[2]:.3f} | {int(hard.sum())} | {model_fp:.1f} | {int(hard.sum())} |"
        )
    micro = [binary_prf(Y.ravel(), pred.ravel()).f1 for _, pred in oof_runs]
    fold_macro = [r["macro_f1"] for r in fold_rows]
    fold_micro = [r["micro_f1"] for r in fold_rows]
    rep.metrics.update(
        {
            "macro_f1": float(np.mean(per_label_f1)),
            "micro_f1": float(np.mean(micro)),
            # A fold can hold no positive of any label (nan); it has no macro F1 to average.
            "macro_f1_fold_mean": float(np.nanmean(fold_macro)),
            "macro_f1_fold_std": float(np.nanstd(fold_macro)),
            "micro_f1_fold_std": float(np.std(fold_micro)),
            "lexicon_macro_f1": float(np.mean(lex_f1)),
            "lexicon_micro_f1": binary_prf(Y.ravel(), L.ravel()).f1,
        }
    )
    lines += [
        "",
        f"Macro F1: model {rep.metrics['macro_f1']:.3f} (fold mean {rep.metrics['macro_f1_fold_mean']:.3f} "
        f"± {rep.metrics['macro_f1_fold_std']:.3f}), "
        f"lexicon {rep.metrics['lexicon_macro_f1']:.3f}. Micro F1: model {rep.metrics['micro_f1']:.3f} "
        f"(± {np.std(fold_micro):.3f} over folds), lexicon {rep.metrics['lexicon_micro_f1']:.3f}.",
        "",
        "Hard negatives: gold-negative sentences containing one of the label's lexicon words "
        "(派遣社員, sports 訓練, corporate 提携, …). The lexicon tags every one of them; the "
        "column gives how many the model tagged (mean over seeds).",
    ]
    rep.tables["topics_report.md"] = "\n".join(lines) + "\n"
    rep.tables["topics_examples.md"] = _hard_examples(gold, names, Y, L, oof_runs[0][1])
    rep.plots.append(_pr_plot(names, Y, oof_runs[0][0], run_dir / "topics_pr.png"))
    if curve:
        rep.plots.append(
            _learning_curve(
                items, Y, groups, names, lex.words, cfg, curve, folds, seed, run_dir, rep
            )
        )
    return rep


def _fold_scores(y: np.ndarray, p: np.ndarray, lex: np.ndarray) -> dict[str, float]:
    f1s = [binary_prf(y[:, k], p[:, k]).f1 for k in range(y.shape[1]) if y[:, k].sum()]
    return {
        "macro_f1": float(np.mean(f1s)) if f1s else float("nan"),
        "micro_f1": binary_prf(y.ravel(), p.ravel()).f1,
    }


def _hard_examples(
    gold: list[LabelledSentence],
    names: tuple[str, ...],
    Y: np.ndarray,
    L: np.ndarray,
    P: np.ndarray,
) -> str:
    """Hard negatives from documents we may show (not livedoor, which is CC BY-ND)."""
    lines = [
        "# Hard negatives: lexicon fires, gold says no (first seed's out-of-fold predictions)",
        "",
    ]
    lines += ["| label | doc | model | text |", "|---|---|---|---|"]
    shown = 0
    for i, s in enumerate(gold):
        for k, n in enumerate(names):
            if Y[i, k] == 0 and L[i, k] == 1:
                text = (
                    s.text
                    if not s.doc_id.startswith("livedoor-")
                    else "(livedoor: not reproduced, CC BY-ND)"
                )
                lines.append(
                    f"| {n} | {s.doc_id}:{s.start}-{s.end} | {'TAGGED' if P[i, k] else 'silent'} | {text[:80]} |"
                )
                shown += 1
    return "\n".join(lines) + f"\n\n{shown} rows.\n"


def _pr_plot(names: tuple[str, ...], Y: np.ndarray, P: np.ndarray, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    fig, ax = plt.subplots(figsize=(5, 4))
    for k, n in enumerate(names):
        if Y[:, k].sum():
            prec, rec, _ = precision_recall_curve(Y[:, k], P[:, k])
            ax.plot(rec, prec, label=f"{n} ({int(Y[:, k].sum())})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Topic precision–recall (out-of-fold)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _learning_curve(
    items: list[TextItem],
    Y: np.ndarray,
    groups: np.ndarray,
    names: tuple[str, ...],
    lexicon: dict[str, list[str]],
    cfg: TopicConfig,
    fractions: list[float],
    folds: int,
    seed: int,
    run_dir: Path,
    rep: TopicReport,
) -> Path:
    """Macro F1 (labels with positives in the test fold) against training documents used."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    xs, ys, es = [], [], []
    for frac in each(fractions, "topics: learning curve", unit="training share"):
        scores, n_docs = [], []
        for tr, te in _folds(groups, folds, seed):
            docs = sorted(set(groups[tr].tolist()))
            keep = set(rng.permutation(docs)[: max(2, round(frac * len(docs)))].tolist())
            sub = np.array([i for i in tr if groups[i] in keep])
            if Y[sub].sum() == 0:
                continue
            tagger = TopicTagger(cfg, names, lexicon).fit(
                [items[i] for i in sub], Y[sub], groups[sub]
            )
            scores.append(
                _fold_scores(Y[te], tagger.predict([items[i] for i in te]), Y[te])["macro_f1"]
            )
            n_docs.append(len(keep))
        xs.append(float(np.mean(n_docs)))
        ys.append(float(np.nanmean(scores)))
        es.append(float(np.nanstd(scores)))
        rep.metrics[f"learning_curve.f1_at_{frac:g}"] = ys[-1]
    table = ["| fraction of training documents | documents | macro F1 | std |", "|---|---|---|---|"]
    table += [
        f"| {f:g} | {x:.0f} | {y:.3f} | {e:.3f} |"
        for f, x, y, e in zip(fractions, xs, ys, es, strict=True)
    ]
    rep.tables["topics_learning_curve.md"] = "\n".join(table) + "\n"
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3)
    ax.set_xlabel("training documents")
    ax.set_ylabel("macro F1 (topics)")
    ax.set_title("Topic tagger learning curve")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = run_dir / "topics_learning_curve.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
