"""The ``honbun`` command line: one module per command group, each a thin layer that
parses its arguments and calls the library.

Start-up is kept fast (``--help`` in well under 0.5 s): only argparse and the standard
library are imported here; each subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from honbun.atomic import WriteError
from honbun.version import __version__

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="honbun",
        description="Segment Japanese news pages, separate article body from boilerplate, "
        "tag topics, train and compare models.",
    )
    parser.add_argument("--version", action="version", version=f"honbun {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from honbun.cli import data, runs, score, segment, serve, spark, train

    for group in (segment, score, train, runs, serve, spark, data):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        with _sigterm_stops():
            return handler(args)
    except BrokenPipeError:
        return 0
    except WriteError as exc:  # -o into a read-only or missing place: say which file
        print(f"honbun: error: {exc}", file=sys.stderr)
        return 1
    except Terminated:
        print("honbun: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("honbun: interrupted", file=sys.stderr)
        return 130


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so it unwinds like Ctrl-C."""


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """Turn SIGTERM (``kill``, a scheduler or CI timeout) into :class:`Terminated`.

    The default action ends the process on the spot: a temp file that ``-o`` or a model
    save was writing stays behind, and the cross-validation's worker processes (loky)
    keep running, orphaned, for minutes. Raised as an exception, the signal unwinds the
    command instead: temp files are removed and the workers are shut down. Only the main
    thread can set a handler; the previous one is restored after the command.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated
