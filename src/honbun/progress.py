"""Progress of long stages, on standard error (standard output carries results).

On a terminal a stage is a progress bar with counts and time left (tqdm); otherwise (CI,
a log file, a pipe) it is one plain line when the stage starts and one when it ends, with
its duration, so a log says what ran and for how long without a line per item.
``HONBUN_PROGRESS`` = ``bar``, ``lines`` or ``off`` overrides the choice.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
JOB = "honbun"


def _mode() -> str:
    mode = os.environ.get("HONBUN_PROGRESS", "")
    if mode in ("bar", "lines", "off"):
        return mode
    return "bar" if sys.stderr.isatty() else "lines"


def progress(message: str, job: str = "") -> None:
    """One progress line on stderr, with the time of day."""
    if _mode() != "off":
        stamp = datetime.now().strftime("%H:%M:%S")
        print(f"[{job or JOB} {stamp}] {message}", file=sys.stderr, flush=True)


class Stage:
    """A stage of a job: ``with Stage("featurising", total=92, unit="page") as s: ...
    s.update()``. Counts are optional: a stage without a total shows its elapsed time."""

    def __init__(
        self, name: str, total: int | None = None, unit: str = "", job: str = "", lines: bool = True
    ) -> None:
        self.name, self.total, self.unit, self.job = name, total, unit, job
        self.lines = lines  # False: a bar on a terminal, nothing in a log (scoring's stream)
        self.done = 0
        self._bar: Any = None
        self._t0 = 0.0
        self._mode = "off"

    def __enter__(self) -> Stage:
        self._t0 = time.perf_counter()
        mode = _mode()
        if mode == "lines" and not self.lines:
            mode = "off"
        self._mode = mode
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total, desc=self.name, unit=f" {self.unit}" if self.unit else "it",
                file=sys.stderr, dynamic_ncols=True, leave=True,
            )  # fmt: skip
        elif mode == "lines":
            size = (
                f" ({self.total} {self.unit}{'s' if self.total != 1 else ''})" if self.total else ""
            )
            progress(f"{self.name}{size} …", self.job)
        return self

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        took = time.perf_counter() - self._t0
        if self._bar is not None:
            self._bar.close()
        elif self._mode == "lines" and exc_type is None:
            progress(f"{self.name}: done in {took:.1f} s", self.job)


def each(items: Iterable[T], name: str, total: int | None = None, unit: str = "") -> Iterator[T]:
    """``items``, one by one, as a :class:`Stage` that counts them."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Stage(name, total, unit) as stage:
        for item in items:
            yield item
            stage.update()
