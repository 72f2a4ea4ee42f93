"""Scoring time and memory per block as a page grows: is scoring linear in page size?

    python benchmarks/bench_page_size.py [--model DIR] [--blocks 1000 5000 20000 50000 200000]
                                         [--timeout 300] [--kind html|text]

Each size runs in a fresh process (so its peak RSS is its own): load the model, build one
page of N blocks in memory (HTML: a header, a nav list, N ``<p>`` paragraphs of varied
Japanese text in an article ``<div>``, a footer; text: N lines), then time the three steps of
scoring it once: *read* (``page_from_bytes``: decode, parse, blocks), *prepare*
(``Model.prepare``: tokens and features) and *score* (``Model.score_prepared``: the models,
the rules, roles, topics). The per-page limits (``honbun.read.files.MAX_PAGE_BLOCKS`` /
``MAX_PAGE_BYTES``) are lifted in the child, so the sizes above them are measured too.

Printed per size: the wall times, the CPU time (``process_time``: what other work on the
machine does not inflate) and CPU microseconds per block, peak RSS (``ru_maxrss``) and the peak
above the RSS after loading the model, per block. Flat µs/block and KB/block across sizes
mean linear time and memory. A size that exceeds ``--timeout`` is killed and reported,
and the larger sizes are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = (
    "北朝鮮とロシアの軍事協力が新たな段階に入ったと政府関係者は述べた。",
    "防衛省は{n}日、日本海で弾道ミサイルの発射を確認したと発表した。",
    "両国は合同演習の規模を拡大する方針で、周辺国は警戒を強めている。",
    "制裁の実効性をめぐり、国連安全保障理事会では意見が分かれた。",
    "専門家は「部隊の派遣は長期化する可能性が高い」と指摘する。",
    "会談では弾薬の供与や技術協力についても話し合われたとみられる。",
)


def page_bytes(n: int, kind: str) -> bytes:
    """A page of about ``n`` blocks: article paragraphs of varied text, some page chrome."""
    paras = [SENTENCES[i % len(SENTENCES)].format(n=i % 28 + 1) + f"（{i}）" for i in range(n)]
    if kind == "text":
        return "\n".join(paras).encode("utf-8")
    nav = "".join(f'<li><a href="/c{i}">カテゴリー{i}</a></li>' for i in range(8))
    body = "".join(f"<p>{p}</p>" for p in paras[: max(0, n - 12)])
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<title>ロシアと北朝鮮の軍事協力 - 東アジア通信</title></head><body>"
        f'<header><nav><ul class="gnav">{nav}</ul></nav></header>'
        '<div class="article"><h1>ロシアと北朝鮮の軍事協力</h1>'
        f'<p class="date">2024年11月{n % 28 + 1}日</p>{body}</div>'
        '<footer><p class="copyright">© 東アジア通信 無断転載を禁じます。</p></footer>'
        "</body></html>"
    )
    return html.encode("utf-8")


def child(model_dir: str, n: int, kind: str) -> None:
    """Score one page of ``n`` blocks and print its figures as one JSON line."""
    sys.path.insert(0, str(ROOT / "src"))
    import honbun
    from honbun.read import files

    files.MAX_PAGE_BLOCKS = 10**9  # measure past the per-page limits
    files.MAX_PAGE_BYTES = 10**12
    model = honbun.load_model(model_dir)
    model.score(files.page_from_bytes(page_bytes(50, kind), "warmup"))  # tagger, caches
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = page_bytes(n, kind)
    c0, t0 = time.process_time(), time.perf_counter()
    page = files.page_from_bytes(data, f"page-{n}")
    t1 = time.perf_counter()
    prepared = model.prepare(page)
    t2 = time.perf_counter()
    result = model.score_prepared([prepared])[0]
    t3, c3 = time.perf_counter(), time.process_time()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    body = sum(b["label"] == "body" for b in result["blocks"])
    out = {
        "blocks": len(page.blocks),
        "bytes": len(data),
        "read": t1 - t0,
        "prepare": t2 - t1,
        "score": t3 - t2,
        "cpu": c3 - c0,
        "base_mb": base_kb / 1024,
        "peak_mb": peak_kb / 1024,
        "body": body,
    }
    print(json.dumps(out))


def default_model() -> str:
    for name in ("models/default", "models/smoke"):
        if (ROOT / name / "scoring.pkl").exists():
            return str(ROOT / name)
    sys.exit("no model: pass --model DIR (honbun train --config training/configs/smoke.toml)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--blocks", type=int, nargs="+", default=[1000, 5000, 20000, 50000, 200000])
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per size")
    ap.add_argument("--kind", choices=["html", "text"], default="html")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    model = args.model or default_model()
    if args.child is not None:
        child(model, args.child, args.kind)
        return
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    print(f"model {model}, kind {args.kind}, timeout {args.timeout:.0f} s per size")
    head = f"{'blocks':>8} {'MB in':>7} {'read s':>8} {'prep s':>8} {'score s':>8}"
    tail = f"{'total s':>8} {'cpu s':>7} {'µs/block':>9} {'peak MB':>8} {'KB/block':>9}"
    print(f"{head} {tail} {'body':>7}")
    for n in args.blocks:
        cmd = [sys.executable, __file__, "--model", model, "--kind", args.kind, "--child", str(n)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{n:>8} timed out after {args.timeout:.0f} s; larger sizes skipped")
            break
        if proc.returncode != 0:
            print(f"{n:>8} failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
            break
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        total = r["read"] + r["prepare"] + r["score"]
        per_block_us = r["cpu"] / max(1, r["blocks"]) * 1e6
        extra_kb = (r["peak_mb"] - r["base_mb"]) * 1024 / max(1, r["blocks"])
        print(
            f"{r['blocks']:>8} {r['bytes'] / 2**20:>7.1f} {r['read']:>8.2f} {r['prepare']:>8.2f}"
            f" {r['score']:>8.2f} {total:>8.2f} {r['cpu']:>7.2f} {per_block_us:>9.0f} {r['peak_mb']:>8.0f}"
            f" {extra_kb:>9.2f} {r['body']:>7}"
        )


if __name__ == "__main__":
    main()
