"""The review page at scale: a page of N results (default 1,000), its size, the time to
write it, and the time headless Chromium takes to open it and render the first screen.

Results come from a JSON Lines file of ``honbun score`` (repeated, with new doc ids, until
there are N); the page is written with :class:`honbun.scoring.review.ReviewSink`.

    .venv/bin/honbun score data/raw/pages -o /tmp/pages.jsonl
    .venv/bin/python benchmarks/bench_review.py /tmp/pages.jsonl --pages 1000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="JSON Lines of honbun score")
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="Chromium runs (the best is shown)")
    args = ap.parse_args()
    from honbun.scoring.review import ReviewSink

    results = [json.loads(x) for x in args.results.read_text("utf-8").splitlines() if x.strip()]
    topics = next((list(r["topics"]) for r in results if r.get("topics")), [])
    work = Path(tempfile.mkdtemp(prefix="bench-review-"))
    page = work / "review.html"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    t0 = time.perf_counter()
    with ReviewSink(str(page), topics) as sink:
        for k in range(args.pages):
            sink.write({**results[k % len(results)], "doc_id": f"page-{k}"})
    took = time.perf_counter() - t0
    blocks = sum(len(results[k % len(results)].get("blocks", [])) for k in range(args.pages))
    print(f"{args.pages} pages ({blocks:,} blocks) from {args.results} ({len(results)} results)")
    print(f"written in {took:.2f} s: {page.stat().st_size / 1e6:.1f} MB")
    chromium = next(
        (shutil.which(n) for n in ("chromium", "google-chrome") if shutil.which(n)), None
    )
    if not chromium:
        print("no chromium: skipping the browser timing (apt-get install -y chromium)")
        return
    best = float("inf")
    for i in range(args.repeat):
        t0 = time.perf_counter()
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / f'profile{i}'}",
             "--window-size=1200,1000", f"--screenshot={work / 'shot.png'}", page.as_uri()],
            capture_output=True, check=True, timeout=600,
        )  # fmt: skip
        best = min(best, time.perf_counter() - t0)
    print(f"chromium: open, lay out and screenshot the first screen: {best:.1f} s (best of "
          f"{args.repeat}, browser start-up included)")  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile-blank'}",
         "--window-size=1200,1000", f"--screenshot={work / 'blank.png'}", "about:blank"],
        capture_output=True, check=True, timeout=600,
    )  # fmt: skip
    print(f"chromium: the same for about:blank (start-up alone): {time.perf_counter() - t0:.1f} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
