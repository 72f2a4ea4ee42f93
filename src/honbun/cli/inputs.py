"""The inputs of ``honbun score`` and ``honbun segment``: files, directories (walked), ``-``.

A directory walk says what it leaves out: one summary line on stderr with a count per
reason, and with ``--verbose`` one line per skipped file. ``--glob PATTERN`` picks the
pages of a directory by name instead of the defaults of
:func:`honbun.read.files.page_or_skip`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

# How the summary line names each kind of skipped file (honbun.read.files.Skipped.kind).
KIND_WORDS = {
    "hidden": "hidden",
    "asset": "images, styles or scripts",
    "notes": "notes or data (README, *.md, *.gold.txt, *.json …)",
    "glob": "not matching --glob",
    "binary": "binary",
    "empty": "empty",
    "data": "JSON or XML data",
    "undecodable": "not text",
    "unreadable": "unreadable",
    "special": "not regular files",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--glob`` and ``--verbose`` to a command that reads pages."""
    p.add_argument(
        "--glob",
        action="append",
        metavar="PATTERN",
        help="in directories, read the files whose name (or path inside the directory) "
        "matches this shell pattern, e.g. '*.php' (repeatable; replaces the default: page "
        "suffixes and files whose content is HTML or text, without notes such as README, "
        "*.md, *.gold.txt, *.json)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="name each file a directory walk skips"
    )


def page_paths(args: argparse.Namespace) -> list[str]:
    """The pages to read, in order; what the walk skipped is reported on stderr."""
    from honbun.read.files import Skipped, walk_paths

    paths: list[str] = []
    kinds: Counter[str] = Counter()
    for item in walk_paths(args.paths, args.glob or ()):
        if isinstance(item, Skipped):
            kinds[item.kind] += 1
            if args.verbose:
                print(f"honbun: skipped {item.path}: {item.reason}", file=sys.stderr)
        else:
            paths.append(item)
    if kinds:
        counts = ", ".join(f"{n:,} {KIND_WORDS.get(k, k)}" for k, n in kinds.most_common())
        hint = "" if args.verbose else " (--verbose names them)"
        print(f"honbun: skipped {kinds.total():,} file(s): {counts}{hint}", file=sys.stderr)
    return paths
