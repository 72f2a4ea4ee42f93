"""Evaluation of the topic tagger against the keyword lexicon, on the same folds.

Two schemes, out-of-fold predictions pooled over all gold sentences:

- grouped by document (``cv_folds`` folds × ``cv_repeats`` seeds): no sentence of a
  document is both trained and tested on;
- leave one source out: every source in turn is held out whole, so the tagger is measured
  on writing it never saw. ``sources = "collection"`` holds out each annotation folder (NHK,
  the web articles, livedoor, the seeds, the pages); ``"site"`` holds out publishers (the
  documents' sites, ``cv_folds`` folds of whole sites).

Per label: precision, recall, F1 (model and lexicon) and average precision; hard negatives
(gold sentences without any topic that a label's lexicon fires on: 派遣社員, 防災訓練,
制裁金 …), and how many of them the model tags; a reliability plot of the calibrated
probabilities; a learning curve when asked. Unannotated sentences of a gold document
(``topics`` None) are predicted with their document, for context, and never scored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import astuple, dataclass, field
from pathlib import Path

import numpy as np

from honbun.cache import Cache, code_version, fingerprint
from honbun.evaluation.figures import axes, save
from honbun.features.lexicon import Lexicon
from honbun.features.text import TextItem, prepare_items
from honbun.gold.dataset import LabelledSentence
from honbun.labels import LabelConfig
from honbun.metrics import binary_prf
from honbun.progress import Stage, each
from honbun.topics.config import TopicConfig
from honbun.topics.model import TopicTagger

SHOWN_COLLECTIONS = ("pages", "seeds")  # whose text a report may quote (others: licence)
Split = tuple[np.ndarray, np.ndarray]


@dataclass
class TopicReport:
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    plots: list[Path] = field(default_factory=list)


@dataclass
class TopicData:
    """The gold as the evaluation reads it: every sentence of every gold document."""

    sentences: list[LabelledSentence]
    items: list[TextItem]
    Y: np.ndarray  # (n, K) 0/1, -1 on unannotated context sentences
    L: np.ndarray  # (n, K) 0/1: the label's lexicon fires
    docs: np.ndarray  # (n,) document of each sentence (contiguous, in reading order)
    names: tuple[str, ...]

    @classmethod
    def of(cls, gold: list[LabelledSentence], labels: LabelConfig, cfg: TopicConfig) -> TopicData:
        names = labels.topic_names
        items = prepare_items([s.item() for s in gold], cfg.stop_pos, cfg.context)
        Y = np.array(
            [[-1] * len(names) if s.topics is None else [int(n in s.topics) for n in names]
             for s in gold], dtype=int,
        ).reshape(len(gold), len(names))  # fmt: skip
        lex = Lexicon.from_config(labels)
        fired = lex.fired([s.text for s in gold])
        L = np.array([[int(n in f) for n in names] for f in fired], dtype=int).reshape(Y.shape)
        return cls(gold, items, Y, L, np.array([s.doc_id for s in gold]), names)

    def fingerprint(self, cfg: TopicConfig, lexicon: dict[str, list[str]]) -> str:
        """What a model fitted on this data depends on: every sentence (document, text,
        context, labels, collection, site), the settings, the lexicon, the bytes of the
        word-vector and cue files and all of honbun's code (the key of its cached CV results
        and models)."""
        rows = [(s.doc_id, s.text, s.context, s.collection, s.site) for s in self.sentences]
        vectors = Path(cfg.vectors).read_bytes() if cfg.vectors else b""
        cues = Path(cfg.cues).read_bytes() if cfg.cues else b""
        return fingerprint(rows, self.Y, cfg, lexicon, vectors, cues, code_version("."))

    @property
    def labelled(self) -> np.ndarray:
        return (self.Y >= 0).all(axis=1)

    def groups(self, by: str) -> np.ndarray:
        """Each sentence's document, collection (annotation folder) or site."""
        if by == "document":
            return self.docs
        return np.array([getattr(s, by) for s in self.sentences])


def document_splits(data: TopicData, folds: int, seed: int) -> list[Split]:
    from sklearn.model_selection import GroupKFold

    g = data.groups("document")
    k = min(folds, len(set(g.tolist())))
    return list(GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(g, groups=g))


def source_splits(data: TopicData, by: str, folds: int, seed: int) -> list[Split]:
    """Whole sources held out: one fold per collection, or ``folds`` folds of sites."""
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

    if by == "collection":
        g = data.groups("collection")
        return list(LeaveOneGroupOut().split(g, groups=g))
    g = data.groups("site")
    k = min(folds, len(set(g.tolist())))
    return list(GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(g, groups=g))


def cross_validate(
    data: TopicData,
    cfg: TopicConfig,
    lexicon: dict[str, list[str]],
    splits: list[Split],
    name: str,
    jobs: int = 2,
    cache: Cache | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities and decisions ``(n, K)`` of every sentence (each fold's
    model tags its test documents whole, with their context sentences); folds run in
    ``jobs`` processes; with a ``cache``, the result of the same data, settings, folds and
    code is read back instead."""
    from joblib import Parallel, delayed

    if cache is not None:
        key = fingerprint("topics-cv", data.fingerprint(cfg, lexicon), splits)
        return cache.fetch(
            "cv", key, lambda: cross_validate(data, cfg, lexicon, splits, name, jobs)
        )

    P = np.zeros(data.Y.shape)
    D = np.zeros(data.Y.shape, dtype=int)
    runs = Parallel(n_jobs=jobs, return_as="generator")(
        delayed(_run_fold)(data, cfg, lexicon, tr, te) for tr, te in splits
    )
    with Stage(name, len(splits), "fold") as stage:
        for (_, te), (p, thresholds) in zip(splits, runs, strict=True):
            P[te] = p
            D[te] = (p >= thresholds).astype(int)
            stage.update()
    return P, D


def _run_fold(
    data: TopicData,
    cfg: TopicConfig,
    lexicon: dict[str, list[str]],
    tr: np.ndarray,
    te: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One fold: the test rows' probabilities and the fold model's thresholds."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # folds run in parallel processes; one thread each
        tagger = TopicTagger(cfg, data.names, lexicon).fit(
            [data.items[i] for i in tr], data.Y[tr], data.docs[tr]
        )
        p = tagger.predict_proba([data.items[i] for i in te], data.docs[te])
    return p, tagger.thresholds_


def label_scores(Y: np.ndarray, D: np.ndarray) -> np.ndarray:
    """``(K, 3)`` precision, recall, F1 per label."""
    return np.array([astuple(binary_prf(Y[:, k], D[:, k])) for k in range(Y.shape[1])])


def hard_negatives(data: TopicData) -> np.ndarray:
    """Annotated sentences without any topic that at least one lexicon fires on."""
    return data.labelled & (data.Y.sum(axis=1) == 0) & (data.L.sum(axis=1) > 0)


def evaluate_topics(
    data: TopicData,
    labels: LabelConfig,
    cfg: TopicConfig,
    folds: int,
    repeats: int,
    curve: list[float],
    seed: int,
    run_dir: Path,
    sources: tuple[str, ...] = ("collection",),
    cache: Cache | None = None,
) -> TopicReport:
    lexicon = Lexicon.from_config(labels).words
    lab = data.labelled
    Y, L = data.Y[lab], data.L[lab]
    names = data.names
    rep = TopicReport()

    runs = []  # (probabilities, decisions) of each seed of the document-grouped CV
    for r in range(repeats):
        splits = document_splits(data, folds, seed + r)
        runs.append(
            cross_validate(
                data,
                cfg,
                lexicon,
                splits,
                f"topics: {folds}-fold CV by document, seed {r + 1} of {repeats}",
                cache=cache,
            )
        )
    doc_scores = np.mean([label_scores(Y, D[lab]) for _, D in runs], axis=0)
    lex_scores = label_scores(Y, L)
    loso = {}
    for by in sources:
        splits = source_splits(data, by, folds, seed)
        loso[by] = label_scores(
            Y,
            cross_validate(data, cfg, lexicon, splits, f"topics: leave-one-{by}-out", cache=cache)[
                1
            ][lab],
        )

    hard = hard_negatives(data)[lab]
    hard_rate = (
        float(np.mean([D[lab][hard].any(axis=1).mean() for _, D in runs])) if hard.any() else 0.0
    )
    fold_macro = [
        float(np.mean(label_scores(Y[te_lab], D[lab][te_lab])[:, 2]))
        for (_, D), r in zip(runs, range(repeats), strict=True)
        for te_lab in _test_masks(data, document_splits(data, folds, seed + r))
    ]
    m = rep.metrics
    for k, n in enumerate(names):
        ap = _average_precision(Y[:, k], runs[0][0][lab][:, k])
        m.update({
            f"{n}.precision": doc_scores[k, 0], f"{n}.recall": doc_scores[k, 1], f"{n}.f1": doc_scores[k, 2],
            f"{n}.ap": ap, f"{n}.lexicon_f1": lex_scores[k, 2],
            f"{n}.hard_negatives": float((hard & (L[:, k] == 1)).sum()),
            f"{n}.model_fp_hard": float(np.mean([D[lab][hard & (L[:, k] == 1), k].sum() for _, D in runs])),
            **{f"{n}.loso_{by}_f1": s[k, 2] for by, s in loso.items()},
        })  # fmt: skip
    m.update({
        "macro_f1": float(doc_scores[:, 2].mean()),
        "micro_f1": float(np.mean([binary_prf(Y.ravel(), D[lab].ravel()).f1 for _, D in runs])),
        "macro_f1_fold_mean": float(np.mean(fold_macro)), "macro_f1_fold_std": float(np.std(fold_macro)),
        "lexicon_macro_f1": float(lex_scores[:, 2].mean()),
        "lexicon_micro_f1": binary_prf(Y.ravel(), L.ravel()).f1,
        "hard_negatives": float(hard.sum()), "hard_negative_rate": hard_rate,
        **{f"loso_{by}_macro_f1": float(s[:, 2].mean()) for by, s in loso.items()},
    })  # fmt: skip
    rep.tables["topics_report.md"] = _table(
        data, cfg, folds, repeats, doc_scores, lex_scores, loso, rep.metrics
    )
    rep.tables["topics_examples.md"] = _hard_examples(data, runs[0][1])
    rep.plots.append(_pr_plot(names, Y, runs[0][0][lab], run_dir / "topics_pr.png"))
    rep.plots.append(
        _reliability_plot(names, Y, runs[0][0][lab], run_dir / "topics_reliability.png")
    )
    if curve:
        rep.plots.append(_learning_curve(data, cfg, lexicon, curve, folds, seed, run_dir, rep))
    return rep


def _test_masks(data: TopicData, splits: list[Split]) -> Iterator[np.ndarray]:
    """Per split, a mask over the annotated sentences: those in its test documents."""
    lab = np.flatnonzero(data.labelled)
    for _, te in splits:
        yield np.isin(lab, te)


def _average_precision(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, p)) if y.sum() else float("nan")


def _table(
    data: TopicData,
    cfg: TopicConfig,
    folds: int,
    repeats: int,
    doc: np.ndarray,
    lex: np.ndarray,
    loso: dict[str, np.ndarray],
    m: dict[str, float],
) -> str:
    lab = data.labelled
    n_docs = len(set(data.docs[lab].tolist()))
    heads = " | ".join(f"leave-one-{by}-out F1" for by in loso)
    lines = [
        f"Topics: {int(lab.sum())} gold sentences from {n_docs} documents (and "
        f"{int((~lab).sum())} unannotated sentences of those documents, read for context); "
        f"{folds}-fold CV grouped by document × {repeats} seeds; thresholds tuned per label "
        f"inside each training fold; second stage: {'on' if cfg.stack else 'off'}.",
        "",
        "| label | gold + | model P | model R | model F1 | model AP | lexicon P | lexicon R "
        f"| lexicon F1 | {heads} | hard negatives | tagged by model | tagged by lexicon |",
        "|---" * (12 + len(loso)) + "|",
    ]
    for k, n in enumerate(data.names):
        lo = " | ".join(f"{s[k, 2]:.3f}" for s in loso.values())
        lines.append(
            f"| {n} | {int(data.Y[lab, k].sum())} | {doc[k, 0]:.3f} | {doc[k, 1]:.3f} | **{doc[k, 2]:.3f}** "
            f"| {m[f'{n}.ap']:.3f} | {lex[k, 0]:.3f} | {lex[k, 1]:.3f} | {lex[k, 2]:.3f} | {lo} "
            f"| {int(m[f'{n}.hard_negatives'])} | {m[f'{n}.model_fp_hard']:.1f} | {int(m[f'{n}.hard_negatives'])} |"
        )  # fmt: skip
    lo = ", ".join(f"leave-one-{by}-out {m[f'loso_{by}_macro_f1']:.3f}" for by in loso)
    lines += [
        "",
        f"Macro F1: model {m['macro_f1']:.3f} (fold mean {m['macro_f1_fold_mean']:.3f} ± "
        f"{m['macro_f1_fold_std']:.3f}), lexicon {m['lexicon_macro_f1']:.3f}; {lo}. Micro F1: "
        f"model {m['micro_f1']:.3f}, lexicon {m['lexicon_micro_f1']:.3f}.",
        "",
        f"Hard negatives: {int(m['hard_negatives'])} gold sentences without any topic that a "
        "lexicon fires on (派遣社員, 防災訓練, 制裁金, corporate 提携 …); the lexicon tags every "
        f"one; the model tags {100 * m['hard_negative_rate']:.1f} % of them with some label "
        "(the per-label columns: of those where that label's lexicon fires, mean over seeds).",
    ]
    return "\n".join(lines) + "\n"


def _hard_examples(data: TopicData, D: np.ndarray) -> str:
    """The hard negatives and whether the model (first seed, out of fold) tagged them;
    text only from collections whose licence allows quoting it."""
    lines = [
        "# Hard negatives: a lexicon fires, the gold has no topic (first seed, out of fold)",
        "",
        "| lexicon | doc | model | text |",
        "|---|---|---|---|",
    ]
    idx = np.flatnonzero(hard_negatives(data))
    for i in idx:
        s = data.sentences[i]
        fired = ", ".join(n for k, n in enumerate(data.names) if data.L[i, k])
        tagged = ", ".join(n for k, n in enumerate(data.names) if D[i, k]) or "silent"
        text = s.text[:80] if s.collection in SHOWN_COLLECTIONS else "(not quoted: licence)"
        lines.append(f"| {fired} | {s.doc_id}:{s.start}-{s.end} | {tagged} | {text} |")
    return "\n".join(lines) + f"\n\n{len(idx)} rows.\n"


def _pr_plot(names: tuple[str, ...], Y: np.ndarray, P: np.ndarray, path: Path) -> Path:
    from sklearn.metrics import precision_recall_curve

    fig, ax = axes("Topic precision–recall (out-of-fold)", "recall", "precision")
    for k, n in enumerate(names):
        if Y[:, k].sum():
            prec, rec, _ = precision_recall_curve(Y[:, k], P[:, k])
            ax.plot(rec, prec, label=f"{n} ({int(Y[:, k].sum())})")
    return save(fig, ax, path, legend=True)


def _reliability_plot(names: tuple[str, ...], Y: np.ndarray, P: np.ndarray, path: Path) -> Path:
    """Observed share of positives against the predicted probability, per label (10 bins of
    equal width; a calibrated label lies on the diagonal)."""
    fig, ax = axes(
        "Topic reliability (out-of-fold)", "predicted probability", "observed share of positives"
    )
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    edges = np.linspace(0, 1, 11)
    for k, n in enumerate(names):
        b = np.clip(np.digitize(P[:, k], edges) - 1, 0, 9)
        xs = [P[b == i, k].mean() for i in range(10) if (b == i).sum() >= 5]
        ys = [Y[b == i, k].mean() for i in range(10) if (b == i).sum() >= 5]
        ax.plot(xs, ys, marker="o", label=n)
    return save(fig, ax, path, legend=True)


def _learning_curve(
    data: TopicData,
    cfg: TopicConfig,
    lexicon: dict[str, list[str]],
    fractions: list[float],
    folds: int,
    seed: int,
    run_dir: Path,
    rep: TopicReport,
) -> Path:
    """Macro F1 against the training documents used (each fold's training documents
    subsampled, seeded)."""
    rng = np.random.default_rng(seed)
    xs, ys, es = [], [], []
    lab = data.labelled
    for frac in each(fractions, "topics: learning curve", unit="training share"):
        scores, n_docs = [], []
        for tr, te in document_splits(data, folds, seed):
            docs = sorted(set(data.docs[tr].tolist()))
            keep = set(rng.permutation(docs)[: max(2, round(frac * len(docs)))].tolist())
            sub = np.array([i for i in tr if data.docs[i] in keep])
            if (data.Y[sub][lab[sub]] > 0).sum() == 0:
                continue
            tagger = TopicTagger(cfg, data.names, lexicon).fit(
                [data.items[i] for i in sub], data.Y[sub], data.docs[sub]
            )
            D = tagger.predict([data.items[i] for i in te], data.docs[te])
            t_lab = lab[te]
            f1s = [binary_prf(data.Y[te][t_lab, k], D[t_lab, k]).f1
                   for k in range(len(data.names)) if data.Y[te][t_lab, k].sum()]  # fmt: skip
            scores.append(float(np.mean(f1s)))
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
    fig, ax = axes("Topic tagger learning curve", "training documents", "macro F1 (topics)")
    ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3)
    return save(fig, ax, run_dir / "topics_learning_curve.png")
