"""Subcommands beyond ``segment``; each imports its heavy modules only when it runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _data(args: argparse.Namespace) -> int:
    from honbun import datatools as dt

    if args.data_command == "init":
        made = dt.init_pages(Path(args.manifest), Path(args.out))
        print(f"created {made} annotation headers")
        return 0
    if args.data_command == "sample-livedoor":
        n = dt.sample_livedoor(Path(args.archive), Path(args.out), args.n, args.seed)
        print(f"sampled {n} livedoor sentences into {args.out}")
        return 0
    if args.data_command == "export":
        return dt.cmd_export(args.targets, args.what, args.output)
    if args.data_command == "import":
        return dt.cmd_import(Path(args.tsv), args.reviewer, args.notes)
    if args.data_command == "validate":
        return dt.cmd_validate(args.files, args.labels)
    if args.data_command == "stats":
        from honbun.labels import load_labels

        st = dt.stats(load_labels(args.labels))
        print(json.dumps(st, ensure_ascii=False, indent=1) if args.json else dt.format_stats(st))
        return 0
    return 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the remaining subcommands to the ``honbun`` parser."""
    d = sub.add_parser("data", help="annotation tools: init, export, import, validate, stats")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    p = dsub.add_parser("init", help="create annotation headers (with provenance) from a manifest")
    p.add_argument("--manifest", default="data/raw/pages/manifest.jsonl")
    p.add_argument("--out", default="data/annotations")
    p = dsub.add_parser(
        "sample-livedoor", help="pick keyword sentences from the livedoor corpus to annotate"
    )
    p.add_argument("--archive", default="data/raw/livedoor/ldcc-20140209.tar.gz")
    p.add_argument("--out", default="data/annotations/livedoor")
    p.add_argument("-n", type=int, default=520)
    p.add_argument("--seed", type=int, default=13)
    p = dsub.add_parser(
        "export",
        help="write a page's blocks or sentences as an editable TSV, pre-filled with "
        "gold labels where they exist, else the model's or heuristic predictions",
    )
    p.add_argument("targets", nargs="+", help="annotation files or doc ids")
    p.add_argument("--what", choices=["blocks", "topics"], default="blocks")
    p.add_argument("-o", "--output")
    p = dsub.add_parser("import", help="read a corrected TSV back into its annotation file")
    p.add_argument("tsv")
    p.add_argument("--reviewer", help="mark the document reviewed by this annotator")
    p.add_argument("--notes", default="")
    p = dsub.add_parser("validate", help="check annotation files against the current segmentation")
    p.add_argument("files", nargs="*")
    p.add_argument("--labels", default="data/labels.toml")
    p = dsub.add_parser("stats", help="counts per label, role, source, publisher, topic")
    p.add_argument("--labels", default="data/labels.toml")
    p.add_argument("--json", action="store_true")
    for p in dsub.choices.values():
        p.set_defaults(handler=_data)
