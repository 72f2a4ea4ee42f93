"""``honbun serve``: the scorer over HTTP, speaking MLflow's ``/invocations`` protocol.

``POST /invocations`` takes ``{"dataframe_split": …}`` or ``{"dataframe_records": […]}``
(see :mod:`honbun.serve.protocol`) and answers ``{"predictions": [<result>, …]}``, the same
JSON as ``honbun score``. ``GET /ping`` answers 200 while the server runs; ``GET /health``
shows the workers, restarts and time-outs (503 when no worker is up). Errors are JSON,
``{"error_code": …, "message": …}``, as MLflow's:

- 400 the body is not JSON, or not such a request; 415 it is not ``application/json``;
- 413 the body is larger than ``max_body`` (refused on its Content-Length, unread; a
  chunked body when it passes the limit); 408 it did not arrive within the time limit;
- 503 every worker stayed busy for the time limit, or ``queue`` requests already wait;
- 504 scoring took longer than the time limit: its worker was killed (the work stops) and
  a new one started; 500 the worker died or failed.

Starlette on uvicorn (h11), which MLflow already brings: its HTTP/1.1 parser, keep-alive
and graceful shutdown are kept, and the scoring runs in :mod:`honbun.serve.workers`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from honbun.serve.protocol import BadRequest, parse_invocation
from honbun.serve.workers import Busy, TimedOut, WorkerFailed, WorkerPool

MiB = 1024 * 1024


@dataclass
class Limits:
    timeout: float = 60.0  # s per request, in a worker; also for the body to arrive
    max_body: int = 16 * MiB  # a page is at most 8 MiB, and JSON's escapes add to it
    queue: int = 16  # requests waiting for a worker beyond those being scored


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status, headers=headers)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, but no more than ``limit`` bytes of it (a chunked body has no length)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        parts.append(chunk)
    return b"".join(parts)


def build_app(pool: WorkerPool, limits: Limits) -> Starlette:
    """The ASGI app over ``pool``."""
    in_flight = 0

    async def invocations(request: Request) -> Response:
        nonlocal in_flight
        kind = request.headers.get("content-type", "")
        if kind.split(";")[0].strip().lower() != "application/json":
            return _error(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Content-Type must be application/json, not {kind or 'none'!r}",
            )
        length = request.headers.get("content-length")
        too_large = f"request body over the limit of {limits.max_body:,} bytes"
        close = {"Connection": "close"}  # the unread rest of the body ends the connection
        if length is not None and (not length.isdigit() or int(length) > limits.max_body):
            return _error(413, "REQUEST_TOO_LARGE", f"{too_large}: {length}", **close)
        try:
            with anyio.fail_after(limits.timeout):
                body = await _read_body(request, limits.max_body)
        except _TooLarge:
            return _error(413, "REQUEST_TOO_LARGE", too_large, **close)
        except TimeoutError:
            return _error(408, "REQUEST_TIMEOUT", "the body did not arrive in time", **close)
        try:
            call = parse_invocation(body)
        except BadRequest as exc:
            return _error(400, "BAD_REQUEST", str(exc))
        if in_flight >= pool.size + limits.queue:
            return _error(503, "BUSY", f"{in_flight} requests in progress", **{"Retry-After": "1"})
        in_flight += 1
        try:
            predictions = await anyio.to_thread.run_sync(
                pool.score, call.rows, call.site_context, call.body_only, abandon_on_cancel=True
            )
        except Busy as exc:
            return _error(503, "BUSY", str(exc), **{"Retry-After": "1"})
        except TimedOut as exc:
            return _error(504, "TIMEOUT", str(exc))
        except WorkerFailed as exc:
            return _error(500, "INTERNAL_ERROR", str(exc))
        finally:
            in_flight -= 1
        return JSONResponse({"predictions": predictions})

    async def ping(request: Request) -> Response:
        return Response("\n", media_type="text/plain")

    async def health(request: Request) -> Response:
        state = pool.state()
        state |= {"in_flight": in_flight, "timeout_s": limits.timeout, "max_body": limits.max_body}
        state["status"] = "ok" if state["workers"] else "no worker"
        return JSONResponse(state, 200 if state["workers"] else 503)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "BAD_REQUEST")
        return _error(exc.status_code, code, f"{request.method} {request.url.path}: {exc.detail}")

    return Starlette(
        routes=[
            Route("/invocations", invocations, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
    )


def serve(
    model: str,
    host: str = "127.0.0.1",
    port: int = 5001,
    workers: int = 2,
    limits: Limits | None = None,
    labels: Any = None,
) -> None:
    """Load the model in ``workers`` processes, then answer on ``host:port`` until stopped."""
    import uvicorn

    limits = limits or Limits()
    pool = WorkerPool(model, workers, limits.timeout, labels)
    try:
        print(
            f"honbun serve: {pool.name} from {model} on http://{host}:{port} "
            f"({workers} workers, time limit {limits.timeout:g} s, "
            f"body limit {limits.max_body:,} bytes)",
            file=sys.stderr,
            flush=True,
        )
        config = uvicorn.Config(
            build_app(pool, limits),
            host=host,
            port=port,
            log_level="warning",
            # A request a worker is scoring still gets its answer when the server stops.
            timeout_graceful_shutdown=int(limits.timeout) + 5,
        )
        uvicorn.Server(config).run()
    finally:
        pool.close()
