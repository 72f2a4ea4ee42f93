"""The one error type a bad input raises: it names the file and says what is wrong."""

from __future__ import annotations


class PageError(Exception):
    """A page could not be read. ``str(err)`` is one line: ``"<path>: <reason>"``.

    ``doc_id``: the id the page would have had, when the reader knew it (a WARC record's
    target URI), so its error record joins to the page; else the record derives one.
    """

    def __init__(self, path: str, reason: str, doc_id: str | None = None) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.doc_id = doc_id

    def __reduce__(self) -> tuple[type[PageError], tuple[str, str, str | None]]:
        # Pickled into worker processes (honbun score --jobs): the default would call
        # PageError(str(self)) and lose the reason.
        return (PageError, (self.path, self.reason, self.doc_id))
