"""How much of scoring time the topic stage takes.

Scores pages with ``Model.score_many`` in this process (jobs 1) and times, inside it, the
topic stage: building the sentences' topic features (``page_items``) and the tagger's
``predict_proba`` (both stages). Prints the total, the topic time and its share, for the
tagger as trained and for the same tagger without its second stage (stage 1 alone, as the
tagger was before the second stage), and the ratio of the two totals. Each is scored
``--repeat`` times, in turn; the best total and its topic time are kept.

    .venv/bin/python benchmarks/bench_topic_share.py --model models/default
    .venv/bin/python benchmarks/bench_topic_share.py --model models/default --livedoor 300
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--pages", nargs="+", default=["data/raw/pages"], help="files or folders")
    ap.add_argument(
        "--livedoor",
        type=int,
        default=0,
        metavar="N",
        help="score the first N livedoor articles instead of --pages",
    )
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.chdir(REPO)

    import honbun
    import honbun.scoring.model as scoring
    from honbun.features.vectors import WordVectors
    from honbun.read.files import expand_paths, load_page
    from honbun.topics.export import TopicScorer

    spent: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    # The topic stage is page_items (the sentences and their tokens) + predict_proba; the
    # parts inside predict_proba are timed too (they do not add to the topic total twice).
    scoring.page_items = timed("sentences", scoring.page_items)
    TopicScorer.predict_proba = timed("predict_proba", TopicScorer.predict_proba)
    TopicScorer.stage1_proba = timed("stage 1", TopicScorer.stage1_proba)
    WordVectors.mean = timed("word vectors", WordVectors.mean)
    model = honbun.load_model(args.model)
    if args.livedoor:
        from itertools import islice

        from honbun.read.livedoor import iter_livedoor

        corpus = "data/raw/livedoor/ldcc-20140209.tar.gz"
        pages = list(islice(iter_livedoor(corpus), args.livedoor))
        args.pages = [f"the first {args.livedoor} livedoor articles"]
    else:
        pages = [load_page(p) for p in expand_paths(args.pages)]
    n_sent = sum(len(p.sentences) for p in pages)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; model {args.model}; {len(pages)} pages, {n_sent:,} "
          f"sentences from {', '.join(args.pages)}")  # fmt: skip
    # The tagger as trained, and the same tagger without its second stage (stage 1 alone,
    # the architecture of the tagger before it): each repeat scores with both, in turn.
    topics = model.bundle.topic_model
    for forest in topics.stage2.values():  # this model's second-stage forests only
        forest.predict_proba = timed("stage 2 forests", forest.predict_proba)
    variants = {"as trained": dict(topics.stage2), "stage 1 only": {}}
    best: dict[str, tuple[float, float]] = {}
    parts: dict[str, float] = {}
    results: list[dict] = []
    for _ in range(args.repeat):
        for name, stage2 in variants.items():
            topics.stage2 = stage2
            spent.clear()
            t0 = time.perf_counter()
            out = list(model.score_many(pages))
            total = time.perf_counter() - t0
            if name not in best or total < best[name][0]:
                best[name] = (total, spent.get("sentences", 0) + spent.get("predict_proba", 0))
                if name == "as trained":
                    parts = dict(spent)
            if name == "as trained":
                results = out
    tagged = sum(len(r.get("sentences", [])) for r in results)
    for name, (total, topic) in best.items():
        print(f"{name}: scoring {total:.2f} s ({len(pages) / total:.1f} pages/s), of which the "
              f"topic stage {topic:.2f} s = {100 * topic / total:.1f} %")  # fmt: skip
    inside = ", ".join(
        f"{k} {parts.get(k, 0.0):.2f} s"
        for k in ("sentences", "stage 1", "word vectors", "stage 2 forests")
    )
    print(f"as trained, parts of the topic stage: {inside}")
    ratio = best["as trained"][0] / best["stage 1 only"][0]
    print(f"{tagged:,} body sentences tagged; best of {args.repeat}; scoring time with the "
          f"second stage / without: {ratio:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
