"""Reference extractors run in the same evaluation as the model.

``all_body`` and ``rule`` (C4/HojiChar-style: a line is body when it ends in terminal
punctuation and is long enough) label blocks; ``trafilatura`` (three settings) and
``readability`` extract text from the HTML and are scored on text only. The last two are
the optional ``baselines`` extra and are imported only here, only when asked for.
Each text extractor gets the decoded HTML (honbun's decoding, so no baseline loses to
mojibake) and its own extracted title is put first, as honbun's body text does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from honbun.read.page import Page

RULE_MIN_CHARS = 20  # C4 keeps lines with >= 3 words; ~20 characters in Japanese
RULE_TERMINALS = ("。", "！", "？", "!", "?", "」", "』", "）", ")")


def all_body(page: Page) -> np.ndarray:
    return np.ones(len(page.blocks), dtype=int)


def rule(page: Page) -> np.ndarray:
    return np.array(
        [len(b.text) >= RULE_MIN_CHARS and b.text.endswith(RULE_TERMINALS) for b in page.blocks],
        dtype=int,
    )


BLOCK_BASELINES: dict[str, Callable[[Page], np.ndarray]] = {"all-body": all_body, "rule": rule}


def _trafilatura(html: str, **kw: bool) -> str:
    import trafilatura

    doc = trafilatura.bare_extraction(html, include_comments=False, with_metadata=True, **kw)
    if doc is None:
        return ""
    get = doc.get if isinstance(doc, dict) else (lambda k: getattr(doc, k, None))
    title, text = get("title") or "", get("text") or ""
    return f"{title}\n{text}" if title else text


def _readability(html: str) -> str:
    import lxml.html
    from readability import Document

    d = Document(html)
    body = lxml.html.fromstring(d.summary(html_partial=True)).text_content()
    return f"{d.short_title()}\n{body}"


TEXT_BASELINES: dict[str, Callable[[str], str]] = {
    "trafilatura": lambda h: _trafilatura(h),
    "trafilatura-precision": lambda h: _trafilatura(h, favor_precision=True),
    "trafilatura-recall": lambda h: _trafilatura(h, favor_recall=True),
    "readability-lxml": _readability,
}


def available_text_baselines() -> list[str]:
    """The text baselines whose packages are installed (the ``baselines`` extra)."""
    out = []
    try:
        import trafilatura  # noqa: F401

        out += ["trafilatura", "trafilatura-precision", "trafilatura-recall"]
    except ImportError:
        pass
    try:
        import readability  # noqa: F401

        out.append("readability-lxml")
    except ImportError:
        pass
    return out
