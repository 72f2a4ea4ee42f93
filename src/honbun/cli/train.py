"""``honbun train`` and ``honbun evaluate``: the experiment loop's training and re-scoring."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _train(args: argparse.Namespace) -> int:
    from honbun.experiment.config import load_experiment
    from honbun.experiment.train import run

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


def _evaluate(args: argparse.Namespace) -> int:
    from honbun.evaluation.baselines import TEXT_BASELINES
    from honbun.evaluation.saved import evaluate_saved

    unknown = sorted(set(args.baselines) - set(TEXT_BASELINES))
    if unknown:
        known = ", ".join(TEXT_BASELINES)
        print(f"honbun: error: unknown baseline(s) {', '.join(unknown)} (known: {known})",
              file=sys.stderr)  # fmt: skip
        return 2
    report = evaluate_saved(
        Path(args.model), Path(args.annotations), args.labels, tuple(args.baselines)
    )
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``honbun train`` and ``honbun evaluate`` to the ``honbun`` parser."""
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

    p = sub.add_parser("evaluate", help="re-score a saved model on annotated data (no training)")
    p.add_argument("--model", default="models/default")
    p.add_argument("--annotations", default="data/annotations")
    p.add_argument("--labels", default="data/labels.toml")
    p.add_argument(
        "--baselines", nargs="+", default=[], metavar="NAME",
        help="also score these extractors on the same HTML pages: trafilatura, "
        "trafilatura-precision, trafilatura-recall, readability-lxml",
    )  # fmt: skip
    p.set_defaults(handler=_evaluate)
