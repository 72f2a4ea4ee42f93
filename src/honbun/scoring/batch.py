"""Scoring many pages: in order, in parallel worker processes, with bounded memory.

Pages are scored in chunks of ``CHUNK_PAGES``, with or without workers: each page is read
and featurised alone, then the models run once over the chunk (a page still gets
exactly what scoring it alone gives; one model call per page cost more in numpy call
overhead than in arithmetic). A result is therefore yielded when its chunk is done.

Each worker process loads the model once (its initializer) and builds its own fugashi
Tagger on first use (Taggers do not pickle). Chunks are also the messages (one each way
per chunk, not per page: scoring a page takes ~8 ms, and per-page messages kept the
parent busy enough to cost the workers CPU on a 2-core machine). At
most ``IN_FLIGHT_PER_JOB × jobs`` chunks are queued at any time, so memory does not grow
with the number of inputs, and results come back in input order. A page that fails or
exceeds ``PAGE_TIMEOUT_S`` becomes an error record; ``fail_fast`` raises instead.

Scoring runs with native thread pools (BLAS) limited to one thread: a page is a few
dozen rows, and ``jobs`` worker processes already use the cores. Results do not change.
"""

from __future__ import annotations

import collections
import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from honbun.errors import PageError
from honbun.read.page import Page

CHUNK_PAGES = 16  # pages scored together, and per message between the parent and a worker
IN_FLIGHT_PER_JOB = 2  # chunks queued per worker: enough to keep it busy
PAGE_TIMEOUT_S = 60  # a pathological page (deep or huge markup) must not stall a batch

_WORKER_MODEL: Any = None  # set once per worker process by _init_worker
_CONTROLLER: Any = None  # threadpoolctl controller, built on first use (after the model)


class PageTimeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise PageTimeout(f"timed out after {PAGE_TIMEOUT_S} s")


def guarded(source: str, fn: Callable[[], Any]) -> Any:
    """``fn()`` under the per-page time limit; a failure becomes an error record."""
    from honbun.scoring.results import error_result

    use_alarm = threading.current_thread() is threading.main_thread()
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(PAGE_TIMEOUT_S)
    try:
        return fn()
    except PageError as exc:
        return error_result(exc)
    except (PageTimeout, Exception) as exc:  # one bad page never stops the batch
        return error_result(PageError(source, f"{type(exc).__name__}: {exc}"))
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)


def _score_chunk(
    model: Any, chunk: list[Page | PageError | str], explain: bool
) -> list[dict[str, Any]]:
    """Results of a chunk of pages, in order.

    A PageError (an input a reader could not make a page of, such as a broken WARC
    record) is its own error record. A page that fails keeps its doc id in the record.
    Each page is read and featurised on its own (its own time limit and error record);
    then the models score the chunk's prepared pages in one go, which gives each page
    what scoring it alone gives. Should that fail, the pages are scored one by one, so
    only the page at fault gets an error record.
    """
    from honbun.scoring.results import error_result

    out: list[Any] = []
    for item in chunk:
        if isinstance(item, PageError):
            out.append(error_result(item))
            continue
        source = item.source if isinstance(item, Page) else str(item)
        out.append(guarded(source, lambda item=item: model.prepare(item)))
    ready = [k for k, x in enumerate(out) if not isinstance(x, dict)]
    if ready:
        scored = guarded("", lambda: model.score_prepared([out[k] for k in ready], explain))
        if isinstance(scored, dict):  # an error record: find the page at fault
            scored = [
                guarded(out[k].page.source, lambda k=k: model.score_prepared([out[k]], explain)[0])
                for k in ready
            ]
        for k, res in zip(ready, scored, strict=True):
            out[k] = res
    for item, res in zip(chunk, out, strict=True):
        if isinstance(item, Page) and "error" in res:
            res["doc_id"] = item.doc_id  # not a name derived from the source
    return out


def _single_threaded() -> contextlib.AbstractContextManager[Any]:
    """Native thread pools limited to one thread inside the block (restored after)."""
    global _CONTROLLER
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return contextlib.nullcontext()
    if _CONTROLLER is None:  # scanning the loaded libraries is slow: once per process
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)  # type: ignore[no-any-return]


def _init_worker(model: Any) -> None:
    global _WORKER_MODEL
    import signal

    # A forked worker inherits the CLI's SIGTERM handler; the parent's Pool.terminate()
    # stops workers by SIGTERM, and they need no unwinding (the parent writes the output).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    _WORKER_MODEL = model  # forked: the parent's Model, bundle and site context, not pickled
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)  # for the life of the worker: the pool uses the cores
    except ImportError:  # pragma: no cover
        pass


def _work(args: tuple[list[Page | PageError | str], bool]) -> list[dict[str, Any]]:
    chunk, explain = args
    return _score_chunk(_WORKER_MODEL, chunk, explain)


def _chunks(
    items: Iterable[Page | PageError | str | Path], size: int
) -> Iterator[list[Page | PageError | str]]:
    chunk: list[Page | PageError | str] = []
    for item in items:
        chunk.append(item if isinstance(item, (Page, PageError)) else str(item))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_stream(
    model: Any,
    items: Iterable[Page | PageError | str | Path],
    jobs: int = 1,
    explain: bool = False,
    fail_fast: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield one result per item (a page, a path, or a reader's PageError), in input order."""
    if jobs <= 1:
        for chunk in _chunks(items, CHUNK_PAGES):
            with _single_threaded():
                results = _score_chunk(model, chunk, explain)
            yield from _checked(results, fail_fast)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(model,)) as pool:
        pending: collections.deque[Any] = collections.deque()
        limit = IN_FLIGHT_PER_JOB * jobs
        for chunk in _chunks(items, CHUNK_PAGES):
            pending.append(pool.apply_async(_work, ((chunk, explain),)))
            if len(pending) >= limit:
                yield from _checked(pending.popleft().get(), fail_fast)
        while pending:
            yield from _checked(pending.popleft().get(), fail_fast)


def _checked(results: list[dict[str, Any]], fail_fast: bool) -> Iterator[dict[str, Any]]:
    for res in results:
        if fail_fast and "error" in res:
            raise PageError(res["source"], res["error"])
        yield res
