"""A content-addressed cache for the training job: what was computed once from the same
inputs, code and settings is read back instead of computed again.

An entry's key is the SHA-256 of everything its value depends on: the content of the pages
(or sentences) and labels, the settings that shape it, and the source code of the honbun
packages that compute it (:func:`code_version`), so editing a page, a setting or the code
invalidates exactly the entries that read it. Entries are pickles in ``.cache/honbun/``
(``HONBUN_CACHE`` moves it; ``HONBUN_CACHE=off`` turns the cache off), written atomically;
the folder is safe to delete at any time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
DEFAULT_ROOT = Path(".cache/honbun")
PACKAGE = Path(__file__).resolve().parent


@cache
def code_version(*parts: str) -> str:
    """SHA-256 of the source of these parts of the package (subpackages or root modules,
    e.g. ``"read"``, ``"features"``, ``"metrics.py"``): any edit there changes it."""
    h = hashlib.sha256()
    for part in parts:
        path = PACKAGE / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(str(f.relative_to(PACKAGE)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def fingerprint(*parts: Any) -> str:
    """SHA-256 of ``parts`` (JSON-able values, dataclasses, numpy arrays, bytes)."""
    h = hashlib.sha256()

    def feed(x: Any) -> None:
        if hasattr(x, "tobytes") and hasattr(x, "dtype"):  # a numpy array
            h.update(f"array:{x.dtype}:{x.shape}".encode())
            h.update(x.tobytes())
        elif isinstance(x, bytes):
            h.update(b"bytes:" + x)
        elif is_dataclass(x) and not isinstance(x, type):
            feed(asdict(x))
        elif isinstance(x, dict):
            h.update(b"{")
            for k in sorted(x, key=str):
                feed(str(k))
                feed(x[k])
            h.update(b"}")
        elif isinstance(x, (list, tuple)):
            h.update(b"[")
            for v in x:
                feed(v)
            h.update(b"]")
        else:
            h.update(json.dumps(x, default=str).encode())

    for p in parts:
        feed(p)
    return h.hexdigest()


class Cache:
    """Pickled values by kind and key under ``root`` (None: nothing is kept)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_env(cls) -> Cache:
        where = os.environ.get("HONBUN_CACHE", "")
        if where == "off":
            return cls(None)
        return cls(Path(where) if where else DEFAULT_ROOT)

    def fetch(self, kind: str, key: str, compute: Callable[[], T]) -> T:
        """The value stored under ``kind``/``key``, or ``compute()``'s, stored."""
        if self.root is None:
            return compute()
        path = self.root / kind / key[:2] / f"{key}.pkl"
        if path.exists():
            try:
                with open(path, "rb") as fh:
                    value: T = pickle.load(fh)
                self.hits += 1
                return value
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                pass  # a damaged or outdated entry is computed again
        self.misses += 1
        value = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return value
