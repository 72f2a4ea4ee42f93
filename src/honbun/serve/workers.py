"""Worker processes that score requests, each under a time limit that really stops it.

A request is sent to an idle worker (a process that has loaded the model); when the
worker has not answered within the time limit it is killed and a new one is started in
its place, so the work stops: a thread cannot be stopped in Python, and MLflow's server
answers 504 but keeps scoring the page until it is done (minutes of a core for a 6.5 MB
page). Workers are forked from a fork server that has imported the scoring code, so a
replacement costs the model load alone; each runs its native thread pools on one thread,
since the workers use the cores.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from honbun.scoring.model import load_model
from honbun.serve.rows import score_rows

START_TIMEOUT_S = 300  # loading a model: seconds normally; a cold disk or a busy machine


class Busy(Exception):
    """No worker came free in time."""


class TimedOut(Exception):
    """The worker did not answer in time; it was killed."""


class WorkerFailed(Exception):
    """The worker died (out of memory, a crash) or raised; it was replaced."""


@dataclass
class _Worker:
    process: Any
    conn: Connection


def _worker_main(conn: Connection, model: str, labels: Any) -> None:
    """A worker: load the model, then score each request it is sent until the pipe closes."""
    # Ctrl-C in the server's terminal reaches the whole process group: the server stops
    # its workers itself. SIGTERM (the server's kill on shutdown) ends a worker at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)  # the other workers use the other cores
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        pass
    try:
        scorer = load_model(model, labels)
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", scorer.name))
    while True:
        try:
            rows, site_context, body_only = conn.recv()
        except (EOFError, OSError):  # the server has gone: so does the worker
            return
        try:
            conn.send(("ok", score_rows(scorer, rows, site_context, body_only)))
        except Exception as exc:  # one request's failure is its own 500, not the worker's end
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class WorkerPool:
    """``workers`` processes of the model at ``model`` (a directory, or an MLflow URI
    fetched once here); :meth:`score` runs one request on one of them."""

    def __init__(self, model: str, workers: int, timeout: float, labels: Any = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.model = _local_model(model)
        self.labels = labels
        self.timeout = timeout
        self.size = workers
        self.name = ""
        self.restarts = 0
        self.timeouts = 0
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._busy: set[int] = set()
        self._all: dict[int, _Worker] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._ctx = mp.get_context("forkserver")
        # Imported once in the fork server: a worker forked from it loads the model only.
        self._ctx.set_forkserver_preload([__name__])
        started: list[_Worker] = []
        try:
            started += [self._spawn() for _ in range(workers)]  # they load the model together
            for worker in started:
                self._add(self._ready(worker))
        except BaseException:
            for worker in started:
                self._kill(worker)
            self.close()
            raise

    # ------------------------------------------------------------ life of workers
    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main, args=(child, self.model, self.labels), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _ready(self, worker: _Worker) -> _Worker:
        """``worker`` once it has loaded the model; raise (and kill it) if it cannot."""
        if not worker.conn.poll(START_TIMEOUT_S):
            self._kill(worker)
            raise RuntimeError(
                f"{self.model}: a worker did not load the model in {START_TIMEOUT_S} s"
            )
        try:
            status, detail = worker.conn.recv()
        except (EOFError, OSError):
            status, detail = "failed", f"the worker exited (status {worker.process.exitcode})"
        if status != "ready":
            self._kill(worker)
            raise RuntimeError(f"{self.model}: {detail}")
        self.name = detail
        return worker

    def _add(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed:
                self._kill(worker)
                return
            self._all[worker.process.pid] = worker
        self._idle.put(worker)

    def _kill(self, worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            worker.process.kill()  # SIGKILL: a worker deep in a page takes no polite signal
        worker.process.join(10)
        worker.conn.close()

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` now; start its successor in the background (the answer to the
        request does not wait for a model to load)."""
        with self._lock:
            self._all.pop(worker.process.pid, None)
            self.restarts += 1
        self._kill(worker)

        def start() -> None:
            delay = 1.0
            while not self._closed:
                try:
                    self._add(self._ready(self._spawn()))
                    return
                except Exception as exc:  # e.g. the model folder was removed: say so, retry
                    print(f"honbun serve: cannot start a worker: {exc}", file=sys.stderr)
                    time.sleep(delay)
                    delay = min(delay * 2, 60)

        threading.Thread(target=start, name="honbun-worker-start", daemon=True).start()

    # ------------------------------------------------------------ requests
    def score(
        self,
        rows: list[dict[str, Any]],
        site_context: bool,
        body_only: bool = False,
        wait: float | None = None,
    ) -> list[dict[str, Any]]:
        """The results of one request's rows, scored in one worker within the time limit.

        Raise :class:`Busy` when no worker is free within ``wait`` seconds (default: the
        time limit), :class:`TimedOut` when the worker overran (it is killed and replaced)
        and :class:`WorkerFailed` when it died or raised.
        """
        wait = self.timeout if wait is None else wait
        deadline = time.monotonic() + wait
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Busy(f"no worker came free within {wait:g} s") from None
            if worker.process.is_alive():
                break
            self._replace(worker)  # died while idle (the kernel's OOM killer, a kill -9)
        pid = worker.process.pid
        with self._lock:
            self._busy.add(pid)
        try:
            try:
                worker.conn.send((rows, site_context, body_only))
                answered = worker.conn.poll(self.timeout)
                reply = worker.conn.recv() if answered else None
            except (EOFError, OSError) as exc:
                self._replace(worker)
                code = worker.process.exitcode
                raise WorkerFailed(f"the worker died (exit status {code})") from exc
            if reply is None:
                with self._lock:
                    self.timeouts += 1
                self._replace(worker)
                raise TimedOut(f"scoring took more than {self.timeout:g} s; it was stopped")
            self._idle.put(worker)
        finally:
            with self._lock:
                self._busy.discard(pid)
        status, payload = reply
        if status != "ok":
            raise WorkerFailed(payload)
        return payload  # type: ignore[no-any-return]

    def state(self) -> dict[str, Any]:
        """What ``/health`` shows: the workers (pid, busy), restarts and time-outs."""
        with self._lock:
            workers = [
                {"pid": pid, "busy": pid in self._busy}
                for pid, w in sorted(self._all.items())
                if w.process.is_alive()
            ]
            return {
                "model": self.name,
                "workers": workers,
                "size": self.size,
                "restarts": self.restarts,
                "timeouts": self.timeouts,
            }

    def close(self) -> None:
        """Stop every worker (their requests, if any, get no answer)."""
        with self._lock:
            self._closed = True
            workers = list(self._all.values())
            self._all.clear()
        for worker in workers:
            self._kill(worker)


def _local_model(model: str) -> str:
    """A model directory: an MLflow URI is fetched once here, not by every worker."""
    if model.startswith(("models:/", "runs:/", "mlflow-artifacts:", "file://")):
        from honbun.scoring.registry import download_bundle

        return str(download_bundle(model))
    if not os.path.isdir(model):
        raise FileNotFoundError(f"{model}: no such model directory")
    return model
