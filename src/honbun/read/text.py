"""Text dumps (like the seed pages): one block per non-empty line."""

from __future__ import annotations

from honbun.read.normalize import clean_whitespace, unify_newlines
from honbun.read.page import Block, Page, TooManyBlocks

# A "line" longer than this is not a line of a page dump (minified data, a binary blob
# decoded by luck): refuse it rather than build one giant block.
MAX_LINE_CHARS = 100_000


class LineTooLong(ValueError):
    pass


def parse_text(
    text: str,
    doc_id: str,
    source: str,
    meta: dict[str, str] | None = None,
    max_blocks: int | None = None,
) -> Page:
    """Split a text dump into line blocks, keeping blank-line runs as gaps.

    The page text is the cleaned lines joined by ``"\\n"``, blank lines inside the page
    kept (leading and trailing ones dropped); ``gap_before``/``gap_after`` count the
    blank lines around each block. More than ``max_blocks`` blocks raise TooManyBlocks.
    """
    lines = unify_newlines(text).split("\n")
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_CHARS:
            raise LineTooLong(
                f"line {number} has {len(line):,} characters (limit {MAX_LINE_CHARS:,})"
            )
    cleaned = [clean_whitespace(line) for line in lines]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    first = 0
    while first < len(cleaned) and not cleaned[first]:
        first += 1
    cleaned = cleaned[first:]
    if max_blocks is not None and sum(1 for line in cleaned if line) > max_blocks:
        raise TooManyBlocks(max_blocks)

    blocks: list[Block] = []
    pos = 0
    blank_run = 0
    for line in cleaned:
        if not line:
            blank_run += 1
        else:
            if blocks:
                blocks[-1].gap_after = blank_run
            blocks.append(
                Block(len(blocks), line, pos, pos + len(line), "line", gap_before=blank_run)
            )
            blank_run = 0
        pos += len(line) + 1
    return Page(doc_id, source, "text", "\n".join(cleaned), blocks, dict(meta or {}))
