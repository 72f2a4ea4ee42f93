"""Japanese tokenisation with fugashi and the unidic-lite dictionary.

The dictionary is chosen explicitly: fugashi's ``Tagger()`` silently prefers the full
``unidic`` package when it is installed, which would change every token (and so every
feature) without notice. One Tagger is cached per process; Taggers do not pickle, so
worker processes build their own on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# MeCab's character categories (char.def of UniDic), indexed by fugashi's ``char_type``.
CHAR_TYPES = (
    "DEFAULT", "SPACE", "KANJI", "SYMBOL", "NUMERIC", "ALPHA", "HIRAGANA", "KATAKANA",
    "KANJINUMERIC", "GREEK", "CYRILLIC",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Token:
    """One morpheme: ``lemma`` falls back to ``surface`` for unknown words."""

    surface: str
    lemma: str
    pos1: str
    pos2: str
    char_type: str


@lru_cache(maxsize=1)
def tagger() -> Any:
    """The process-wide fugashi Tagger over unidic-lite (built on first use)."""
    import fugashi
    import unidic_lite

    dicdir = unidic_lite.DICDIR
    rc = os.path.join(dicdir, "mecabrc")
    return fugashi.Tagger(f'-r "{rc}" -d "{dicdir}"')


def dictionary_info() -> dict[str, str]:
    """Name and version of the dictionary in use, for run records and model cards."""
    from importlib.metadata import version

    info = tagger().dictionary_info[0]
    return {
        "tokenizer": "fugashi",
        "fugashi_version": version("fugashi"),
        "dictionary": "unidic-lite",
        "dictionary_version": version("unidic-lite"),
        "dictionary_file": os.path.basename(info["filename"]),
        "dictionary_charset": info["charset"],
    }


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` in order."""
    out = []
    for w in tagger()(text):
        f = w.feature
        lemma = f.lemma if f.lemma and f.lemma != "*" else w.surface
        ct = w.char_type
        out.append(
            Token(w.surface, lemma, f.pos1, f.pos2, CHAR_TYPES[ct] if ct < len(CHAR_TYPES) else "")
        )
    return out
