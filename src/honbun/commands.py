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
    if args.data_command == "init-articles":
        select = dict(kv.split("=", 1) for kv in args.select)
        made = dt.init_articles(Path(args.file), Path(args.out), select, args.sample, args.seed)
        print(f"created {made} annotation headers")
        return 0
    if args.data_command == "sample-livedoor":
        n = dt.sample_livedoor(Path(args.archive), Path(args.out), args.n, args.seed)
        print(f"sampled {n} livedoor sentences into {args.out}")
        return 0
    if args.data_command == "export":
        return dt.cmd_export(args.targets, args.what, args.output, args.blank)
    if args.data_command == "agree":
        return dt.cmd_agree(args.tsvs)
    if args.data_command == "import":
        return dt.cmd_import(Path(args.tsv), args.reviewer, args.notes)
    if args.data_command == "migrate":
        return dt.cmd_migrate(args.files)
    if args.data_command == "validate":
        return dt.cmd_validate(args.files, args.labels)
    if args.data_command == "stats":
        from honbun.labels import load_labels

        st = dt.stats(load_labels(args.labels))
        print(json.dumps(st, ensure_ascii=False, indent=1) if args.json else dt.format_stats(st))
        return 0
    return 2


def _train(args: argparse.Namespace) -> int:
    from honbun.experiment import load_experiment
    from honbun.train import run

    exp = load_experiment(args.config)
    summary = run(exp, Path(args.models), Path(args.runs), track=not args.no_track)
    m = summary["metrics"]
    print(f"model: {summary['model']}")
    print(f"report: {summary['run_dir']}")
    if "run_id" in summary:
        print(
            f"mlflow run: {summary['run_id']} (registered as {summary['registered_model']} "
            f"v{summary['model_version']})"
        )
    for key in sorted(m):
        if not key.startswith("bp.") or ".char3_f1_macro" in key or ".block_f1" in key:
            print(f"  {key:55s} {m[key]:.4f}")
    return 0


def _score(args: argparse.Namespace) -> int:
    import sys

    from honbun.batch import score_stream
    from honbun.errors import PageError
    from honbun.loaders import expand_paths, load_page
    from honbun.output import JsonlSink
    from honbun.render import render
    from honbun.scoring import load_model

    try:
        model = load_model(args.model, _labels(args.labels))
    except Exception as exc:
        print(f"honbun: error: {exc}", file=sys.stderr)
        return 2

    def items():
        for path in expand_paths(args.paths):
            if path == "-":
                try:
                    yield load_page("-")
                except PageError as exc:
                    yield str(exc)
            else:
                yield path

    inputs = items()
    if args.site_context:  # every input is read twice: first to count each site's blocks
        listed = list(inputs)
        model = model.with_site_context(listed)
        inputs = iter(listed)
    failed = 0
    with JsonlSink(args.output) as sink:
        try:
            for res in score_stream(
                model, inputs, jobs=args.jobs, explain=args.explain, fail_fast=args.fail_fast
            ):
                if "error" in res:
                    failed += 1
                    print(f"honbun: error: {res['source']}: {res['error']}", file=sys.stderr)
                if args.format == "jsonl":
                    sink.write(res)
                elif "error" not in res:
                    sink.write_text(render(res, args.format))
        except PageError as exc:
            print(f"honbun: error: {exc} (--fail-fast: stopped)", file=sys.stderr)
            return 1
    if failed:
        print(f"honbun: {failed} input(s) failed", file=sys.stderr)
    return 1 if failed else 0


def _labels(path: str | None):
    if not path:
        return None
    from honbun.labels import load_labels

    return load_labels(path)


def _evaluate(args: argparse.Namespace) -> int:
    from honbun.evaluate import evaluate_saved

    report = evaluate_saved(Path(args.model), Path(args.annotations), args.labels)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


def _runs(args: argparse.Namespace) -> int:
    from honbun import tracking

    if args.run_ids:
        if args.run_ids[0] != "compare" or len(args.run_ids) < 3:
            print("usage: honbun runs [compare RUN RUN...]")
            return 2
        print(tracking.compare_runs(args.run_ids[1:]))
        return 0
    print(tracking.format_runs(tracking.list_runs(args.limit)))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from honbun import tracking

    print(tracking.promote(args.run_id, force=args.force))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the remaining subcommands to the ``honbun`` parser."""
    p = sub.add_parser(
        "train",
        help="train and evaluate the models of an experiment config; record an MLflow run",
        description="Grouped cross-validation, then the final models on all data, saved to "
        "models/<name>/, a report in runs/<name>/<time>/ and an MLflow run.",
    )
    p.add_argument("--config", default="training/configs/default.toml")
    p.add_argument("--models", default="models", help="where models/<name>/ is written")
    p.add_argument("--runs", default="runs", help="where run reports are written")
    p.add_argument("--no-track", action="store_true", help="do not record an MLflow run")
    p.set_defaults(handler=_train)

    p = sub.add_parser(
        "score",
        help="score pages: blocks, clean article text, topics (JSON Lines)",
        description="Score pages (files, directories, or - for stdin) with a trained model. "
        "Results stream in input order; a page that fails gets an error record.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--model", default="models/default", help="model directory or MLflow URI")
    p.add_argument("--format", choices=["jsonl", "text", "markdown"], default="jsonl")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (order is kept)")
    p.add_argument("-o", "--output", help="write here (atomically) instead of stdout")
    p.add_argument("--explain", action="store_true", help="terms behind each topic label")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failing page")
    p.add_argument("--labels", help="refuse a model trained on another label config")
    p.add_argument(
        "--site-context",
        action="store_true",
        help="read all inputs first and count which block texts repeat across each site's "
        "pages (site: canonical URL host), so a site's boilerplate is recognised; a page's "
        "result then depends on the other inputs",
    )
    p.set_defaults(handler=_score)

    p = sub.add_parser("evaluate", help="re-score a saved model on annotated data (no training)")
    p.add_argument("--model", default="models/default")
    p.add_argument("--annotations", default="data/annotations")
    p.add_argument("--labels", default="data/labels.toml")
    p.set_defaults(handler=_evaluate)

    p = sub.add_parser("runs", help="list MLflow runs, or `runs compare RUN RUN...`")
    p.add_argument("run_ids", nargs="*", metavar="compare RUN")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(handler=_runs)

    p = sub.add_parser("promote", help="set the registered model's champion alias to a run")
    p.add_argument("run_id")
    p.add_argument("--force", action="store_true", help="promote even if its metric is lower")
    p.set_defaults(handler=_promote)

    from honbun.spark import register as register_spark

    register_spark(sub)

    d = sub.add_parser(
        "data", help="annotation tools: init, export, import, agree, validate, stats"
    )
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    p = dsub.add_parser("init", help="create annotation headers (with provenance) from a manifest")
    p.add_argument("--manifest", default="data/raw/pages/manifest.jsonl")
    p.add_argument("--out", default="data/annotations")
    p = dsub.add_parser(
        "init-articles",
        help="create annotation headers for articles of a JSON Lines article file "
        "(id, title, text; every sentence is to be topic-annotated)",
    )
    p.add_argument("file")
    p.add_argument("--out", required=True, help="folder for the annotation files")
    p.add_argument(
        "--select", action="append", default=[], metavar="FIELD=VALUE",
        help="keep records whose field has this value (repeatable), e.g. security=true",
    )  # fmt: skip
    p.add_argument("--sample", type=int, help="draw this many of the selected records")
    p.add_argument("--seed", type=int, default=13)
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
    p.add_argument(
        "--blank",
        action="store_true",
        help="leave labels, roles and topics empty (a second annotator's sheet, or a first "
        "annotation that must not lean on the lexicon)",
    )
    p = dsub.add_parser(
        "agree",
        help="score second annotators' filled-in blank sheets against the gold (agreement, "
        "kappa, block and char3 F1)",
    )
    p.add_argument("tsvs", nargs="+")
    p = dsub.add_parser("import", help="read a corrected TSV back into its annotation file")
    p.add_argument("tsv")
    p.add_argument("--reviewer", help="mark the document reviewed by this annotator")
    p.add_argument("--notes", default="")
    p = dsub.add_parser("validate", help="check annotation files against the current segmentation")
    p.add_argument("files", nargs="*")
    p.add_argument("--labels", default="data/labels.toml")
    p = dsub.add_parser(
        "migrate",
        help="carry block labels over after a segmentation change (by text hash; splits and "
        "merges inherit agreeing labels; the rest is flagged for review)",
    )
    p.add_argument("files", nargs="+")
    p = dsub.add_parser("stats", help="counts per label, role, source, publisher, topic")
    p.add_argument("--labels", default="data/labels.toml")
    p.add_argument("--json", action="store_true")
    for p in dsub.choices.values():
        p.set_defaults(handler=_data)
