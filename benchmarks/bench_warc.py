"""WARC input: reading speed, and memory when scoring a crawl vs the same pages as files.

Builds a crawl of the 92 development pages repeated ``--copies`` times (default: about
1 GB uncompressed; each page's request and response records, as a crawler writes them),
then measures, each in a fresh process (peak RSS = the process's ``ru_maxrss``):

* **import** — a process that imports honbun's WARC reader and nothing else: the floor.
* **read** — ``honbun.read.warc.iter_payloads`` over the whole file (records parsed,
  payloads de-chunked and decompressed, nothing kept): MB/s, pages/s, peak RSS. The file
  is never read into memory, so RSS stays near the floor whatever its size.
* **score crawl** / **score files** — ``honbun score`` (jobs 1) over the first
  ``--score-copies`` copies as one WARC file, and over the same pages as loose files:
  pages/s and peak RSS; the difference is what reading a crawl costs in memory.

    .venv/bin/python benchmarks/bench_warc.py --model models/default
    .venv/bin/python benchmarks/bench_warc.py --copies 20 --score-copies 2 --gzip

``--gzip`` writes the crawl gzipped per record (slower to build); ``--keep DIR`` keeps the
crawl files there (default: a temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "data/raw/pages/manifest.jsonl"
ONE_GB = 1 << 30

RSS_SUFFIX = (
    "\nimport resource, sys\n"
    "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def pages() -> list[tuple[str, Path]]:
    rows = [json.loads(line) for line in MANIFEST.read_text("utf-8").splitlines() if line]
    return [(r.get("url") or f"https://pages.example/{r['id']}", MANIFEST.parent / r["path"])
            for r in rows]  # fmt: skip


def build(path: Path, copies: int, gzipped: bool) -> int:
    """Write the crawl; return its number of page records."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    bodies = [(url, p.read_bytes()) for url, p in pages()]
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gzipped)
        for k in range(copies):
            for url, body in bodies:
                uri = f"{url}{'&' if '?' in url else '?'}copy={k}"
                req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "x")], is_http_request=True)
                w.write_record(w.create_warc_record(uri, "request", payload=io.BytesIO(b""),
                                                    http_headers=req))  # fmt: skip
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
                w.write_record(w.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                    http_headers=http))  # fmt: skip
    return copies * len(bodies)


def run(code: str, *args: str) -> tuple[float, int, str]:
    """Run ``code`` in a fresh interpreter; return (seconds, peak RSS in MB, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code + RSS_SUFFIX, *args], capture_output=True,
                          text=True, env={**os.environ, "HONBUN_PROGRESS": "off"})  # fmt: skip
    took = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rss = next(int(x.split()[1]) for x in proc.stderr.splitlines() if x.startswith("maxrss_kb"))
    return took, rss // 1024, proc.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="default: models/default, else models/smoke")
    ap.add_argument("--copies", type=int, default=0, help="default: enough for 1 GB")
    ap.add_argument("--score-copies", type=int, default=3)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    model = args.model or next(
        (str(REPO / "models" / n) for n in ("default", "smoke") if (REPO / "models" / n).exists()),
        None,
    )
    size = sum(p.stat().st_size for _, p in pages())
    copies = args.copies or -(-ONE_GB // size)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    print(f"model {model}; copies {copies} (92 pages, {size / 1e6:.1f} MB each), "
          f"score-copies {args.score_copies}, gzip {args.gzip}")  # fmt: skip
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-warc-"))
    work.mkdir(parents=True, exist_ok=True)
    crawl = work / ("crawl.warc.gz" if args.gzip else "crawl.warc")
    t0 = time.perf_counter()
    n_pages = build(crawl, copies, args.gzip)
    mb = crawl.stat().st_size / 1e6
    print(
        f"built {crawl.name}: {mb:,.0f} MB, {n_pages:,} pages in {time.perf_counter() - t0:.0f} s"
    )

    took, rss, _ = run("import honbun.read.warc")
    print(f"import:      peak RSS {rss} MB")
    code = (
        "import sys\nfrom honbun.read.warc import WarcStats, iter_payloads\n"
        "s = WarcStats()\nn = sum(len(p.data) for p in iter_payloads(sys.argv[1], s))\n"
        "print(s.summary(), n)"
    )
    took, rss, out = run(code, str(crawl))
    print(f"read:        {mb / took:,.0f} MB/s, {n_pages / took:,.0f} pages/s, peak RSS {rss} MB"
          f" ({took:.1f} s; {out})")  # fmt: skip
    if not model or args.score_copies <= 0:
        return
    small = work / ("small.warc.gz" if args.gzip else "small.warc")
    n_small = build(small, args.score_copies, args.gzip)
    files = [str(p) for _ in range(args.score_copies) for _, p in pages()]
    score = "import sys\nfrom honbun.cli import main\nmain(sys.argv[1:])"
    common = ["--model", model, "-o", str(work / "out.jsonl")]
    took_w, rss_w, _ = run(score, "score", str(small), *common)
    print(f"score crawl: {n_small / took_w:.1f} pages/s, peak RSS {rss_w} MB ({n_small} pages)")
    took_f, rss_f, _ = run(score, "score", *files, *common)
    print(f"score files: {n_small / took_f:.1f} pages/s, peak RSS {rss_f} MB ({n_small} pages)")
    print(f"crawl - files: {rss_w - rss_f:+d} MB peak RSS")


if __name__ == "__main__":
    main()
