"""Scoring a dataset of pages with Apache Spark: the same JSON as ``honbun score``, at scale.

Input rows have ``doc_id`` (string), ``content`` (the page's text; binary is accepted too
and decoded like a file), and optionally ``format`` (``html``/``text``; null or empty
sniffs it), ``source`` (defaults to ``doc_id``), ``url`` and ``date`` (the page's, copied
into its result) and ``charset`` (the transport's, a hint to the decoder). Each row becomes
``doc_id`` and ``result``: the JSON string ``honbun score`` would write for that page. A
page that fails becomes an error record (:func:`honbun.scoring.results.error_result`) —
never a failed job.

WARC input (:func:`read_warc`): one task per WARC file reads its records as
``honbun score`` does (:func:`honbun.read.warc.iter_payloads`), streaming, into rows of
that shape; a broken record becomes a row that scores to its error record.

With ``site_context`` a first pass counts, per site (:func:`honbun.read.sites.site_of`),
how many input pages hold each block text, as ``honbun score --site-context`` does over
its inputs; the counts are joined back to each page (keyed by a 64-bit hash of the text,
so the shuffle carries numbers, not paragraphs) and the page is scored against them.

Only the model *path* travels with the tasks; each Python worker loads the model once
(fugashi Taggers do not pickle) and keeps it for every partition it runs afterwards.

PySpark is imported only inside functions, so ``honbun --help`` stays fast and honbun
works without the ``spark`` extra.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    "honbun score-spark needs PySpark and PyArrow: pip install 'honbun[spark]' "
    "(and Java 17+ for Spark itself)"
)
RESULT_SCHEMA_DDL = "doc_id string, result string"
KEYS_SCHEMA_DDL = "_page bigint, _site string, _keys array<bigint>"
JSONL_READ_SCHEMA = (
    "doc_id string, format string, content string, source string, url string, date string, "
    "charset string, _corrupt_record string"
)
WARC_PAGES_DDL = (
    "doc_id string, format string, content binary, source string, url string, date string, "
    "charset string, _error string"
)
OPTIONAL_COLUMNS = ("format", "source", "url", "date", "charset")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".xz", ".lz4", ".snappy", ".deflate")
# Rows per Arrow batch handed to a worker: HTML pages run to megabytes, Spark's default
# (10,000 rows) could put gigabytes in one batch.
ARROW_BATCH_ROWS = 64

_MODELS: dict[str, Any] = {}  # per Python worker process: model path -> loaded Model


class SparkUnavailable(RuntimeError):
    """PySpark is not installed."""


def require_pyspark() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(INSTALL_HINT) from exc


# --------------------------------------------------------------------------- executor side


def is_uri(path: str) -> bool:
    return path.startswith(("models:/", "runs:/", "mlflow-artifacts:", "file://"))


def resolve_model_path(path: str) -> str:
    """The model directory as seen from this process.

    A path that exists (local or shared storage) or an MLflow URI is used as given;
    otherwise a directory of that name shipped with ``--files``/``--archives``
    (``SparkFiles``) is used.
    """
    if is_uri(path) or Path(path).exists():
        return path
    try:
        from pyspark import SparkFiles

        shipped = SparkFiles.get(Path(path).name)
        if Path(shipped).exists():
            return shipped
    except Exception:  # no SparkContext/SparkFiles here: fall through to the path as given
        pass
    return path


def _worker_model(path: str) -> Any:
    """The model for ``path``, loaded at most once per Python worker process."""
    model = _MODELS.get(path)
    if model is None:
        from honbun.scoring.model import load_model

        model = _MODELS[path] = load_model(resolve_model_path(path))
    return model


def _row_ids(doc_id: Any, source: Any) -> tuple[str, str]:
    """A row's ``doc_id`` ("" when null) and ``source`` (the doc_id when empty)."""
    doc_id = "" if doc_id is None else str(doc_id)
    return doc_id, str(source) if source else doc_id


def key_hash(key: str) -> int:
    """A block key (:func:`honbun.features.prepared.block_keys`) as a signed 64-bit integer."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def page_context(page: Any, site: str, key_counts: dict[int, int], site_pages: int) -> Any:
    """The :class:`~honbun.features.repetition.SiteContext` of one page, from its site's counts
    by key hash: what ``SiteContext`` over all the input pages holds for this page's keys."""
    from collections import Counter

    from honbun.features.prepared import block_keys
    from honbun.features.repetition import SiteContext

    counts = Counter({k: key_counts.get(key_hash(k), 0) for k in set(block_keys(page))})
    return SiteContext(counts={site: counts}, pages=Counter({site: site_pages}))


def score_record(
    model: Any,
    doc_id: str | None,
    content: str | bytes | None,
    fmt: str | None = None,
    source: str | None = None,
    explain: bool = False,
    context: tuple[str, dict[int, int], int] | None = None,
    meta: dict[str, str] | None = None,
    charset: str | None = None,
) -> dict[str, Any]:
    """Score one page given as text (or bytes): the dict ``honbun score`` writes for it.

    ``context``: the page's site, its site's page count per block-key hash and its
    site's number of pages (the site-context pass); None scores the page alone.
    ``meta`` (url, date) and ``charset``: what the reader knew (see
    :func:`~honbun.read.files.page_from_content`).
    Never raises for a bad page: it gets an error record (with the input ``doc_id``).
    """
    from honbun.read.files import page_from_content
    from honbun.scoring.batch import guarded
    from honbun.scoring.model import Model

    doc_id, source = _row_ids(doc_id, source)

    def run() -> dict[str, Any]:
        page = page_from_content(content, source, doc_id or None, fmt, meta, charset)
        scorer = model
        if context is not None:
            scorer = Model(model.bundle, page_context(page, *context))
        return scorer.score(page, explain=explain)  # type: ignore[no-any-return]

    res: dict[str, Any] = guarded(source, run)
    if "error" in res and doc_id:
        res["doc_id"] = doc_id  # so the record joins back to its input row
    return res


def _row_meta(cols: dict[str, list[Any]], i: int) -> dict[str, str]:
    """A row's page meta: its ``url`` and ``date`` where given."""
    return {k: str(cols[k][i]) for k in ("url", "date") if cols.get(k) and cols[k][i]}


def _row_error(cols: dict[str, list[Any]], i: int) -> dict[str, Any] | None:
    """The error record of a row that is no page (a malformed JSON line, a broken WARC
    record), else None."""
    from honbun.errors import PageError
    from honbun.scoring.results import error_result

    doc_id = cols["doc_id"][i]
    if cols.get("_corrupt_record") and cols["_corrupt_record"][i] is not None:
        return _malformed(cols["_corrupt_record"][i], doc_id or "")
    if cols.get("_error") and cols["_error"][i] is not None:
        return error_result(PageError(cols["source"][i] or "", cols["_error"][i], doc_id))
    return None


def _partition_keys() -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The site-context pass over a partition: each readable page with a site gives its
    row hash, its site and the hashes of its distinct block keys (no model is loaded)."""

    def keys_of(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        from honbun.features.repetition import counted
        from honbun.read.files import page_from_content
        from honbun.scoring.batch import guarded

        schema = pa.schema(
            [("_page", pa.int64()), ("_site", pa.string()), ("_keys", pa.list_(pa.int64()))]
        )
        for batch in batches:
            cols = batch.to_pydict()
            out: dict[str, list[Any]] = {"_page": [], "_site": [], "_keys": []}
            for i in range(batch.num_rows):
                if _row_error(cols, i) is not None:
                    continue  # scored as an error record; counts for no site
                doc_id, source = _row_ids(cols["doc_id"][i], cols["source"][i])
                content, fmt = cols["content"][i], cols["format"][i]
                read = partial(page_from_content, content, source, doc_id, fmt,
                               _row_meta(cols, i), cols["charset"][i])  # fmt: skip
                page = guarded(source, read)
                # as SiteContext.add counts: unreadable pages and pages without a site do not
                entry = None if isinstance(page, dict) else counted(page)
                if entry is not None:
                    site, keys = entry
                    out["_page"].append(cols["_page"][i])
                    out["_site"].append(site)
                    out["_keys"].append(sorted({key_hash(k) for k in keys}))
            yield pa.RecordBatch.from_pydict(out, schema=schema)

    return keys_of


def with_site_context(pages: Any) -> Any:
    """``pages`` (prepared input rows) with each page's site-context columns.

    Adds ``_site``, ``_key_counts`` (map: block-key hash -> number of the site's input
    pages holding that block) and ``_site_pages``; null for pages without a site (scored
    alone). Each input row counts once, duplicates too, as in ``honbun score``.
    """
    from pyspark.sql import functions as F

    hashed = pages.withColumn("_page", F.xxhash64("doc_id", "source", "format", "content"))
    keyed = hashed.mapInArrow(_partition_keys(), KEYS_SCHEMA_DDL)
    site_pages = keyed.groupBy("_site").agg(F.count(F.lit(1)).alias("_site_pages"))
    exploded = keyed.select("_page", "_site", F.explode("_keys").alias("_key"))
    key_counts = exploded.groupBy("_site", "_key").agg(F.count(F.lit(1)).alias("_n"))
    per_page = (
        exploded.dropDuplicates(["_page", "_key"])  # duplicate rows share one row hash
        .join(key_counts, ["_site", "_key"])
        .groupBy("_page", "_site")
        .agg(F.map_from_entries(F.collect_list(F.struct("_key", "_n"))).alias("_key_counts"))
        .join(site_pages, "_site")
    )
    return hashed.join(per_page, "_page", "left").drop("_page")


def dumps(result: dict[str, Any]) -> str:
    """Serialise a result exactly as ``honbun score`` writes it (one JSON Lines line)."""
    from honbun import jsonl

    return jsonl.line(result).rstrip("\n")


def _partition_scorer(model_path: str, explain: bool) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The function ``mapInArrow`` runs on each partition (pickled with the path only)."""

    def score_batches(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        schema = pa.schema([("doc_id", pa.string()), ("result", pa.string())])
        model = None
        for batch in batches:
            if model is None:  # loaded lazily: an empty partition loads nothing
                model = _worker_model(model_path)
            cols = batch.to_pydict()
            n = batch.num_rows
            sites = cols.get("_site") or [None] * n
            ids: list[str] = []
            results: list[str] = []
            for i in range(n):
                doc_id = cols["doc_id"][i]
                res = _row_error(cols, i)
                if res is None:
                    context = None
                    if sites[i] is not None:
                        counts = dict(cols["_key_counts"][i])  # Arrow maps: (key, n) pairs
                        context = (sites[i], counts, cols["_site_pages"][i])
                    res = score_record(
                        model,
                        doc_id,
                        cols["content"][i],
                        cols["format"][i],
                        cols["source"][i],
                        explain,
                        context,
                        _row_meta(cols, i),
                        cols["charset"][i],
                    )
                ids.append(doc_id or "")
                results.append(dumps(res))
            yield pa.RecordBatch.from_pydict({"doc_id": ids, "result": results}, schema=schema)

    return score_batches


def _malformed(line: str, doc_id: str) -> dict[str, Any]:
    from honbun.errors import PageError
    from honbun.scoring.results import error_result

    snippet = line[:80] + ("…" if len(line) > 80 else "")
    res = error_result(PageError(doc_id, f"malformed JSON Lines record: {snippet}"))
    res["doc_id"] = doc_id
    return res


# ----------------------------------------------------------------------------- driver side


def _prepare(df: Any) -> Any:
    """The input columns the scorer reads, with missing optional ones as nulls."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BinaryType

    fields = {f.name: f.dataType for f in df.schema.fields}
    missing = [c for c in ("doc_id", "content") if c not in fields]
    if missing:
        raise ValueError(
            f"the pages DataFrame has no column(s) {', '.join(missing)} "
            f"(expected doc_id, content and optionally {', '.join(OPTIONAL_COLUMNS)}; "
            f"got {', '.join(fields)})"
        )

    def col(name: str) -> Any:
        if name not in fields:
            return F.lit(None).cast("string").alias(name)
        if name == "content" and isinstance(fields[name], BinaryType):
            return F.col(name)
        return F.col(name).cast("string").alias(name)

    cols = [col(c) for c in ("doc_id", "content", *OPTIONAL_COLUMNS)]
    for flag in ("_corrupt_record", "_error"):  # rows that are no page: error records
        if flag in fields:
            cols.append(F.col(flag).cast("string"))
    return df.select(*cols)


def _default_partitions(df: Any) -> int:
    spark = df.sparkSession
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect: no SparkContext
        return int(spark.conf.get("spark.sql.shuffle.partitions", "200"))


def score_dataframe(
    df: Any,
    model_path: str,
    partitions: int | None = None,
    explain: bool = False,
    sort: bool = True,
    site_context: bool = False,
) -> Any:
    """Score a DataFrame of pages; return ``doc_id, result`` (JSON string) per input row.

    ``site_context``: score each page against the other input pages of its site
    (:func:`with_site_context`), as ``honbun score --site-context`` does.

    The pages are spread over ``partitions`` scoring tasks (default: the cluster's default
    parallelism); each Python worker loads the model once, not per row. With ``sort`` the
    rows come back in ``doc_id`` order: the *input* is range-partitioned and sorted before
    scoring, so the scoring runs once (sorting the output would score everything twice,
    once for the range sample).
    """
    require_pyspark()
    from pyspark.sql import functions as F

    pages = _prepare(df)
    n = int(partitions) if partitions else _default_partitions(df)
    if site_context:
        pages = with_site_context(pages)
    if sort:  # ties (same doc_id) broken by source, format, a hash of the content
        keys = [
            F.col("doc_id").asc_nulls_first(),
            F.col("source").asc_nulls_first(),
            F.col("format").asc_nulls_first(),
            F.xxhash64("content"),
        ]
        pages = pages.repartitionByRange(n, *keys).sortWithinPartitions(*keys)
    else:
        pages = pages.repartition(n)
    return pages.mapInArrow(_partition_scorer(str(model_path), explain), RESULT_SCHEMA_DDL)


def _hadoop_fs(spark: Any, path: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), p


def qualify(spark: Any, path: str) -> str:
    """``path`` with the scheme Spark would read or write it with (``fs.defaultFS`` applied)."""
    fs, p = _hadoop_fs(spark, path)
    return str(fs.makeQualified(p))


def _is_local(path: str) -> bool:
    return path.startswith("file:")


def _local(path: str) -> Path:
    return Path(path.removeprefix("file://").removeprefix("file:"))


def _list_names(spark: Any, path: str) -> list[str]:
    if _is_local(path):
        p = _local(path)
        return sorted(f.name for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p.name]
    fs, p = _hadoop_fs(spark, path)
    if not fs.getFileStatus(p).isDirectory():
        return [p.getName()]
    return sorted(s.getPath().getName() for s in fs.listStatus(p) if s.isFile())


def _strip_compression(name: str) -> str:
    name = name.lower()
    for suffix in COMPRESSION_SUFFIXES:
        if name.endswith(suffix) and not name.endswith(".snappy.parquet"):
            return name.removesuffix(suffix)
    return name


def input_kind(spark: Any, path: str) -> str:
    """``"warc"``, ``"parquet"`` or ``"jsonl"``, from the extension or the files in the
    directory."""
    from honbun.read.files import WARC_SUFFIXES

    listed = [n for n in _list_names(spark, qualify(spark, path)) if not n.startswith(("_", "."))]
    if any(n.lower().endswith(WARC_SUFFIXES) for n in listed):
        return "warc"
    names = [_strip_compression(n) for n in listed]
    if any(n.endswith(PARQUET_SUFFIXES) for n in names):
        return "parquet"
    if any(n.endswith(JSON_SUFFIXES) for n in names):
        return "jsonl"
    raise ValueError(
        f"{path}: cannot tell the input format (expected .jsonl/.json, .parquet or "
        ".warc/.warc.gz files); "
        "use --input-format"
    )


def read_pages(spark: Any, path: str, kind: str = "auto") -> Any:
    """A JSON Lines, Parquet or WARC dataset of pages as a DataFrame."""
    if kind == "auto":
        kind = input_kind(spark, path)
    if kind == "warc":
        return read_warc(spark, path)
    if kind == "parquet":
        return spark.read.parquet(path)
    return (
        spark.read.schema(JSONL_READ_SCHEMA)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_corrupt_record")
        .json(path)
    )


def warc_files(spark: Any, path: str) -> list[str]:
    """The WARC files at ``path`` (a file, or a directory searched recursively), sorted;
    local ones as plain paths."""
    from honbun.read.files import WARC_SUFFIXES

    q = qualify(spark, path)
    if _is_local(q):
        p = _local(q)
        if not p.is_dir():
            return [str(p)]
        return sorted(str(f) for f in p.rglob("*") if f.name.lower().endswith(WARC_SUFFIXES))
    fs, hp = _hadoop_fs(spark, q)
    if not fs.getFileStatus(hp).isDirectory():
        return [q]
    found = []
    it = fs.listFiles(hp, True)
    while it.hasNext():
        name = str(it.next().getPath())
        if name.lower().endswith(WARC_SUFFIXES):
            found.append(name)
    return sorted(found)


def _read_warc_files() -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The function ``mapInArrow`` runs over WARC file paths: each file's page payloads
    and broken records as rows of :data:`WARC_PAGES_DDL`, at most ``ARROW_BATCH_ROWS`` at
    a time (the file is streamed, never held)."""

    def read(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        from honbun.errors import PageError
        from honbun.read.warc import iter_payloads

        schema = pa.schema(
            [(n, pa.binary() if n == "content" else pa.string())
             for n in ("doc_id", "format", "content", "source", "url", "date", "charset",
                       "_error")]
        )  # fmt: skip
        for batch in batches:
            for path in batch.column("path").to_pylist():
                rows: list[dict[str, Any]] = []
                for item in _payloads(path, iter_payloads):
                    if isinstance(item, PageError):
                        doc_id = item.doc_id or Path(item.path).stem
                        rows.append({"doc_id": doc_id, "source": item.path, "_error": item.reason})
                    else:
                        rows.append({"doc_id": item.uri, "format": item.format,
                                     "content": item.data, "source": item.uri, "url": item.uri,
                                     "date": item.date, "charset": item.charset})  # fmt: skip
                    if len(rows) >= ARROW_BATCH_ROWS:
                        yield pa.RecordBatch.from_pylist(rows, schema=schema)
                        rows = []
                if rows:
                    yield pa.RecordBatch.from_pylist(rows, schema=schema)

    return read


def _payloads(path: str, iter_payloads: Callable[..., Iterator[Any]]) -> Iterator[Any]:
    """A WARC file's payloads: a local path opened as a file, anything else through
    pyarrow's filesystems (HDFS, S3, GCS)."""
    if "://" not in path:
        yield from iter_payloads(path)
        return
    from pyarrow import fs

    from honbun.errors import PageError

    try:
        filesystem, inner = fs.FileSystem.from_uri(path)
        fh = filesystem.open_input_file(inner)
    except Exception as exc:  # an unknown scheme, a missing file: one error record
        yield PageError(path, f"cannot read: {exc}")
        return
    with fh:
        yield from iter_payloads(path, fh=fh)


def read_warc(spark: Any, path: str) -> Any:
    """The pages of the WARC file(s) at ``path`` as a DataFrame of input rows, one task
    per file (so the files are read in parallel, each streamed)."""
    files = warc_files(spark, path)
    if not files:
        raise ValueError(f"{path}: no .warc or .warc.gz files")
    paths = spark.sparkContext.parallelize([(f,) for f in files], len(files))
    return spark.createDataFrame(paths, "path string").mapInArrow(
        _read_warc_files(), WARC_PAGES_DDL
    )


def _exists(spark: Any, path: str) -> bool:
    if _is_local(path):
        return os.path.lexists(_local(path))
    fs, p = _hadoop_fs(spark, path)
    return bool(fs.exists(p))


def _delete(spark: Any, path: str) -> None:
    if _is_local(path):
        p = _local(path)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.lexists(p):
            p.unlink()
        return
    fs, p = _hadoop_fs(spark, path)
    fs.delete(p, True)


def _rename(spark: Any, src: str, dst: str) -> None:
    if _is_local(src):
        os.replace(_local(src), _local(dst))
        return
    fs, s = _hadoop_fs(spark, src)
    d = _hadoop_fs(spark, dst)[1]
    fs.mkdirs(d.getParent())
    if not fs.rename(s, d):
        raise OSError(f"could not rename {src} to {dst}")


def _part_files(spark: Any, directory: str) -> list[str]:
    names = sorted(n for n in _list_names(spark, directory) if n.startswith("part-"))
    return [f"{directory.rstrip('/')}/{n}" for n in names]


def single_file_output(path: str) -> bool:
    """OUTPUT named like a file (``.jsonl``, ``.json``, ``.ndjson``) is one file, else a directory."""
    return path.rstrip("/").lower().endswith(JSON_SUFFIXES)


def write_jsonl(spark: Any, results: Any, output: str, overwrite: bool = False) -> None:
    """Write the ``result`` column as JSON Lines; ``output`` appears only when complete.

    A ``.jsonl`` name gets one file (sorted by ``doc_id``); any other name a Spark output
    directory of ``part-*`` files (in the order of ``results``) and ``_SUCCESS``. Both are
    written into a hidden temp directory beside ``output`` and renamed into place at the end.
    """
    output = qualify(spark, output.rstrip("/"))
    if _exists(spark, output) and not overwrite:
        raise FileExistsError(f"{output}: already exists (use --overwrite to replace it)")
    parent, _, name = output.rpartition("/")
    tmp = f"{parent + '/' if parent else ''}.{name}.tmp-{uuid.uuid4().hex[:12]}"
    if _is_local(output):
        _local(output).parent.mkdir(parents=True, exist_ok=True)
    single = single_file_output(output)
    if single:  # the scoring stays parallel; one task gathers and sorts the results
        results = results.repartition(1).sortWithinPartitions("doc_id", "result")
    try:
        results.select("result").write.mode("error").text(tmp)
        if single:
            parts = _part_files(spark, tmp)
            if len(parts) > 1:
                raise RuntimeError(f"expected one part file in {tmp}, found {len(parts)}")
            if not parts:  # no rows: an empty file
                if _is_local(tmp):
                    (_local(tmp) / "part-00000.txt").touch()
                    parts = [f"{tmp}/part-00000.txt"]
                else:
                    fs, p = _hadoop_fs(spark, f"{tmp}/part-00000.txt")
                    fs.create(p).close()
                    parts = [f"{tmp}/part-00000.txt"]
            if overwrite and _exists(spark, output):
                _delete(spark, output)
            _rename(spark, parts[0], output)
        else:
            if overwrite and _exists(spark, output):
                _delete(spark, output)
            _rename(spark, tmp, output)
    finally:
        if _exists(spark, tmp):
            _delete(spark, tmp)
