"""Scoring results as Parquet, one row per page, for pandas, DuckDB and Spark.

Columns: ``doc_id, source, format, model, url, date`` (a UTC timestamp), ``title,
body_text, labels`` (list of topic names), ``topics`` (a struct with one probability per
topic of the model: ``topics.sanctions``), ``blocks`` and ``sentences`` and ``paragraphs``
(lists of structs, the fields of :data:`honbun.scoring.results.RESULT_SCHEMA`; a sentence's
``explanation`` maps each of its labels to its terms and weights) and ``error`` (null, or
why the page failed: a failed page is a row with only its ids and the error).

Rows are written in row groups of :data:`ROW_GROUP_PAGES` as they come, so memory does
not grow with the number of pages, into a file that appears only when complete.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from honbun.atomic import atomic_open, finish
from honbun.scoring.results import Result

ROW_GROUP_PAGES = 256  # pages buffered per row group: a few MB of text


def parquet_schema(topics: Sequence[str]) -> Any:
    """The Arrow schema of the rows, for a model with these topic labels."""
    import pyarrow as pa

    scores = pa.struct([(t, pa.float64()) for t in topics])
    names = pa.list_(pa.string())
    terms = pa.list_(pa.struct([("term", pa.string()), ("weight", pa.float64())]))
    block = pa.struct(
        [
            ("index", pa.int32()),
            ("text", pa.string()),
            ("start", pa.int32()),
            ("end", pa.int32()),
            ("label", pa.string()),
            ("p_body", pa.float64()),
            ("role", pa.string()),
            ("rule", pa.string()),
        ]
    )
    sentence = pa.struct(
        [
            ("block", pa.int32()),
            ("start", pa.int32()),
            ("end", pa.int32()),
            ("text", pa.string()),
            ("labels", names),
            ("topics", scores),
            ("explanation", pa.map_(pa.string(), terms)),
        ]
    )
    paragraph = pa.struct([("block", pa.int32()), ("labels", names), ("topics", scores)])
    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("source", pa.string()),
            ("format", pa.string()),
            ("model", pa.string()),
            ("url", pa.string()),
            ("date", pa.timestamp("us", tz="UTC")),
            ("title", pa.string()),
            ("body_text", pa.string()),
            ("labels", names),
            ("topics", scores),
            ("blocks", pa.list_(block)),
            ("sentences", pa.list_(sentence)),
            ("paragraphs", pa.list_(paragraph)),
            ("error", pa.string()),
        ]
    )


def parse_date(value: str | None) -> datetime | None:
    """A WARC-Date (ISO 8601, ``Z`` or an offset; a date alone is midnight) in UTC, or None
    for a missing or unparsable one (the row keeps no date rather than failing)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def parquet_row(res: Result) -> dict[str, Any]:
    """One result as a row of :func:`parquet_schema`."""
    row: dict[str, Any] = {k: res.get(k) for k in ("doc_id", "source", "format", "model")}
    row.update(url=res.get("url"), date=parse_date(res.get("date")), error=res.get("error"))
    if "error" in res:
        return row
    sentences = []
    for s in res.get("sentences", []):
        s = dict(s)
        why = s.pop("explanation", None)
        if why is not None:  # label -> [[term, weight], ...] in the JSON
            s["explanation"] = {
                label: [{"term": t, "weight": w} for t, w in terms] for label, terms in why.items()
            }
        sentences.append(s)
    row.update(
        title=res.get("title"),
        body_text=res.get("body_text"),
        labels=res.get("labels"),
        topics=res.get("topics"),
        blocks=res.get("blocks"),
        sentences=sentences,
        paragraphs=res.get("paragraphs"),
    )
    return row


class ParquetSink:
    """Write results as Parquet rows to ``path`` (atomically): ``with ParquetSink(path,
    topics) as sink: sink.write(result)``."""

    def __init__(self, path: str, topics: Sequence[str]) -> None:
        self.path = path
        self.schema = parquet_schema(topics)
        self._cm = atomic_open(path, "wb")
        self._writer: Any = None
        self._rows: list[dict[str, Any]] = []

    def __enter__(self) -> ParquetSink:
        import pyarrow.parquet as pq

        fh = self._cm.__enter__()
        self._writer = pq.ParquetWriter(fh, self.schema, compression="zstd")
        return self

    def write(self, res: Result) -> None:
        self._rows.append(parquet_row(res))
        if len(self._rows) >= ROW_GROUP_PAGES:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:  # close the writer while its file is open (its destructor
            with contextlib.suppress(Exception):  # would write to the closed file); the
                self._writer.close()  # temp file goes anyway
        finish(self._cm, self._close, exc_type, exc, tb)

    def _close(self) -> None:
        try:
            self._flush()
        finally:
            self._writer.close()  # the footer: without it the file is no Parquet file
