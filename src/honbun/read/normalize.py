"""Text normalisation, made explicit.

Two levels, used for two different jobs:

* :func:`clean_whitespace` is applied to every block **before** offsets are computed, so
  the page text honbun outputs is already clean: control characters and zero-width
  characters are removed, every run of ASCII/Unicode spaces (tabs and newlines included)
  becomes one ASCII space, and the ends are trimmed (ideographic space U+3000 included).
  A U+3000 *inside* a line is kept: Japanese headlines use it as a separator.
  Full-width letters and digits are **not** folded here, so the output is the text as
  published.
* :func:`nfkc` (Unicode NFKC: full-width ASCII → ASCII, half-width katakana → full-width,
  ``①`` → ``1``) is applied only when computing features and comparing texts in
  evaluation; it never changes offsets.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that carry no text: C0/C1 controls (but not \t \n), zero-width marks, BOM,
# soft hyphen. They come from copy-paste and from CMS output and break equality checks.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufeff]")
# Every kind of space except U+3000, plus line breaks: collapsed to one ASCII space.
_SPACES = re.compile("[ \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f]+")
_TRIM = " \u3000"
_NEWLINES = re.compile("\r\n?")
_SPACE_RUNS = re.compile(r"\s\s+")


def clean_whitespace(text: str) -> str:
    """Return ``text`` on one line, invisible characters removed, spaces collapsed, trimmed."""
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip(_TRIM)


def unify_newlines(text: str) -> str:
    """CRLF and lone CR become LF (26 of the development pages mix them)."""
    return _NEWLINES.sub("\n", text)


def squeeze_spaces(text: str) -> str:
    """Each run of two or more white-space characters as one space (what scikit-learn's
    character analyzer does before taking n-grams)."""
    return _SPACE_RUNS.sub(" ", text)


def nfkc(text: str) -> str:
    """NFKC-normalise ``text`` for features and comparison (never for output offsets)."""
    return unicodedata.normalize("NFKC", text)


_NOSPACE = re.compile(r"\s+")


def compact(text: str) -> str:
    """NFKC without any whitespace: the form evaluation compares article texts in."""
    return _NOSPACE.sub("", nfkc(text))
