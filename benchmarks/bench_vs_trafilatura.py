"""honbun score against trafilatura (favor_precision) on the same HTML pages, in turn.

Each round runs, one after the other, in fresh processes: ``honbun score PAGES --jobs J``
(end to end: start-up, model load, reading, body model, rules, topics, JSON written to
/dev/null) and trafilatura's ``extract(favor_precision=True)`` over the same files (read
as bytes, ``J`` worker processes). Wall and CPU seconds per run; the summary gives medians
over the rounds, pages/s and the ratio honbun / trafilatura (≥ 1.0 means honbun is at least
as fast). Taking the rounds in turn keeps the ratio fair on a machine whose load drifts.

    .venv/bin/python benchmarks/bench_vs_trafilatura.py --model models/default
    .venv/bin/python benchmarks/bench_vs_trafilatura.py --pages data/raw/unseen/pages --rounds 5
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

TRAFILATURA = """
import sys
from concurrent.futures import ProcessPoolExecutor
import trafilatura

def one(path):
    with open(path, 'rb') as fh:
        data = fh.read()
    try:
        return len(trafilatura.extract(data, favor_precision=True) or '')
    except Exception:
        return 0

jobs, paths = int(sys.argv[1]), sys.argv[2:]
if jobs == 1:
    total = sum(map(one, paths))
else:
    with ProcessPoolExecutor(jobs) as pool:
        total = sum(pool.map(one, paths, chunksize=4))
print(total)
"""


def html_pages(folders: list[str]) -> list[str]:
    out: list[str] = []
    for f in folders:
        out += sorted(str(p) for p in Path(f).rglob("*") if p.suffix.lower() in (".html", ".htm"))
    return out


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (the child's and its children's user + system) of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--pages", nargs="+", default=["data/raw/pages"], help="folders of pages")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.chdir(REPO)
    pages = html_pages(args.pages)
    mb = sum(Path(p).stat().st_size for p in pages) / 1e6
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start")  # fmt: skip
    print(f"{len(pages)} HTML pages ({mb:.1f} MB) from {', '.join(args.pages)}; "
          f"model {args.model}; rounds {args.rounds}, in turn")  # fmt: skip
    honbun = [str(BIN / "honbun"), "score", "--model", args.model, "-o", os.devnull]
    rows = []
    for jobs in args.jobs:
        runs: dict[str, list[tuple[float, float]]] = {"honbun": [], "trafilatura": []}
        for r in range(args.rounds):
            runs["honbun"].append(timed([*honbun, "--jobs", str(jobs), *pages]))
            runs["trafilatura"].append(
                timed([sys.executable, "-c", TRAFILATURA, str(jobs), *pages])
            )
            print(f"  jobs {jobs} round {r + 1}: honbun {runs['honbun'][-1][0]:.2f} s, "
                  f"trafilatura {runs['trafilatura'][-1][0]:.2f} s", flush=True)  # fmt: skip
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
               for k, v in runs.items()}  # fmt: skip
        ratios = [t[0] / h[0] for h, t in zip(runs["honbun"], runs["trafilatura"], strict=True)]
        rows.append((jobs, med, statistics.median(ratios)))
    print(
        "\n| jobs | honbun wall s | honbun CPU s | honbun pages/s | trafilatura wall s "
        "| trafilatura CPU s | trafilatura pages/s | speed honbun / trafilatura |"
    )
    print("|---|---|---|---|---|---|---|---|")
    n = len(pages)
    for jobs, med, ratio in rows:
        h, t = med["honbun"], med["trafilatura"]
        print(f"| {jobs} | {h[0]:.2f} | {h[1]:.2f} | {n / h[0]:.1f} | {t[0]:.2f} | {t[1]:.2f} "
              f"| {n / t[0]:.1f} | {ratio:.2f}× |")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
