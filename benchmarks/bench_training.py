"""Training cost vs data size for honbun's two models.

    python benchmarks/bench_training.py [--fractions 0.25 0.5 1.0] [--repeat 1]
                                        [--labels data/labels.toml] [--annotations data/annotations]

* body/boilerplate: ``BlockModel(ModelConfig())`` fitted on ``prepare``d pages of
  ``load_block_gold(load_labels())``;
* topics: ``TopicTagger(TopicConfig(), labels.topic_names)`` fitted on the
  ``load_topic_gold`` sentences as ``s.item()`` (tokens cut from their blocks).

Each model is fitted on 25 %, 50 % and 100 % of its documents. The subsets are
deterministic and nested: documents are ordered by the SHA-1 of their doc id (a stable
shuffle that mixes sites and sources) and the first fraction is taken. Preparation
(tokenisation + features) and fitting are timed separately, tokenisation from cold
caches for every row; with ``--repeat`` > 1 the fastest run is shown.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def subset(ids: list[str], fraction: float) -> set[str]:
    """The first ``fraction`` of ``ids`` in SHA-1 order (nested across fractions)."""
    order = sorted(set(ids), key=lambda d: hashlib.sha1(d.encode()).hexdigest())
    return set(order[: max(1, round(len(order) * fraction))])


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--labels", default="data/labels.toml")
    ap.add_argument("--annotations", default="data/annotations")
    args = ap.parse_args()
    os.chdir(ROOT)  # the label config and annotations use repository-relative paths

    from importlib.metadata import version

    import sklearn

    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.model import BlockModel
    from honbun.features.lexicon import Lexicon
    from honbun.features.prepared import prepare
    from honbun.features.text import prepare_items
    from honbun.gold.dataset import load_block_gold, load_topic_gold
    from honbun.labels import load_labels
    from honbun.read.tokens import clear_caches
    from honbun.topics.config import TopicConfig
    from honbun.topics.model import TopicTagger

    print("== honbun training benchmark ==")
    print(f"python      {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.system()} {platform.machine()}")  # fmt: skip
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cpus        os.cpu_count()={os.cpu_count()}, usable={affinity}; load average "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"versions    honbun {version('honbun')}, scikit-learn {sklearn.__version__}, "
          f"fugashi {version('fugashi')}")  # fmt: skip
    print(f"model       none loaded: fits BlockModel(ModelConfig()) = {ModelConfig().model!r} "
          f"and TopicTagger(TopicConfig()) = {TopicConfig().model!r}, default settings")  # fmt: skip
    print(f"settings    labels={args.labels} annotations={args.annotations} "
          f"fractions={args.fractions} repeat={args.repeat} subsets=first by sha1(doc_id)")  # fmt: skip

    labels = load_labels(args.labels)
    t = time.perf_counter()
    gold = load_block_gold(labels, args.annotations)
    sents = load_topic_gold(labels, args.annotations)
    print(f"gold        {len(gold)} block-annotated documents, {len(sents)} topic sentences "
          f"from {len({s.doc_id for s in sents})} documents (loaded in "
          f"{time.perf_counter() - t:.1f} s)")  # fmt: skip
    print()

    cfg = ModelConfig()
    print("body/boilerplate: BlockModel(ModelConfig()).fit(prepared pages, labels)")
    print(f"{'fraction':>8} | {'documents':>9} | {'blocks':>7} | {'sites':>5} | "
          f"{'prepare s':>9} | {'fit s':>8} | {'total s':>8}")  # fmt: skip
    # Warm-up outside the timings: imports, the tagger, the estimators' first-call costs.
    warm = [prepare(g.page, cfg, site=g.site) for g in gold[:8]]
    BlockModel(cfg).fit(warm, [g.y for g in gold[:8]])
    for frac in args.fractions:
        keep = subset([g.page.doc_id for g in gold], frac)
        sub = [g for g in gold if g.page.doc_id in keep]

        def prep(sub: list[Any] = sub) -> list[Any]:
            clear_caches()  # every run tokenises from cold
            return [prepare(g.page, cfg, site=g.site) for g in sub]

        prep_s, prepared = best_of(args.repeat, prep)
        fit_s, _ = best_of(
            args.repeat, lambda p=prepared, s=sub: BlockModel(cfg).fit(p, [g.y for g in s])
        )
        blocks = sum(len(g.page.blocks) for g in sub)
        sites = len({g.site for g in sub})
        print(f"{frac:>8.0%} | {len(sub):>9} | {blocks:>7} | {sites:>5} | "
              f"{prep_s:>9.2f} | {fit_s:>8.2f} | {prep_s + fit_s:>8.2f}")  # fmt: skip
    print()

    tcfg = TopicConfig()
    names = labels.topic_names
    lexicon = Lexicon.from_config(labels).words  # as `honbun train` does
    print(f"topics: TopicTagger(TopicConfig(), {len(names)} topics, lexicon)"
          ".fit(TextItems, Y, doc ids)")  # fmt: skip
    print(f"{'fraction':>8} | {'documents':>9} | {'sentences':>9} | "
          f"{'lemmas s':>10} | {'fit s':>8} | {'total s':>8}")  # fmt: skip
    for frac in args.fractions:
        keep = subset([s.doc_id for s in sents], frac)
        sub = [s for s in sents if s.doc_id in keep]
        Y = np.array([[int(n in s.topics) for n in names] for s in sub], dtype=int)
        groups = np.array([s.doc_id for s in sub])

        def items(sub: list[Any] = sub) -> list[Any]:
            return [s.item() for s in sub]

        def tok() -> list[Any]:
            clear_caches()
            return prepare_items(items(), tcfg)

        tok_s, prepped = best_of(args.repeat, tok)
        # fit() skips this for items whose lemmas are already filled in. The tokens were
        # cut from their blocks when load_topic_gold read the annotations.
        fit_s, _ = best_of(
            args.repeat,
            lambda p=prepped, y=Y, g=groups: TopicTagger(tcfg, names, lexicon).fit(p, y, g),
        )
        print(f"{frac:>8.0%} | {len(keep):>9} | {len(sub):>9} | "
              f"{tok_s:>10.2f} | {fit_s:>8.2f} | {tok_s + fit_s:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
