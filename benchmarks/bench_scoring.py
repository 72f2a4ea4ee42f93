"""Throughput, memory and start-up of honbun's scoring pipeline on the livedoor corpus.

    python benchmarks/bench_scoring.py [--model DIR] [--limit N] [--jobs 1 2]
                                       [--api-docs 300] [--livedoor PATH] [--no-startup]

Passes, in this order, all over the same documents (the whole corpus unless ``--limit``):

1. load   — ``iter_livedoor`` alone (read the tarball, parse, block/sentence segmentation
   is done by the loader; sentences are split lazily, so they are forced here too).
2. score  — one pass per ``--jobs`` value: ``Model.score_many(pages, jobs=N)`` (the path of
   ``honbun score --jobs N``) with pages streamed from the loader. End-to-end (loading
   included: with N > 1 the parent loads while the workers score) and, for jobs=1 (serial),
   scoring alone = wall time minus the time spent inside the loader.
3. raw    — the floor any pipeline pays: ``honbun.read.tokens.tagger()`` over each page's text,
   touching ``word.surface`` and ``word.feature.lemma``. Loading time is excluded. (Run
   after the scoring passes, whose memory it would otherwise inflate: a second mapping
   of the dictionary.)
4. api    — a plain ``Model.score(page)`` loop over the first ``--api-docs`` documents, and
   raw fugashi over the same documents (the Python API without ``score_many``).
5. start-up — a fresh ``python -c`` process: import honbun, ``load_model``, score one page.

Memory: a sampler thread reads VmRSS (and RssAnon, the process's own memory) of this
process and of its child processes (the pool workers) from /proc every 0.25 s, and PSS
(shared pages split between processes) from /proc/<pid>/smaps_rollup;
``resource.getrusage`` gives the kernel's peaks. RSS includes the file pages of the
memory-mapped MeCab dictionary (sys.dic + matrix.bin, 260 MB, shared by every process
that tokenises, reclaimable) as they get touched.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import honbun  # noqa: E402
from honbun.read.livedoor import iter_livedoor  # noqa: E402
from honbun.read.tokens import clear_caches, tagger  # noqa: E402

CORPUS = ROOT / "data/raw/livedoor/ldcc-20140209.tar.gz"
TARGET_RATIO = 0.5
TARGET_SPEEDUP = 1.7
TARGET_RSS_MB = 500
TARGET_STARTUP_S = 1.0
MB = 1024 * 1024


# ---------------------------------------------------------------- memory
def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (scans /proc; no psutil needed)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name (field 2) may contain spaces: ppid is the 2nd field after ")"
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(d))
    return out


def memory_now() -> dict[str, float]:
    """RSS and PSS (MB) of this process and of its children, right now."""
    me = os.getpid()
    kids = children(me)
    return {
        "self_rss": _status_kb(me, "VmRSS:") / 1024,
        "self_anon": _status_kb(me, "RssAnon:") / 1024,
        "kids_rss": sum(_status_kb(k, "VmRSS:") for k in kids) / 1024,
        "kids_anon": sum(_status_kb(k, "RssAnon:") for k in kids) / 1024,
        "max_kid_rss": max([_status_kb(k, "VmRSS:") for k in kids] or [0]) / 1024,
        "total_pss": (_pss_kb(me) + sum(_pss_kb(k) for k in kids)) / 1024,
        "n_kids": len(kids),
    }


class Sampler:
    """Peak RSS/PSS over time, sampled in a background thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        m = memory_now()
        m["total_rss"] = m["self_rss"] + m["kids_rss"]
        for k, v in m.items():
            self.peak[k] = max(self.peak.get(k, 0.0), v)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def fmt_mem(m: dict[str, float]) -> str:
    return (
        f"self RSS {m['self_rss']:5.1f} (anon {m['self_anon']:5.1f}) MB | workers RSS "
        f"{m['kids_rss']:5.1f} (anon {m['kids_anon']:5.1f}, max one {m['max_kid_rss']:5.1f}, "
        f"n={int(m['n_kids'])}) MB | total PSS {m['total_pss']:5.1f} MB"
    )


# ---------------------------------------------------------------- passes
def pages(corpus: Path, limit: int | None) -> Iterator[Any]:
    it = iter_livedoor(corpus)
    return itertools.islice(it, limit) if limit else it


class Timed:
    """Wraps the loader and accumulates the time spent inside it (loading)."""

    def __init__(self, it: Iterator[Any]) -> None:
        self.it = it
        self.seconds = 0.0
        self.docs = 0
        self.chars = 0

    def __iter__(self) -> Iterator[Any]:
        while True:
            t = time.perf_counter()
            try:
                p = next(self.it)
                _ = p.sentences  # sentence splitting is part of loading/segmentation
            except StopIteration:
                self.seconds += time.perf_counter() - t
                return
            self.seconds += time.perf_counter() - t
            self.docs += 1
            self.chars += len(p.text)
            yield p


def rate(chars: int, docs: int, seconds: float) -> str:
    s = max(seconds, 1e-9)
    return f"{seconds:8.1f} s | {chars / s:>10,.0f} chars/s | {docs / s:>7.1f} docs/s"


def pass_load(corpus: Path, limit: int | None) -> tuple[int, int, float, int, int]:
    src = Timed(pages(corpus, limit))
    blocks = sents = 0
    for p in src:
        blocks += len(p.blocks)
        sents += len(p.sentences)
    return src.docs, src.chars, src.seconds, blocks, sents


def pass_raw(corpus: Path, limit: int | None) -> tuple[int, int, float, int]:
    tg = tagger()
    tg("ウォームアップ")
    seconds = 0.0
    docs = chars = toks = 0
    for p in pages(corpus, limit):
        text = p.text
        t = time.perf_counter()
        for w in tg(text):
            _ = w.surface, w.feature.lemma
            toks += 1
        seconds += time.perf_counter() - t
        docs += 1
        chars += len(text)
    return docs, chars, seconds, toks


def pass_score(
    model: Any, corpus: Path, limit: int | None, jobs: int, n_docs: int, api: bool = False
) -> dict[str, Any]:
    """Score every page; RSS snapshots after 10 %, 50 %, 100 % of the documents.

    ``api``: call ``Model.score(page)`` in a loop instead of ``score_many``.
    """
    marks = {max(1, round(n_docs * f)): f for f in (0.1, 0.5, 1.0)}
    snaps: list[tuple[float, int, dict[str, float]]] = []
    src = Timed(pages(corpus, limit))
    errors = done = 0
    clear_caches()  # every pass starts cold (forked workers would inherit a warm cache)
    with Sampler() as sampler:
        t0 = time.perf_counter()
        stream = (model.score(p) for p in src) if api else model.score_many(src, jobs=jobs)
        for r in stream:
            done += 1
            errors += "error" in r
            if done in marks:
                snaps.append((marks[done], done, memory_now()))
        wall = time.perf_counter() - t0
    return {
        "jobs": jobs,
        "docs": src.docs,
        "chars": src.chars,
        "wall": wall,
        "load": src.seconds,
        "score": wall - src.seconds,  # meaningful when scoring is serial (jobs=1)
        "errors": errors,
        "snaps": snaps,
        "peak": sampler.peak,
    }


def print_score(title: str, r: dict[str, Any]) -> None:
    print(f"{title}, errors={r['errors']}")
    print(f"  end-to-end  {rate(r['chars'], r['docs'], r['wall'])}   (loading included)")
    if r["jobs"] <= 1:
        print(f"  score only  {rate(r['chars'], r['docs'], r['score'])}   "
              f"(= tokenise + features + both models)")  # fmt: skip
    for frac, n, m in r["snaps"]:
        print(f"  RSS after {frac:4.0%} ({n:>5,} docs): {fmt_mem(m)}")
    p = r["peak"]
    print(f"  peak (sampled 4/s): self RSS {p['self_rss']:.1f} (anon {p['self_anon']:.1f}) MB, "
          f"workers RSS {p['kids_rss']:.1f} (anon {p['kids_anon']:.1f}, max one "
          f"{p['max_kid_rss']:.1f}) MB, total PSS {p['total_pss']:.1f} MB")  # fmt: skip


STARTUP_CODE = """
import time, sys
t0 = time.perf_counter()
import honbun
t1 = time.perf_counter()
m = honbun.load_model(sys.argv[1])
t2 = time.perf_counter()
r = m.score(sys.argv[2])
t3 = time.perf_counter()
assert "error" not in r, r
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f}")
"""


def pass_startup(model_dir: Path, corpus: Path, repeat: int) -> list[tuple[float, ...]]:
    first = next(iter_livedoor(corpus))
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "article.txt"
        page.write_text("\n".join(b.text for b in first.blocks) + "\n", encoding="utf-8")
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", STARTUP_CODE, str(model_dir), str(page)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout.split()
            wall = time.perf_counter() - t
            runs.append((wall, *map(float, out)))
        return runs


# ---------------------------------------------------------------- main
def load_avg() -> str:
    """1/5/15-minute load averages: other work on the machine skews every figure."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def default_model() -> Path:
    d = ROOT / "models/default"
    return d if (d / "model.joblib").exists() else ROOT / "models/smoke"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=None, help="default: models/default, else smoke")
    ap.add_argument("--livedoor", type=Path, default=CORPUS)
    ap.add_argument("--limit", type=int, default=None, help="first N articles (default: all)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--api-docs", type=int, default=300,
                    help="also time a plain Model.score(page) loop on the first N docs (0: skip)")  # fmt: skip
    ap.add_argument("--startup-repeat", type=int, default=3)
    ap.add_argument("--no-startup", action="store_true")
    args = ap.parse_args()
    model_dir = (args.model or default_model()).resolve()

    from importlib.metadata import version

    import fugashi  # noqa: F401

    # Versions from package metadata: importing scikit-learn would add ~150 MB to the
    # memory measured below, and scoring does not import it.

    print("== honbun scoring benchmark ==")
    print(f"python      {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.system()} {platform.machine()}")  # fmt: skip
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cpus        os.cpu_count()={os.cpu_count()}, usable={affinity}")
    print(f"versions    honbun {version('honbun')}, fugashi {version('fugashi')}, "
          f"unidic-lite {version('unidic-lite')}, numpy {version('numpy')}")  # fmt: skip
    threads = {
        k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if k in os.environ
    }
    print(f"env         {threads or 'no thread limits set'}; load average {load_avg()}")
    t = time.perf_counter()
    model = honbun.load_model(model_dir)
    load_model_s = time.perf_counter() - t
    print(f"model       {model_dir} (name {model.name!r}; loaded in {load_model_s:.2f} s)")
    print(f"settings    corpus={args.livedoor} limit={args.limit or 'all'} jobs={args.jobs} "
          f"api_docs={args.api_docs} "
          f"startup_repeat={0 if args.no_startup else args.startup_repeat}")  # fmt: skip
    print()

    docs, chars, load_s, blocks, sents = pass_load(args.livedoor, args.limit)
    print(f"documents   {docs:,} ({chars:,} chars, {blocks:,} blocks, {sents:,} sentences)")
    print(f"load        {rate(chars, docs, load_s)}   (iter_livedoor + sentence split)")
    model.score(next(iter_livedoor(args.livedoor)))  # warm-up: tagger, lazy imports
    results = []
    for j in args.jobs:
        r = pass_score(model, args.livedoor, args.limit, j, docs)
        results.append(r)
        print_score(f"pipeline    score_many(jobs={j})", r)
    # After the scoring passes: tagger() maps the dictionary a second time in this process.
    rd, rc, raw_s, toks = pass_raw(args.livedoor, args.limit)
    assert (rd, rc) == (docs, chars)
    print(f"raw fugashi {rate(chars, docs, raw_s)}   ({toks:,} tokens; loading excluded)")
    raw_cps = chars / raw_s
    api = None
    if args.api_docs:
        n_api = min(args.api_docs, docs)
        api = pass_score(model, args.livedoor, n_api, 1, n_api, api=True)
        print_score(f"pipeline    Model.score(page) loop, first {n_api:,} docs", api)
        _, rc_api, raw_api, _ = pass_raw(args.livedoor, n_api)
        print(f"  raw fugashi on the same docs {rate(rc_api, n_api, raw_api)}")

    ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ru_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"getrusage   ru_maxrss self {ru_self:.1f} MB, largest finished child {ru_kids:.1f} MB")
    print(f"load avg    {load_avg()} (after the scoring passes)")
    print()
    print("== summary ==")
    by_jobs = {r["jobs"]: r for r in results}
    if 1 in by_jobs:
        r1 = by_jobs[1]
        ratio = (r1["chars"] / r1["score"]) / raw_cps
        print(f"pipeline/raw (score only, jobs=1)   {ratio:.3f}   target >= {TARGET_RATIO}: "
              f"{'MET' if ratio >= TARGET_RATIO else 'NOT MET'}")  # fmt: skip
        e2e = (r1["chars"] / r1["wall"]) / raw_cps
        print(f"pipeline/raw (end-to-end, jobs=1)   {e2e:.3f}")
    if api is not None:
        print(
            f"pipeline/raw (Model.score loop)     {(api['chars'] / api['score']) / (rc_api / raw_api):.3f}"
        )
    if 1 in by_jobs and 2 in by_jobs:
        sp = by_jobs[1]["wall"] / by_jobs[2]["wall"]
        print(f"speed-up jobs=2 / jobs=1            {sp:.2f}x  target >= {TARGET_SPEEDUP}: "
              f"{'MET' if sp >= TARGET_SPEEDUP else 'NOT MET'}")  # fmt: skip
    # score_many passes only (the api pass runs after raw fugashi mapped the dictionary twice)
    peak = max(max(r["peak"]["self_rss"], r["peak"]["max_kid_rss"]) for r in results)
    self_anon = max(r["peak"]["self_anon"] for r in results)
    kids_anon = max(r["peak"]["kids_anon"] for r in results)
    peak_total = max(r["peak"]["total_pss"] for r in results)
    print(f"peak RSS of any one process         {peak:.1f} MB   target < {TARGET_RSS_MB} MB: "
          f"{'MET' if peak < TARGET_RSS_MB else 'NOT MET'}")  # fmt: skip
    print(
        f"peak RssAnon (own memory)           parent {self_anon:.1f} MB, workers {kids_anon:.1f} MB (sum)"
    )
    print(f"peak total PSS (parent + workers)   {peak_total:.1f} MB   target < {TARGET_RSS_MB} MB: "
          f"{'MET' if peak_total < TARGET_RSS_MB else 'NOT MET'}")  # fmt: skip
    for r in results:
        rss = [m["self_rss"] + m["kids_rss"] for _, _, m in r["snaps"]]
        anon = [m["self_anon"] + m["kids_anon"] for _, _, m in r["snaps"]]
        if len(rss) >= 2:
            print(f"growth 10% -> 100% (jobs={r['jobs']})         RSS {rss[-1] - rss[0]:+.1f} MB, "
                  f"RssAnon {anon[-1] - anon[0]:+.1f} MB (self + workers)")  # fmt: skip
    if not args.no_startup:
        runs = pass_startup(model_dir, args.livedoor, args.startup_repeat)
        med = statistics.median(x[0] for x in runs)
        for wall, imp, load, score in runs:
            print(f"start-up run  wall {wall:.2f} s = python + import {imp:.2f} + load_model "
                  f"{load:.2f} + first score {score:.2f} s")  # fmt: skip
        print(f"start-up (median of {len(runs)})           {med:.2f} s   target < "
              f"{TARGET_STARTUP_S} s: {'MET' if med < TARGET_STARTUP_S else 'NOT MET'}")  # fmt: skip


if __name__ == "__main__":
    main()
