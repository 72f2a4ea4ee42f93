"""``honbun segment``: pages in, their blocks and sentences (JSON Lines) out."""

from __future__ import annotations

import argparse
import sys

from honbun.cli import inputs as cli_inputs


def run(args: argparse.Namespace) -> int:
    from honbun.jsonl import JsonlSink
    from honbun.read.files import load_page
    from honbun.scoring.batch import guarded

    paths = cli_inputs.page_paths(args)
    if not paths:
        print("honbun: error: no pages to segment among the inputs", file=sys.stderr)
        return 1
    failed = 0
    with JsonlSink(args.output) as sink:
        for path in paths:
            # Read and split under the per-page time limit, like `honbun score`.
            record = guarded(
                path, lambda path=path: load_page(path).to_json(sentences=not args.no_sentences)
            )
            if "error" in record:
                print(f"honbun: error: {record['source']}: {record['error']}", file=sys.stderr)
                failed += 1
                continue
            sink.write(record)
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
    cli_inputs.add_arguments(p)
    p.add_argument("-o", "--output", help="write here (atomically) instead of stdout")
    p.add_argument("--no-sentences", action="store_true", help="omit the sentences")
    p.set_defaults(handler=run)
