"""Where ``honbun score`` writes results: JSON Lines (also the text and Markdown
renderings), the review page (:mod:`honbun.scoring.review`) or Parquet
(:mod:`honbun.scoring.parquet`), chosen by ``--format`` or else by the output's name."""

from __future__ import annotations

from typing import Any

FORMATS = ("jsonl", "text", "markdown", "html", "parquet")
RECORD_FORMATS = frozenset({"jsonl", "html", "parquet"})  # every result, error records too
SUFFIX_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".html": "html", ".htm": "html"}


def output_format(fmt: str | None, path: str | None) -> str:
    """``fmt`` if given, else the format ``path``'s suffix names, else ``jsonl``."""
    if fmt:
        return fmt
    name = (path or "").lower()
    return next((f for s, f in SUFFIX_FORMATS.items() if name.endswith(s)), "jsonl")


def open_results(fmt: str, path: str | None, model: Any) -> Any:
    """A sink for ``fmt`` (a context manager with ``write(result)``; JSON Lines also has
    ``write_text``) writing to ``path`` atomically, or to stdout without one. Raise
    ValueError for Parquet without a path (binary rows have no place on a terminal)."""
    labels = model.bundle.labels
    if fmt == "parquet":
        if not path or path == "-":
            raise ValueError("--format parquet needs -o FILE")
        from honbun.scoring.parquet import ParquetSink

        return ParquetSink(path, labels.topic_names)
    if fmt == "html":
        from honbun.scoring.review import ReviewSink

        return ReviewSink(path, labels.topic_names, labels.positive, model.name)
    from honbun.jsonl import JsonlSink

    return JsonlSink(path)
