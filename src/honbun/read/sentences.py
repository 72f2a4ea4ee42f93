"""Rule-based Japanese sentence splitting for single-line blocks.

A sentence ends at a terminator (``。！？!?``, and ``．`` unless it is part of a number) or
at the end of its block. Terminators inside brackets or quotes do not end a sentence;
a quote that itself ends with a terminator (``…だ。」``) ends the sentence after the
closing bracket, unless a quotative or particle follows (``…だ。」と述べた。``).

The splitter never loops over characters in Python: one compiled regex finds only the
brackets and terminator runs, and the code walks those matches. Realistic news text has
one match every 20-40 characters, so this runs at several million characters per second.
"""

from __future__ import annotations

import re

# Sentence terminators. ASCII "." is deliberately absent: in Japanese text it shows up in
# URLs, domain names ("価格.com"), abbreviations and "..." far more often than as a
# full stop.
TERMINATORS = "。！？!?．"
OPENERS = "「『（(【〔［〈《“"
CLOSERS = "」』）)】〕］〉》”"

# Whitespace trimmed from both ends of a sentence (block texts are single lines).
SPACES = " \t\u3000"

# A bracket that is still open after this many characters is taken to be unbalanced (a
# typo, or a quote that continues in another block), so that it cannot swallow the rest
# of the block by pairing with some unrelated closer far away. (A bracket never closed in
# its block is unbalanced anyway.) Interview paragraphs quote at length: in the livedoor
# corpus 0.1% of bracket pairs span more than 259 characters and the longest spans 495.
MAX_BRACKET_CHARS = 600

# What may follow a quote that ends with a terminator (``。」``) without starting a new
# sentence: the quotative と/って (and colloquial っ), など, and case/topic particles.
# Matched as prefixes of the text after the closing bracket.
CONTINUATIONS = ("と", "って", "っ", "など", "の", "が", "を", "に", "は", "も", "で")

DIGITS = frozenset("0123456789０１２３４５６７８９")
ASCII_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
ASCII_BANGS = "!?"
# Characters that may precede the number of a numbered item such as "１．概要"; after
# anything else a digit followed by "．" ends a sentence as usual.
ITEM_PREFIX = frozenset(SPACES + OPENERS + "、，,：:；;・")
# Longest digit run accepted as an item number ("１２．"); longer runs are years etc.
MAX_ITEM_DIGITS = 3

_OPEN, _CLOSE, _TERM = 1, 2, 3
# Group numbers are the token kinds above (``Match.lastindex``).
_TOKEN = re.compile(
    f"([{re.escape(OPENERS)}])|([{re.escape(CLOSERS)}])|([{re.escape(TERMINATORS)}]+)"
)
_CLOSER_SET = frozenset(CLOSERS)


def _is_terminator(text: str, s: int, e: int, sent_start: int) -> bool:
    """Whether the terminator run ``text[s:e]`` really ends a sentence.

    Rejects the full-width point inside numbers (``３．５``) and after item numbers
    (``１．概要``), and ASCII ``!``/``?`` glued to an ASCII word (``Yahoo!ニュース``).
    """
    if s == 0:
        return True
    ch = text[s]
    prev = text[s - 1]
    if ch == "．" and e - s == 1 and prev in DIGITS:
        if e < len(text) and text[e] in DIGITS:
            return False  # decimal point
        k = s - 1
        while k > sent_start and text[k - 1] in DIGITS:
            k -= 1
        # Not an item number ("１．概要") unless short and at a sentence or list start.
        return s - k > MAX_ITEM_DIGITS or (k != sent_start and text[k - 1] not in ITEM_PREFIX)
    # "Yahoo!", "OK!?": ASCII marks glued to an ASCII word are part of a name.
    return not (ch in ASCII_BANGS and prev in ASCII_ALNUM and not text[s:e].strip(ASCII_BANGS))


def _matched_brackets(tokens: list[tuple[int, int, int]]) -> bytearray:
    """Flag the bracket tokens that have a partner; the others are ignored when splitting.

    Any closer closes the innermost open bracket (so mixed or mismatched pairs such as
    ``「（…」）`` still nest by depth). An opener that is still open more than
    MAX_BRACKET_CHARS characters later, or at the end of the block, stays unmatched, and
    a closer with nothing open is stray. The stack is pushed and popped once per bracket,
    so this is linear; expired openers are dropped from the bottom by moving ``base``.
    """
    matched = bytearray(len(tokens))
    stack: list[int] = []  # token indices of open brackets, oldest first
    base = 0  # stack[:base] are expired
    for i, (kind, s, _e) in enumerate(tokens):
        if kind == _OPEN:
            stack.append(i)
        elif kind == _CLOSE:
            while base < len(stack) and s - tokens[stack[base]][1] > MAX_BRACKET_CHARS:
                base += 1
            if base < len(stack):
                matched[stack.pop()] = 1
                matched[i] = 1
            if base == len(stack):
                stack.clear()
                base = 0
    return matched


def _skip(text: str, pos: int, chars: frozenset[str] | str) -> int:
    """The first position at or after ``pos`` whose character is not in ``chars``."""
    n = len(text)
    while pos < n and text[pos] in chars:
        pos += 1
    return pos


def split_text(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of one block's text (a single line).

    Spans are in order, non-overlapping, non-empty, trimmed of spaces (ASCII and U+3000),
    and together cover every non-space character of ``text``.
    """
    spans: list[tuple[int, int]] = []
    tokens = [(m.lastindex or 0, m.start(), m.end()) for m in _TOKEN.finditer(text)]
    matched = _matched_brackets(tokens) if tokens else b""

    def emit(a: int, b: int) -> None:
        seg = text[a:b]
        lo = len(seg) - len(seg.lstrip(SPACES))
        hi = len(seg.rstrip(SPACES))
        if hi > lo:
            spans.append((a + lo, a + hi))

    start = 0  # start of the current sentence (untrimmed)
    depth = 0  # nesting depth counting matched brackets only
    skip_until = 0  # tokens before this were absorbed into the previous sentence
    tail = -1  # end of the last terminator run plus the closers glued to it
    for i, (kind, s, e) in enumerate(tokens):
        if s < skip_until:
            continue
        if kind == _TERM:
            if not _is_terminator(text, s, e, start):
                continue
            tail = e
            if depth:
                continue
            # Closers right after a terminator at depth 0 are stray (every matched closer
            # lies at depth > 0): keep them with the sentence they close.
            end = _skip(text, e, _CLOSER_SET)
            if end > e and text.startswith(CONTINUATIONS, _skip(text, end, SPACES)):
                continue
        elif kind == _OPEN:
            if matched[i]:
                depth += 1
            continue
        else:
            if s != tail:
                if matched[i]:
                    depth -= 1
                continue
            tail = e  # "。』」": the chain of closers after a terminator goes on
            if not matched[i]:
                continue
            depth -= 1
            if depth:
                continue
            end = _skip(text, e, _CLOSER_SET)
            if text.startswith(CONTINUATIONS, _skip(text, end, SPACES)):
                continue
        emit(start, end)
        start = skip_until = end
    emit(start, len(text))
    return spans
