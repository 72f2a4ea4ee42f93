"""JSON Lines, the one format honbun writes records in: one compact JSON object per line,
UTF-8 text (not ASCII escapes). Results, segmented pages, annotation files and reports all
go through :func:`line`; :class:`JsonlSink` streams them to stdout or writes a file that
appears only when complete."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from honbun.atomic import atomic_open


def line(record: object) -> str:
    """``record`` as one line of JSON Lines, newline included."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def write(path: str | Path, records: Iterable[object]) -> None:
    """Write ``records`` to ``path`` atomically."""
    with atomic_open(path) as fh:
        fh.writelines(line(r) for r in records)


class JsonlSink:
    """Write one JSON object per line to stdout (flushed per record) or atomically to a file."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._cm = atomic_open(path) if path and path != "-" else None
        self._fh: IO[str] | None = None

    def __enter__(self) -> JsonlSink:
        self._fh = self._cm.__enter__() if self._cm else sys.stdout
        return self

    def write(self, record: object) -> None:
        assert self._fh is not None
        self._fh.write(line(record))
        if self._cm is None:
            self._fh.flush()

    def write_text(self, text: str) -> None:
        assert self._fh is not None
        self._fh.write(text)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._cm is not None:
            self._cm.__exit__(exc_type, exc, tb)
