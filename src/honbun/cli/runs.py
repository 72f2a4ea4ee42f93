"""``honbun runs`` and ``honbun promote``: compare MLflow runs and choose the champion."""

from __future__ import annotations

import argparse


def _runs(args: argparse.Namespace) -> int:
    from honbun.experiment import tracking

    if args.run_ids:
        if args.run_ids[0] != "compare" or len(args.run_ids) < 3:
            print("usage: honbun runs [compare RUN RUN...]")
            return 2
        print(tracking.compare_runs(args.run_ids[1:]))
        return 0
    print(tracking.format_runs(tracking.list_runs(args.limit)))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from honbun.experiment import tracking

    print(tracking.promote(args.run_id, force=args.force))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``honbun runs`` and ``honbun promote`` to the ``honbun`` parser."""
    p = sub.add_parser("runs", help="list MLflow runs, or `runs compare RUN RUN...`")
    p.add_argument("run_ids", nargs="*", metavar="compare RUN")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(handler=_runs)

    p = sub.add_parser("promote", help="set the registered model's champion alias to a run")
    p.add_argument("run_id")
    p.add_argument("--force", action="store_true", help="promote even if its metric is lower")
    p.set_defaults(handler=_promote)
