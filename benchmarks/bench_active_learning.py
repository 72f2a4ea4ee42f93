"""The annotation loop (``honbun data suggest``) simulated on the topic gold.

    python benchmarks/bench_active_learning.py [--seeds 0 1 2] [--rounds 15] [--batch 100]
        [--seed-size 100] [--test-size 0.25] [--split-seed 0] [--targets 0.7 0.75 0.78]
        [--cold-labels sanctions deployment] [--cold-rounds 10] [--cold-batch 50]
        [--cold-targets 0.7 0.8] [--plot docs/active_learning.png]

The gold is the oracle: ``load_topic_gold(load_labels(), context=False)``. A test set of
whole documents is held out (``GroupShuffleSplit``, ``--test-size`` of the documents,
``--split-seed``); the rest is the pool. Per seed, a random seed set of ``--seed-size``
pool sentences is "annotated" first; then for ``--rounds`` rounds ``--batch`` sentences
are added, either

* **suggest**: the ranking ``honbun data suggest`` runs with no ``--label``
  (``honbun.gold.suggest``): the stage-1 ``TopicTagger(TopicConfig())`` fitted on the
  labelled sentences scores the rest of the pool; doubt = ``uncertainty`` (the smallest
  ``|p - threshold|`` over the labels with ≥ ``min_positives`` positives), a label with
  fewer put first by its lexicon (``lexicon_first``); ``rank`` with at most ``PER_DOC`` per
  document; or
* **random**: a uniformly random batch of the rest of the pool.

After each round the tagger fitted on the labelled sentences is scored on the held-out
documents: F1 per label (``honbun.metrics.binary_prf`` at the tuned thresholds) and their
mean, macro F1. Both strategies of one seed share the seed set.

Cold start (``--cold-labels``, one at a time): the label L is new. The seed set has no
positive of it (so the tagger answers L by its lexicon, as ``TopicTagger`` does below
``min_positives``); each round adds ``--cold-batch`` sentences ranked as ``data suggest
--label L`` ranks them (its lexicon's hits first while L has fewer than ``min_positives``
positives, then the model's doubt on L alone) or at random; reported: L's positives
labelled and L's F1 on the test documents (every label is annotated, as a sheet's topics
column is).

The tagger is refitted each round (TF-IDF and models; the lemmas are prepared once): that
is what ``data suggest`` does, and a fit takes 1–3 s at these sizes.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

STRATEGIES = ("suggest", "random")


@dataclass
class Gold:
    """The topic gold as arrays: items (lemmas prepared), labels, documents, lexicon hits."""

    names: tuple[str, ...]
    items: list[Any]
    Y: np.ndarray  # (n, K) 0/1
    docs: np.ndarray  # (n,) doc id
    fires: np.ndarray  # (n, K) the label's lexicon fires on the sentence
    lexicon: dict[str, list[str]]
    cfg: Any  # TopicConfig


@dataclass
class Curve:
    """One strategy's run for one seed: per round the labelled count and the test F1s."""

    labelled: list[int] = field(default_factory=list)
    f1: list[np.ndarray] = field(default_factory=list)  # (K,) per round
    positives: list[np.ndarray] = field(default_factory=list)  # (K,) labelled positives


def fit(g: Gold, idx: np.ndarray) -> Any:
    from honbun.topics.model import TopicTagger

    idx = np.sort(idx)  # the gold's order: each document's sentences together
    return TopicTagger(g.cfg, g.names, g.lexicon).fit(
        [g.items[i] for i in idx], g.Y[idx], g.docs[idx]
    )


def score_on_test(g: Gold, tagger: Any, test: np.ndarray) -> np.ndarray:
    """F1 per label on the ``test`` sentences, at the tagger's tuned thresholds."""
    pred = tagger.predict([g.items[i] for i in test], g.docs[test])
    return np.array([binary_f1(g.Y[test, k], pred[:, k]) for k in range(len(g.names))])


def doubt(g: Gold, tagger: Any, labelled: np.ndarray, rest: np.ndarray, ks: list[int]) -> Any:
    """``data suggest``'s doubt of the ``rest`` for the labels ``ks`` (all: no --label),
    from a tagger fitted on ``labelled``. The tagger is fitted on every label; a label's
    probabilities and threshold do not depend on the others' (one-vs-rest, one featurizer),
    so its learnable columns are those of suggest's tagger of the learnable labels only."""
    from honbun.gold.suggest import lexicon_first, uncertainty

    learn = [k for k in ks if g.Y[labelled, k].sum() >= g.cfg.min_positives]
    cold = [k for k in ks if k not in learn]
    d = np.zeros(len(rest))
    if learn:
        P = tagger.predict_proba([g.items[i] for i in rest], g.docs[rest])
        d = uncertainty(P[:, learn], tagger.thresholds_[learn])
    if cold:
        d = lexicon_first(d, g.fires[np.ix_(rest, cold)].any(axis=1))
    return d


def run(
    g: Gold, pool: np.ndarray, test: np.ndarray, seed_set: np.ndarray, strategy: str,
    rounds: int, batch: int, seed: int, ks: list[int],
) -> Curve:  # fmt: skip
    """Grow the labelled set from ``seed_set`` by ``rounds`` batches of ``strategy``."""
    from honbun.gold.suggest import PER_DOC, rank

    rng = np.random.default_rng([seed, 1])
    labelled = np.array(sorted(seed_set))
    out = Curve()
    for r in range(rounds + 1):
        tagger = fit(g, labelled)
        out.labelled.append(len(labelled))
        out.f1.append(score_on_test(g, tagger, test))
        out.positives.append(g.Y[labelled].sum(axis=0))
        if r == rounds:
            break
        rest = np.setdiff1d(pool, labelled)
        if strategy == "random":
            new = rng.choice(rest, min(batch, len(rest)), replace=False)
        else:
            d = doubt(g, tagger, labelled, rest, ks)
            new = rest[rank(d, g.docs[rest].tolist(), batch, PER_DOC, seed * 1000 + r)]
        labelled = np.union1d(labelled, new)
    return out


def mean_sd(values: list[float]) -> str:
    a = np.asarray(values)
    return f"{a.mean():.3f} ± {a.std():.3f}"


def reached(labelled: list[int], f1: np.ndarray, target: float) -> int | None:
    """The first labelled count whose F1 (mean over seeds) is at least ``target``."""
    hit = np.flatnonzero(f1 >= target - 1e-9)
    return labelled[hit[0]] if len(hit) else None


def print_reached(what: str, labelled: list[int], f1: dict[str, np.ndarray], target: float) -> None:
    """The labelled counts at which each strategy's F1 (``f1[strategy]``: seeds × rounds)
    reaches ``target``: on the mean curve, with the saving, then per seed."""
    n_s, n_r = (reached(labelled, f1[s].mean(axis=0), target) for s in STRATEGIES)

    def show(n: int | None) -> str:
        return f"{n:,}" if n is not None else f"> {labelled[-1]:,} (not reached)"

    cut = f"{1 - n_s / n_r:.0%}" if n_s is not None and n_r is not None else "–"
    print(f"  {what}: suggest {show(n_s)}, random {show(n_r)}, saving {cut}")
    per = zip(*((reached(labelled, y, target) for y in f1[s]) for s in STRATEGIES), strict=True)
    print("    per seed (suggest, random): " + "; ".join(f"{a}, {b}" for a, b in per))


def load(args: argparse.Namespace) -> Gold:
    from honbun.features.lexicon import Lexicon
    from honbun.features.text import prepare_items
    from honbun.gold.dataset import load_topic_gold
    from honbun.labels import load_labels
    from honbun.topics.config import TopicConfig

    labels = load_labels(args.labels)
    gold = load_topic_gold(labels, args.annotations, context=False)
    names = labels.topic_names
    cfg = TopicConfig()
    items = prepare_items([s.item() for s in gold], cfg.stop_pos, cfg.context)
    lexicon = Lexicon.from_config(labels)
    hits = lexicon.fired([s.text for s in gold])
    return Gold(
        names, items,
        np.array([[int(n in (s.topics or [])) for n in names] for s in gold], dtype=int),
        np.array([s.doc_id for s in gold]),
        np.array([[n in h for n in names] for h in hits], dtype=bool),
        lexicon.words, cfg,
    )  # fmt: skip


def plot(path: str, names: tuple[str, ...], curves: dict[str, list[Curve]],
         cold: dict[str, dict[str, list[Curve]]], cold_targets: list[float],
         ceiling: np.ndarray) -> None:  # fmt: skip
    """Macro F1 vs labelled sentences per strategy (mean, ± 1 sd band), and a panel per
    cold-start label with its F1; dashed: the tagger fitted on the whole pool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels: list[tuple[dict[str, list[Curve]], int | None, str]] = [
        (curves, None, f"macro F1 ({len(names)} topics), held-out documents")
    ]
    panels += [(runs, names.index(n), f"a new label: {n} (0 positives at first)")
               for n, runs in cold.items()]  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for ax, (runs, k, title) in zip(axes[0], panels, strict=True):
        for strategy, colour in zip(STRATEGIES, ("tab:blue", "tab:grey"), strict=True):
            x = np.array(runs[strategy][0].labelled)
            ys = np.array([[f.mean() if k is None else f[k] for f in c.f1] for c in runs[strategy]])
            m, sd = ys.mean(axis=0), ys.std(axis=0)
            ax.plot(x, m, marker=".", color=colour, label=f"{strategy} (mean of {len(ys)} seeds)")
            ax.fill_between(x, m - sd, m + sd, color=colour, alpha=0.2, linewidth=0)
        top = ceiling.mean() if k is None else ceiling[k]
        ax.axhline(top, color="black", linestyle="--", linewidth=0.8, label=f"whole pool {top:.3f}")
        if k is not None:
            for t in cold_targets:
                ax.axhline(t, color="tab:red", linestyle=":", linewidth=0.8)
        ax.set_xlabel("labelled sentences")
        ax.set_ylabel("F1")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=9)
    fig.suptitle("honbun data suggest vs random annotation (band: ± 1 sd over seeds)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cold_start(
    g: Gold, pool: np.ndarray, test: np.ndarray, name: str, args: argparse.Namespace
) -> dict[str, list[Curve]]:
    """``name`` as a new label: seed sets without a positive of it, batches ranked for
    ``--label name`` or random; prints the table and the annotations to each target."""
    k = g.names.index(name)
    print()
    print(f"Cold start: {name} is new (no positive in the seed set of {args.seed_size}), "
          f"{args.cold_batch} sentences a round ranked for --label {name}; its lexicon alone "
          f"scores F1 {binary_f1(g.Y[test, k], g.fires[test, k]):.3f} on the test documents")  # fmt: skip
    negatives = pool[g.Y[pool, k] == 0]
    runs: dict[str, list[Curve]] = {s: [] for s in STRATEGIES}
    for seed in args.seeds:
        seed_set = np.random.default_rng([seed, 2]).choice(negatives, args.seed_size, replace=False)
        for strategy in STRATEGIES:
            runs[strategy].append(
                run(g, pool, test, seed_set, strategy, args.cold_rounds, args.cold_batch, seed, [k])
            )
    labelled = runs["suggest"][0].labelled
    print()
    print(f"| round | labelled | {name} positives suggest / random | F1 suggest | F1 random |")
    print("|---:|---:|---:|---:|---:|")
    for r, n in enumerate(labelled):
        pos = [np.mean([c.positives[r][k] for c in runs[s]]) for s in STRATEGIES]
        f = {s: [c.f1[r][k] for c in runs[s]] for s in STRATEGIES}
        print(f"| {r} | {n:,} | {pos[0]:.0f} / {pos[1]:.0f} | {mean_sd(f['suggest'])} | "
              f"{mean_sd(f['random'])} |")  # fmt: skip
    print()
    f1 = {s: np.array([[f[k] for f in c.f1] for c in runs[s]]) for s in STRATEGIES}
    for target in args.cold_targets:
        print_reached(f"{name} F1 ≥ {target}", labelled, f1, target)
    return runs


def binary_f1(y: np.ndarray, pred: np.ndarray) -> float:
    from honbun.metrics import binary_prf

    return binary_prf(y, pred.astype(int)).f1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--seed-size", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--test-size", type=float, default=0.25, help="share of the documents")
    ap.add_argument("--split-seed", type=int, default=0)
    ap.add_argument("--targets", type=float, nargs="+", default=[0.7, 0.75, 0.78])
    ap.add_argument(
        "--cold-labels",
        nargs="*",
        default=["sanctions", "deployment"],
        help="labels to pretend new, one at a time (none: no cold start)",
    )
    ap.add_argument("--cold-rounds", type=int, default=10)
    ap.add_argument("--cold-batch", type=int, default=50)
    ap.add_argument("--cold-targets", type=float, nargs="+", default=[0.7, 0.8])
    ap.add_argument("--plot", help="write the curves to this PNG")
    ap.add_argument("--labels", default="data/labels.toml")
    ap.add_argument("--annotations", default="data/annotations")
    args = ap.parse_args()
    os.chdir(ROOT)  # the label config and annotations use repository-relative paths

    from importlib.metadata import version

    import sklearn
    from sklearn.model_selection import GroupShuffleSplit

    from honbun.gold.suggest import PER_DOC

    start = time.perf_counter()
    print("== honbun annotation loop (data suggest) vs random, simulated on the topic gold ==")
    print(f"python      {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.system()} {platform.machine()}")  # fmt: skip
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cpus        os.cpu_count()={os.cpu_count()}, usable={affinity}; load average "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"versions    honbun {version('honbun')}, scikit-learn {sklearn.__version__}")
    print("model       TopicTagger(TopicConfig()) (stage 1, default settings), refitted each "
          "round on the labelled sentences")  # fmt: skip
    print(f"settings    seeds={args.seeds} seed_size={args.seed_size} rounds={args.rounds} "
          f"batch={args.batch} per_doc={PER_DOC} test_size={args.test_size} "
          f"split_seed={args.split_seed} targets={args.targets}")  # fmt: skip
    print(f"            cold_labels={args.cold_labels} cold_rounds={args.cold_rounds} "
          f"cold_batch={args.cold_batch} cold_targets={args.cold_targets} "
          f"labels={args.labels} annotations={args.annotations}")  # fmt: skip

    g = load(args)
    K = len(g.names)
    split = GroupShuffleSplit(n_splits=1, test_size=args.test_size, random_state=args.split_seed)
    pool, test = next(split.split(g.items, groups=g.docs))
    print(f"gold        {len(g.items):,} sentences from {len(set(g.docs)):,} documents; "
          f"positives {dict(zip(g.names, g.Y.sum(0).tolist(), strict=True))}")  # fmt: skip
    print(f"split       pool {len(pool):,} sentences / {len(set(g.docs[pool])):,} documents; "
          f"test {len(test):,} sentences / {len(set(g.docs[test])):,} documents, positives "
          f"{dict(zip(g.names, g.Y[test].sum(0).tolist(), strict=True))}")  # fmt: skip
    full = score_on_test(g, fit(g, pool), test)
    print(f"ceiling     fitted on the whole pool ({len(pool):,}): macro F1 {full.mean():.3f} "
          f"({', '.join(f'{n} {f:.3f}' for n, f in zip(g.names, full, strict=True))})")  # fmt: skip
    print()

    curves: dict[str, list[Curve]] = {s: [] for s in STRATEGIES}
    for seed in args.seeds:
        seed_set = np.random.default_rng([seed, 0]).choice(pool, args.seed_size, replace=False)
        for strategy in STRATEGIES:
            t = time.perf_counter()
            every = list(range(K))
            c = run(g, pool, test, seed_set, strategy, args.rounds, args.batch, seed, every)
            curves[strategy].append(c)
            print(f"  seed {seed} {strategy:<8} macro F1 {c.f1[0].mean():.3f} -> "
                  f"{c.f1[-1].mean():.3f} at {c.labelled[-1]:,} ({time.perf_counter() - t:.0f} s)")  # fmt: skip
    labelled = curves["suggest"][0].labelled
    macro = {s: np.array([[f.mean() for f in c.f1] for c in curves[s]]) for s in STRATEGIES}
    print()
    print(f"Macro F1 on the held-out documents, mean ± sd over {len(args.seeds)} seeds")
    print()
    print("| round | labelled | suggest | random | suggest − random |")
    print("|---:|---:|---:|---:|---:|")
    for r, n in enumerate(labelled):
        s, rd = macro["suggest"][:, r], macro["random"][:, r]
        print(f"| {r} | {n:,} | {mean_sd(s)} | {mean_sd(rd)} | {(s - rd).mean():+.3f} |")
    print()
    print("F1 per label (mean over seeds), suggest / random; labelled positives in brackets")
    print()
    print("| labelled | " + " | ".join(g.names) + " |")
    print("|---:|" + "---:|" * K)
    for r, n in enumerate(labelled):
        cells = []
        for k in range(K):
            f = [np.mean([c.f1[r][k] for c in curves[s]]) for s in STRATEGIES]
            p = [np.mean([c.positives[r][k] for c in curves[s]]) for s in STRATEGIES]
            cells.append(f"{f[0]:.3f} / {f[1]:.3f} ({p[0]:.0f} / {p[1]:.0f})")
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    print()
    final = macro["random"][:, -1].mean()
    print("Annotations to reach a macro F1 (mean curve over seeds; granularity one batch):")
    named = [(f"random's final {final:.3f}", final)]
    named.append((f"the whole pool's − 0.01 = {full.mean() - 0.01:.3f}", full.mean() - 0.01))
    for name, target in named + [(f"{t:.2f}", t) for t in args.targets]:
        print_reached(f"macro F1 ≥ {name}", labelled, macro, target)

    cold = {name: cold_start(g, pool, test, name, args) for name in args.cold_labels}
    if args.plot:
        plot(args.plot, g.names, curves, cold, args.cold_targets, full)
        print(f"\nplot        {args.plot}")
    print(f"total       {time.perf_counter() - start:.0f} s; load average "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
