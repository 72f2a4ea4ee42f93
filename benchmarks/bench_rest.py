"""Load on ``honbun serve``: latency, errors by kind, and whether the server still answers.

    python benchmarks/bench_rest.py [--model DIR] [--requests 1000] [--clients 8]
                                    [--workers 2] [--timeout 5] [--max-body-mb 4] [--slow 4]
                                    [--server honbun|mlflow]

``--server mlflow`` sends the same load to ``mlflow models serve`` (the model logged as
the pyfunc into a throw-away tracking store, ``--workers`` uvicorn workers,
``MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT`` = ``--timeout``), for comparison.

Starts ``honbun serve`` on a free loopback port (127.0.0.1 only), then ``--clients``
threads send ``--requests`` requests in all, a fixed mix drawn with ``--seed``:

- good: one page (a seed text dump or a development HTML page) in ``dataframe_records``
  or ``dataframe_split``, some with ``params.site_context``;
- malformed: a body that is not JSON, or JSON that is not a request (400);
- oversized: a Content-Length over ``--max-body-mb``, sent as curl does for large bodies
  (``Expect: 100-continue``, the body only when the server asks for it): 413;
- slow: ``--slow`` pages of 20,000 paragraphs, far more work than ``--timeout``: 504, and
  the worker is killed and replaced.

Prints latency percentiles per kind, the status codes per kind, then the server's state
(``/health``: workers, restarts, time-outs), whether it still answers a good request, and
the CPU its processes use in 3 s of quiet after the load (near 0 when the slow pages' work
was really stopped). Every request has a client time limit (120 s) and the run as a whole
stops after ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
HTML = [
    ROOT / "data/raw/pages/htmldate-ja/article.auone.jp-tax.html",
    ROOT / "data/raw/pages/koron-java-extractarticle/000001.html",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slow_page(paragraphs: int = 20_000) -> str:
    para = "<p>ロシアに派兵された北朝鮮軍部隊がクルスク地域に配備された。{}</p>\n"
    return "<html><body>" + "".join(para.format(k) for k in range(paragraphs)) + "</body></html>"


def build_requests(n: int, slow: int, max_body: int, seed: int) -> list[tuple[str, bytes]]:
    """(kind, body) pairs: the mix described above, in a shuffled order."""
    rng = random.Random(seed)
    pages = [(p.stem, "text", p.read_text("utf-8")) for p in SEEDS]
    pages += [(p.stem, "html", p.read_text("utf-8")) for p in HTML]
    slow_body = json.dumps(
        {"dataframe_records": [{"doc_id": "slow", "format": "html", "content": slow_page()}]},
        ensure_ascii=False,
    ).encode()
    out: list[tuple[str, bytes]] = [("slow", slow_body)] * slow
    malformed = [b'{"dataframe_split": ', b"not json", b"[]", b'{"instances": [1]}',
                 b'{"dataframe_records": [1]}']  # fmt: skip
    for _ in range(n - slow):
        r = rng.random()
        if r < 0.10:
            out.append(("malformed", rng.choice(malformed)))
        elif r < 0.15:
            out.append(("oversized", b"%d" % (max_body + 1 + rng.randrange(max_body))))
        else:
            doc_id, fmt, content = rng.choice(pages)
            if rng.random() < 0.5:
                body = {
                    "dataframe_records": [{"doc_id": doc_id, "format": fmt, "content": content}]
                }
            else:
                body = {"dataframe_split": {"columns": ["doc_id", "format", "content"],
                                            "data": [[doc_id, fmt, content]]}}  # fmt: skip
            if rng.random() < 0.2:
                body["params"] = {"site_context": True}
            out.append(("good", json.dumps(body, ensure_ascii=False).encode()))
    rng.shuffle(out)
    return out


def send_oversized(port: int, length: int) -> int | str:
    """Headers with ``Expect: 100-continue``; the status of the answer (the body is sent
    only after a 100 Continue, which a server enforcing the limit never sends)."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.sendall(b"POST /invocations HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json"
                  b"\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % length)  # fmt: skip
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("closed without an answer")
            answer += chunk
        status = int(answer.split(b" ", 2)[1])
        if status == 100:  # the server would read the whole body: no size limit
            return "100 Continue"
        return status


def client(port: int, work: queue.Queue, results: list, stop_at: float) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while time.monotonic() < stop_at:
        try:
            kind, body = work.get_nowait()
        except queue.Empty:
            break
        t0 = time.perf_counter()
        try:
            if kind == "oversized":
                status = send_oversized(port, int(body))
            else:
                conn.request("POST", "/invocations", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                raw = resp.read()
                status = resp.status
                if status == 200 and any("error" in r for r in json.loads(raw)["predictions"]):
                    status = "200 with error records"
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            status = f"client error: {type(exc).__name__}"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        results.append((kind, status, time.perf_counter() - t0))
    conn.close()


def mlflow_command(model: str, port: int, workers: int, timeout: float) -> tuple[list, dict]:
    """``mlflow models serve`` of ``model`` logged as the pyfunc in a throw-away store."""
    import tempfile

    sys.path.insert(0, str(ROOT / "src"))
    from honbun.experiment.tracking import experiment_id, log_pyfunc
    from honbun.scoring.registry import tracked_mlflow

    store = Path(tempfile.mkdtemp(prefix="bench-rest-mlflow-"))
    uri = f"sqlite:///{store / 'mlruns.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow = tracked_mlflow(store)
    experiment = experiment_id(mlflow, "bench-rest")  # artifacts beside the store
    with mlflow.start_run(experiment_id=experiment) as run:
        log_pyfunc(mlflow, Path(model), "bench-rest")
    env = {**os.environ, "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT": str(int(timeout)),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # fmt: skip
    cmd = [str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m",
           f"runs:/{run.info.run_id}/model", "--env-manager", "local", "-h", "127.0.0.1",
           "-p", str(port), "-w", str(workers)]  # fmt: skip
    return cmd, env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        pids += [int(c) for c in children]
    return total


def _group_alive(server: subprocess.Popen) -> bool:
    """Whether any process of the server's process group is still running."""
    server.poll()  # reap the leader, if it has ended
    try:
        os.killpg(server.pid, 0)
    except ProcessLookupError:
        return False
    return True


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_model = next((str(p) for p in (ROOT / "models/default", ROOT / "models/smoke")
                          if p.is_dir()), "models/default")  # fmt: skip
    ap.add_argument("--model", default=default_model)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--max-body-mb", type=float, default=4.0)
    ap.add_argument("--slow", type=int, default=4)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--deadline", type=float, default=900, help="stop sending after this many s")
    ap.add_argument("--server", choices=["honbun", "mlflow"], default="honbun")
    args = ap.parse_args()

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"{args.server} server; model {args.model}; {args.requests} requests from {args.clients} clients; server: "
          f"{args.workers} workers, --timeout {args.timeout:g}, --max-body-mb {args.max_body_mb:g}, "
          f"--queue 16; {args.slow} slow pages; seed {args.seed}")  # fmt: skip
    max_body = int(args.max_body_mb * 1024 * 1024)
    requests = build_requests(args.requests, args.slow, max_body, args.seed)
    port = _free_port()
    log = open(os.devnull, "w")  # noqa: SIM115
    cmd = [sys.executable, "-m", "honbun.cli", "serve", "--model", args.model, "--port", str(port),
           "--workers", str(args.workers), "--timeout", str(args.timeout),
           "--max-body-mb", str(args.max_body_mb)]  # fmt: skip
    env = None
    if args.server == "mlflow":
        cmd, env = mlflow_command(args.model, port, args.workers, args.timeout)
    t_start = time.perf_counter()
    server = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    print("the server did not start")
                    return 1
                time.sleep(0.3)
        print(f"server up in {time.perf_counter() - t_start:.1f} s")

        work: queue.Queue = queue.Queue()
        for r in requests:
            work.put(r)
        results: list = []
        stop_at = time.monotonic() + args.deadline
        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(port, work, results, stop_at))
                   for _ in range(args.clients)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        print(f"\n{len(results)} requests in {wall:.1f} s ({len(results) / wall:.1f} requests/s)")

        print("\n| kind | requests | p50 ms | p90 ms | p99 ms | max ms | answers |")
        print("|---|---|---|---|---|---|---|")
        for kind in ("good", "malformed", "oversized", "slow"):
            rows = [r for r in results if r[0] == kind]
            if not rows:
                continue
            lat = sorted(1000 * r[2] for r in rows)
            counts: dict[str, int] = {}
            for r in rows:
                counts[str(r[1])] = counts.get(str(r[1]), 0) + 1
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
            print(f"| {kind} | {len(rows)} | {pct(lat, 50):.0f} | {pct(lat, 90):.0f} | "
                  f"{pct(lat, 99):.0f} | {lat[-1]:.0f} | {answers} |")  # fmt: skip

        if args.server == "honbun":
            with urllib.request.urlopen(f"{base}/health", timeout=10) as r:
                state = json.loads(r.read())
            print(f"\n/health: {state['status']}, {len(state['workers'])} of {state['size']} "
                  f"workers, {state['restarts']} restarts, {state['timeouts']} time-outs")  # fmt: skip
        page = {"doc_id": "s", "format": "text", "content": SEEDS[0].read_text("utf-8")}
        body = json.dumps({"dataframe_records": [page]})
        req = urllib.request.Request(f"{base}/invocations", body.encode(),
                                     {"Content-Type": "application/json"})  # fmt: skip
        t1 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                ok = r.status == 200 and "error" not in json.loads(r.read())["predictions"][0]
        except OSError as exc:
            ok, req = False, exc
        print(
            f"still answers a good request at the end: {'yes' if ok else f'NO ({req})'} "
            f"({time.perf_counter() - t1:.2f} s)"
        )
        time.sleep(2)  # replacement workers finish loading
        before = cpu_seconds(server.pid)
        time.sleep(3)
        print(f"CPU used by the server's processes in 3 s of quiet: "
              f"{cpu_seconds(server.pid) - before:.2f} s")  # fmt: skip
    finally:
        # SIGTERM to the server's process group; how long until all of it is gone (a
        # server that finishes its requests first waits for the slow pages), SIGKILL at 30 s.
        t_stop = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        while _group_alive(server) and time.perf_counter() - t_stop < 30:
            time.sleep(0.1)
        stopped = time.perf_counter() - t_stop
        if _group_alive(server):
            os.killpg(server.pid, signal.SIGKILL)
            print("the server's processes were still running 30 s after SIGTERM: killed")
        else:
            print(f"the server's processes ended {stopped:.1f} s after SIGTERM")
        server.wait()
        log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
