"""The one error type a bad input raises: it names the file and says what is wrong."""

from __future__ import annotations


class PageError(Exception):
    """A page could not be read. ``str(err)`` is one line: ``"<path>: <reason>"``."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
