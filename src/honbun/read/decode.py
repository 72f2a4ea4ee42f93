"""Bytes to text for Japanese pages.

Order of evidence, strongest first:

1. a byte-order mark;
2. ISO-2022-JP escape sequences (the bytes are 7-bit, so they would also "pass" as UTF-8);
3. strict UTF-8 — legacy-encoded Japanese text essentially never decodes as UTF-8, while
   pages that *declare* Shift_JIS or EUC-JP but store UTF-8 are common, so the bytes win
   over the declaration;
4. detection: UTF-8, each Japanese legacy codec, the charset a transport named (``hint``:
   the HTTP ``Content-Type`` of a crawled page) and the declared charset (``<meta
   charset>``, ``http-equiv``, XML declaration; searched in the whole ``<head>`` because
   some pages declare it late) are tried, and among those with few enough errors the one
   that reads most like Japanese wins; on a tie the hint, then the declared one (the HTML
   standard's order). A UTF-8 page with one stray byte stays UTF-8, not CP932 mojibake,
   whatever it declares.

A decode that needs more than :data:`MAX_REPLACEMENT_RATIO` replacement characters is
refused as undecodable rather than returned as mojibake.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# Python codec used for each charset label. CP932 and EUC-JIS-2004 are supersets of the
# labels pages actually use (they add NEC/IBM extensions such as ① and 髙).
_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ms932": "cp932",
    "cp932": "cp932",
    "euc-jp": "euc_jis_2004",
    "euc_jp": "euc_jis_2004",
    "x-euc-jp": "euc_jis_2004",
    "eucjp": "euc_jis_2004",
    "iso-2022-jp": "iso2022_jp_2004",
    "csiso2022jp": "iso2022_jp_2004",
    "utf-8": "utf-8",
    "utf8": "utf-8",
}
# Legacy codecs tried by detection, most common first.
_CANDIDATES = ("cp932", "euc_jis_2004", "iso2022_jp_2004")
MAX_REPLACEMENT_RATIO = 0.001  # more than 1 bad character in 1,000 is not a real page
HEAD_SCAN_BYTES = 65_536  # where a charset declaration may appear (late ones included)

_DECL = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.-]+)""",
    re.IGNORECASE,
)
_ISO2022 = re.compile(rb"\x1b\$[@B]|\x1b\(J|\x1b\$\(D")
_PLAUSIBILITY = (  # character classes and their weights in plausibility()
    (re.compile("[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]"), 1),
    (re.compile("[\uff61-\uff9f]"), -1),
    (re.compile("[\ue000-\uf8ff\x80-\x9f\ufffd]"), -3),
)


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the Python codec used
    declared: str | None  # the charset the page declared, if any
    replaced: int  # replacement characters introduced by undecodable bytes


class DecodeError(ValueError):
    """The bytes are not text in any encoding honbun knows."""


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its head, lower-cased, or ``None``."""
    head = data[:HEAD_SCAN_BYTES]
    end = head.lower().find(b"</head>")
    if end >= 0:
        head = head[:end]
    m = _DECL.search(head)
    if not m:
        return None
    label = (m.group(1) or m.group(2)).decode("ascii", "replace").lower()
    return label


def _codec(label: str) -> str | None:
    if label in _ALIASES:
        return _ALIASES[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(data: bytes, hint: str | None = None) -> Decoded:
    """Decode a page's bytes; raise :class:`DecodeError` if no encoding fits.

    ``hint``: a charset label from outside the page (an HTTP header), weighed as evidence
    in detection like the page's own declaration, never trusted over the bytes."""
    declared = declared_charset(data)
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            text = data[len(bom) :].decode(codec, "replace")
            return _checked(Decoded(text, codec, declared, text.count("\ufffd")))
    if _ISO2022.search(data[: HEAD_SCAN_BYTES * 4]):
        text = _strict(data, "iso2022_jp_2004") or _strict(data, "iso2022_jp_ext")
        if text is not None:
            return Decoded(text, "iso2022_jp_2004", declared, 0)
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", declared, 0)
    return _checked(_detect(data, declared, hint))


def _detect(data: bytes, declared: str | None, hint: str | None = None) -> Decoded:
    """Among the decodes with few enough bad characters, the most plausible Japanese
    (:func:`plausibility`); ties go to the hint, then the declared charset, then to fewer
    bad characters.

    Almost any byte string "decodes" as CP932 (it maps nearly every byte pair to some
    kanji or half-width katakana), so a UTF-8 page with one stray byte has no bad
    characters as CP932 but is mojibake; counting bad characters alone picks CP932.
    """
    codec = _codec(declared) if declared else None
    hinted = _codec(hint.strip().lower()) if hint else None
    named = [c for c in (hinted, codec) if c]
    candidates = []
    for c in dict.fromkeys(("utf-8", *_CANDIDATES, *named)):
        text = data.decode(c, "replace")
        bad = text.count("\ufffd")
        ok = _tolerable(bad, text)  # only these can win: skip scoring the others
        key = (ok, plausibility(text) if ok else 0, c == hinted, c == codec, -bad)
        candidates.append((key, Decoded(text, c, declared, bad)))
    return max(candidates, key=lambda k: k[0])[1]


def plausibility(text: str) -> int:
    """How much ``text`` reads as Japanese: +1 per kana, kanji, CJK punctuation or full-
    width character, -1 per half-width katakana, -3 per private-use, C1 control or U+FFFD
    character (what legacy codecs make of UTF-8 bytes, and what a bad byte becomes)."""
    return sum(weight * len(pattern.findall(text)) for pattern, weight in _PLAUSIBILITY)


def _tolerable(bad: int, text: str) -> bool:
    return bad <= max(1, len(text) * MAX_REPLACEMENT_RATIO)


def _checked(d: Decoded) -> Decoded:
    if not _tolerable(d.replaced, d.text):
        raise DecodeError(
            f"undecodable bytes: best guess {d.encoding} leaves {d.replaced} bad characters"
            f" in {len(d.text)}"
        )
    return d
