"""``honbun serve``: the scorer as a REST server (MLflow's ``/invocations`` protocol), in
worker processes whose requests are stopped at the time limit (the library is
:mod:`honbun.serve.rest`)."""

from __future__ import annotations

import argparse
import os
import sys


def run(args: argparse.Namespace) -> int:
    from honbun.serve.rest import Limits, MiB, serve

    for name in ("workers", "timeout", "max_body_mb"):
        if getattr(args, name) <= 0:
            print(f"honbun: error: --{name.replace('_', '-')} must be positive", file=sys.stderr)
            return 2
    if args.queue < 0:
        print("honbun: error: --queue must be 0 or more", file=sys.stderr)
        return 2
    labels = None
    if args.labels:
        from honbun.labels import load_labels

        labels = load_labels(args.labels)
    limits = Limits(args.timeout, int(args.max_body_mb * MiB), args.queue)
    try:
        serve(args.model, args.host, args.port, args.workers, limits, labels)
    except (OSError, RuntimeError) as exc:
        print(f"honbun: error: {exc}", file=sys.stderr)
        return 2
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``honbun serve`` to the ``honbun`` parser."""
    p = sub.add_parser(
        "serve",
        help="score pages over REST (POST /invocations, as `mlflow models serve`)",
        description='Answer POST /invocations ({"dataframe_split": …} or '
        '{"dataframe_records": […]}, params site_context) with {"predictions": […]}, '
        "the JSON of `honbun score`; GET /ping and /health. Each request is scored in a "
        "worker process, which is killed and replaced when it overruns --timeout (504).",
    )
    p.add_argument("--model", default="models/default", help="model directory or MLflow URI")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=5001)
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="scoring processes (one a core)"
    )
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds a request may take (then 504)"
    )
    p.add_argument("--max-body-mb", type=float, default=16.0, help="larger request bodies get 413")
    p.add_argument(
        "--queue", type=int, default=16, help="requests that may wait for a worker (then 503)"
    )
    p.add_argument("--labels", help="refuse a model trained on another label config")
    p.set_defaults(handler=run)
