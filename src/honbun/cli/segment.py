"""``honbun segment``: pages in, their blocks and sentences (JSON Lines) out."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from honbun.jsonl import JsonlSink
    from honbun.read.files import iter_pages

    failed = 0
    with JsonlSink(args.output) as sink:
        for item in iter_pages(args.paths):
            if isinstance(item, Exception):
                print(f"honbun: error: {item}", file=sys.stderr)
                failed += 1
                continue
            sink.write(item.to_json(sentences=not args.no_sentences))
    if failed:
        print(f"honbun: {failed} input(s) failed", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``honbun segment`` to the ``honbun`` parser."""
    p = sub.add_parser(
        "segment",
        help="split pages into blocks and sentences (JSON Lines)",
        description="Load pages (.txt dumps, .html; directories are walked; - reads stdin) "
        "and write one JSON object per page with blocks and sentences and their offsets.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="page files, directories, or -")
    p.add_argument("-o", "--output", help="write here (atomically) instead of stdout")
    p.add_argument("--no-sentences", action="store_true", help="omit the sentences")
    p.set_defaults(handler=run)
