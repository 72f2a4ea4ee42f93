"""How much of scoring time the topic stage takes.

Scores pages with ``Model.score_many`` in this process (jobs 1) and times, inside it, the
topic stage: building the sentences' topic features (``page_items``) and the tagger's
``predict_proba`` (both stages). Prints the total, the topic time and its share. Each
input is scored ``--repeat`` times; the best total and its topic time are kept.

    .venv/bin/python benchmarks/bench_topic_share.py --model models/default
    .venv/bin/python benchmarks/bench_topic_share.py --model models/default --livedoor 300
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

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
    from honbun.read.files import expand_paths, load_page
    from honbun.topics.export import TopicScorer

    spent = [0.0]

    def timed(fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[0] += time.perf_counter() - t0

        return wrapper

    scoring.page_items = timed(scoring.page_items)
    TopicScorer.predict_proba = timed(TopicScorer.predict_proba)
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
    best = None
    for _ in range(args.repeat):
        spent[0] = 0.0
        t0 = time.perf_counter()
        results = list(model.score_many(pages))
        total = time.perf_counter() - t0
        if best is None or total < best[0]:
            best = (total, spent[0])
    assert best is not None
    total, topic = best
    tagged = sum(len(r.get("sentences", [])) for r in results)
    print(f"scoring {total:.2f} s ({len(pages) / total:.1f} pages/s), of which the topic "
          f"stage {topic:.2f} s = {100 * topic / total:.1f} % ({tagged:,} body sentences "
          f"tagged); best of {args.repeat}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
