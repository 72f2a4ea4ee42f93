"""``honbun score-spark``: score a JSON Lines, Parquet or WARC dataset of pages on Apache Spark
(the library is :mod:`honbun.serve.spark`); :func:`main` is the ``spark-submit`` entry."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from honbun.serve.spark import (
    ARROW_BATCH_ROWS,
    SparkUnavailable,
    is_uri,
    read_pages,
    require_pyspark,
    resolve_model_path,
    score_dataframe,
    single_file_output,
    write_jsonl,
)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input",
        metavar="INPUT",
        help="JSON Lines or Parquet pages (doc_id, content, [format], [source], [url], [date], "
        "[charset]), or WARC files (.warc, .warc.gz; a file or a directory)",
    )
    p.add_argument("output", metavar="OUTPUT", help="a .jsonl file, or a directory of parts")
    p.add_argument("--model", default="models/default", help="model directory or MLflow URI")
    p.add_argument("--partitions", type=int, help="repartition the pages into N scoring tasks")
    p.add_argument("--input-format", choices=["auto", "jsonl", "parquet", "warc"], default="auto")
    p.add_argument("--master", help="Spark master (default: spark-submit's, else local[*])")
    p.add_argument("--explain", action="store_true", help="terms behind each topic label")
    p.add_argument(
        "--site-context",
        action="store_true",
        help="count each site's repeated blocks over the input first, as `honbun score "
        "--site-context` (one more pass over the input)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")


def _session(master: str | None) -> tuple[Any, bool]:
    """The active SparkSession (and whether this call created it)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is not None:  # e.g. a notebook's or a test's
        return SparkSession.builder.getOrCreate(), False
    local = master is None or master.startswith("local")
    if local and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not spark-submit: workers = us
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("honbun score-spark")
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    if not spark.sparkContext.getConf().contains("spark.sql.execution.arrow.maxRecordsPerBatch"):
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
    return spark, True


def run(args: argparse.Namespace) -> int:
    """The ``score-spark`` command."""
    try:
        require_pyspark()
    except SparkUnavailable as exc:
        print(f"honbun: error: {exc}", file=sys.stderr)
        return 2
    if args.partitions is not None and args.partitions < 1:
        print("honbun: error: --partitions must be at least 1", file=sys.stderr)
        return 2
    spark, created = _session(args.master)
    try:
        model = resolve_model_path(args.model)
        if not is_uri(model) and not Path(model).exists():
            print(f"honbun: error: {args.model}: no such model directory", file=sys.stderr)
            return 2
        pages = read_pages(spark, args.input, args.input_format)
        single = single_file_output(args.output)  # sorted after scoring, in one task
        results = score_dataframe(
            pages, args.model, args.partitions, args.explain, not single, args.site_context
        )
        write_jsonl(spark, results, args.output, overwrite=args.overwrite)
        counts = (
            spark.read.text(args.output)
            .selectExpr("count(*) AS n", "count(get_json_object(value, '$.error')) AS failed")
            .first()
        )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"honbun: error: {first}", file=sys.stderr)
        return 1
    finally:
        if created:
            spark.stop()
    print(f"honbun: scored {counts['n']} page(s) into {args.output}", file=sys.stderr)
    if counts["failed"]:
        print(f"honbun: {counts['failed']} input(s) failed (error records)", file=sys.stderr)
    return 1 if counts["failed"] else 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``score-spark`` to the ``honbun`` parser."""
    p = sub.add_parser(
        "score-spark",
        help="score a JSON Lines/Parquet/WARC dataset of pages with Apache Spark (the spark extra)",
        description="Score pages with Spark, one model per Python worker. Each line of OUTPUT "
        "is what `honbun score` writes for that page, in doc_id order; failed pages get error "
        "records. OUTPUT appears only when the job has finished.",
    )
    _add_arguments(p)
    p.set_defaults(handler=run)


def main(argv: Sequence[str] | None = None) -> int:
    """``score-spark INPUT OUTPUT [--model DIR] [--partitions N] …``; the spark-submit entry."""
    p = argparse.ArgumentParser(prog="honbun score-spark", description=__doc__.splitlines()[0])
    _add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
