"""Write files so that a reader never sees half of one: temp file, fsync, rename; and
steps of several processes that must not interleave, under a lock file.

The file (or a directory written the same way, :func:`umask_mode`) gets the permissions a
plain ``open()`` or ``mkdir()`` would give it (0666 or 0777 less the umask), not the
private 0600 / 0700 of the temporary it was written as. A file that cannot be written
raises :class:`WriteError`, one line naming it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any


class WriteError(OSError):
    """An output file or directory cannot be written. ``str(err)`` is one line naming it."""

    def __init__(self, path: str | Path, exc: OSError) -> None:
        super().__init__(exc.errno, f"cannot write {path}: {exc.strerror or exc}")
        self.path = str(path)

    def __str__(self) -> str:
        return str(self.strerror)


def current_umask() -> int:
    """The process's umask (read from /proc where it can be, so it is never changed)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: set and restore it at once
    os.umask(mask)
    return mask


def umask_mode(directory: bool = False) -> int:
    """The mode ``open()`` (0666) or ``mkdir()`` (0777) gives under the current umask."""
    return (0o777 if directory else 0o666) & ~current_umask()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file beside ``path``; on success it replaces ``path``, on error it vanishes.

    The temp file is in the same directory so the final ``os.replace`` is atomic. Failing
    to create, finish or rename it raises :class:`WriteError` naming ``path``.
    """
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise WriteError(target, exc) from exc
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as fh:
            yield fh
            try:
                fh.flush()
                os.fsync(fh.fileno())
                os.fchmod(fh.fileno(), umask_mode())
            except OSError as exc:
                raise WriteError(target, exc) from exc
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise WriteError(target, exc) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def finish(
    cm: contextlib.AbstractContextManager[Any],
    last: Callable[[], None],
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> None:
    """Leave ``cm`` (an :func:`atomic_open` block, from a writer's ``__exit__``) after
    ``last()`` (a footer, a closing write), which runs only when nothing failed; if it
    fails itself, the file is discarded as for any other error."""
    try:
        if exc_type is None:
            last()
    except BaseException as err:
        cm.__exit__(type(err), err, err.__traceback__)
        raise
    cm.__exit__(exc_type, exc, tb)


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


@contextlib.contextmanager
def exclusive(lock_path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created if missing) for the ``with`` block.

    An advisory ``flock``: other processes (and threads: each call opens its own file)
    wait at this call until the holder leaves its block or dies. The file stays behind,
    empty: deleting a lock file while others wait on it would let two holders in.
    """
    import fcntl

    with open(lock_path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
