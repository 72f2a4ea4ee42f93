"""``honbun score``: pages in, JSON Lines of results (or the clean article as text) out."""

from __future__ import annotations

import argparse

from honbun.cli import inputs as cli_inputs


def run(args: argparse.Namespace) -> int:
    import sys
    from contextlib import nullcontext

    from honbun.errors import PageError
    from honbun.progress import Stage
    from honbun.read.files import load_page
    from honbun.read.warc import WarcStats, is_warc, iter_warc
    from honbun.scoring.batch import score_stream
    from honbun.scoring.model import load_model
    from honbun.scoring.outputs import RECORD_FORMATS, open_results, output_format
    from honbun.scoring.render import render

    try:
        model = load_model(args.model, _labels(args.labels))
    except Exception as exc:
        print(f"honbun: error: {exc}", file=sys.stderr)
        return 2

    paths = cli_inputs.page_paths(args)
    if not paths:
        print("honbun: error: no pages to score among the inputs", file=sys.stderr)
        return 1
    warcs = {p for p in paths if is_warc(p)}
    fmt = output_format(args.format, args.output)
    stats = WarcStats()

    def items(stats: WarcStats = stats):
        for path in paths:
            if path == "-":
                try:
                    yield load_page("-")
                except PageError as exc:
                    yield str(exc)
            elif path in warcs:  # each page of a crawl, one record at a time
                yield from iter_warc(path, stats)
            else:
                yield path

    inputs = items()
    if args.body_only:
        model = model.as_body_only()
    if args.site_context:  # every input is read twice: first to count each site's blocks
        if "-" in paths:  # standard input can be read once only
            listed = list(inputs)
            model = model.with_site_context(listed)
            inputs = iter(listed)
        else:  # read again, not kept: a crawl does not fit in memory
            model = model.with_site_context(items(WarcStats()))
    try:
        sink = open_results(fmt, args.output, model)
    except ValueError as exc:
        print(f"honbun: error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    # A bar on a terminal's stderr for many inputs; never a line in the output stream.
    total = None if warcs else len(paths)
    bar = Stage("scoring", total, "page", lines=False) if total != 1 else nullcontext()
    with sink, bar as stage:
        try:
            for res in score_stream(
                model, inputs, jobs=args.jobs, explain=args.explain, fail_fast=args.fail_fast
            ):
                if stage is not None:
                    stage.update()
                if "error" in res:
                    failed += 1
                    print(f"honbun: error: {res['source']}: {res['error']}", file=sys.stderr)
                if fmt in RECORD_FORMATS:
                    sink.write(res)
                elif "error" not in res:
                    sink.write_text(render(res, fmt))
        except PageError as exc:
            print(f"honbun: error: {exc} (--fail-fast: stopped)", file=sys.stderr)
            return 1
    if warcs:
        print(f"honbun: WARC: {stats.summary()}", file=sys.stderr)
    if failed:
        print(f"honbun: {failed} input(s) failed", file=sys.stderr)
    return 1 if failed else 0


def _labels(path: str | None):
    if not path:
        return None
    from honbun.labels import load_labels

    return load_labels(path)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``honbun score`` to the ``honbun`` parser."""
    from honbun.scoring.outputs import FORMATS

    p = sub.add_parser(
        "score",
        help="score pages: blocks, clean article text, topics (JSON Lines)",
        description="Score pages (files, directories, WARC crawls, or - for stdin) with a "
        "trained model. Results stream in input order; a page that fails gets an error "
        "record, and so does a broken WARC record.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    cli_inputs.add_arguments(p)
    p.add_argument("--model", default="models/default", help="model directory or MLflow URI")
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="jsonl (default), text, markdown, html (a review page) or parquet (one row "
        "per page); without it, -o's suffix (.html, .parquet) decides",
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes (order is kept)")
    p.add_argument("-o", "--output", help="write here (atomically) instead of stdout")
    p.add_argument("--explain", action="store_true", help="terms behind each topic label")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failing page")
    p.add_argument("--labels", help="refuse a model trained on another label config")
    p.add_argument(
        "--body-only",
        action="store_true",
        help="the inputs are article text already (one paragraph per line, no navigation): "
        "every block is body, only the topics are scored",
    )
    p.add_argument(
        "--site-context",
        action="store_true",
        help="read all inputs first and count which block texts repeat across each site's "
        "pages (site: canonical URL host), so a site's boilerplate is recognised; a page's "
        "result then depends on the other inputs",
    )
    p.set_defaults(handler=run)
