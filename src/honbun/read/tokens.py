"""Japanese tokenisation with fugashi and the unidic-lite dictionary.

The dictionary is chosen explicitly: fugashi's ``Tagger()`` silently prefers the full
``unidic`` package when it is installed, which would change every token (and so every
feature) without notice. One Tagger is cached per process; Taggers do not pickle, so
worker processes build their own on first use.

Speed: :func:`tokenize` does not walk fugashi's node objects (one Python object and one
feature namedtuple per morpheme). A second MeCab tagger over the same dictionary prints
each morpheme as one ``surface<TAB>raw feature CSV<TAB>char type`` line, and each
distinct line is turned into a :class:`Token` once per process (Tokens are immutable, so
they are shared). The result is exactly what the node walk gives — the same lattice,
the same feature string, parsed as fugashi parses it — about 2× faster. Texts that
contain a tab, a newline or a NUL (which would break the line format, or which fugashi
truncates) take the node walk on that same tagger. :func:`tagger` (the plain fugashi
Tagger) is only built when asked for, so a scoring process maps the 260 MB dictionary
(``sys.dic`` + ``matrix.bin``, shared file pages) once, not twice.
"""

from __future__ import annotations

import csv
import os
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from sys import intern
from typing import Any

from honbun.read.normalize import nfkc

# MeCab's character categories (char.def of UniDic), indexed by fugashi's ``char_type``.
CHAR_TYPES = (
    "DEFAULT", "SPACE", "KANJI", "SYMBOL", "NUMERIC", "ALPHA", "HIRAGANA", "KATAKANA",
    "KANJINUMERIC", "GREEK", "CYRILLIC",
)  # fmt: skip

# Per-process cache of Tokens by MeCab output line (~500 bytes an entry). Once full it
# stops growing: the morphemes seen first are the frequent ones, so memory stays bounded
# (<= ~25 MB) and the hit rate high.
TOKEN_CACHE_MAX = 50_000
TEXT_CACHE_SIZE = 2048  # recent texts: a page's blocks, met again when its sentences are cut
MAX_BLOCK_CHARS = 5000  # tokens beyond this add nothing to a block's features
_LINE_FORMAT = r"%m\t%H\t%t\n"


@dataclass(frozen=True, slots=True)
class Token:
    """One morpheme: ``lemma`` falls back to ``surface`` for unknown words.

    ``norm`` (the NFKC'd lemma), ``words`` (``norm.split()``) and ``blank`` (the surface
    is white space) are what the topic features read; a Token is made once per distinct
    morpheme, so they are too.
    """

    surface: str
    lemma: str
    pos1: str
    pos2: str
    char_type: str
    norm: str = field(default="", compare=False)
    # What the topic features' str.split makes of ``norm``: one word nearly always, but
    # NFKC turns a few characters into a space and a combining mark (゛ → " ゙").
    words: tuple[str, ...] = field(default=(), compare=False)
    blank: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "norm", nfkc(self.lemma))
        object.__setattr__(self, "words", tuple(self.norm.split()))
        object.__setattr__(self, "blank", not self.surface.strip())


def _args() -> str:
    import unidic_lite

    dicdir = unidic_lite.DICDIR
    rc = os.path.join(dicdir, "mecabrc")
    return f'-r "{rc}" -d "{dicdir}"'


@lru_cache(maxsize=1)
def tagger() -> Any:
    """The process-wide fugashi Tagger over unidic-lite (built on first use)."""
    import fugashi

    return fugashi.Tagger(_args())


@lru_cache(maxsize=1)
def _line_tagger() -> Any:
    """A MeCab tagger over the same dictionary that prints one line per morpheme."""
    import fugashi

    fmt = f'-O "" -F "{_LINE_FORMAT}" -U "{_LINE_FORMAT}" -E "" -B ""'
    return fugashi.GenericTagger(f"{_args()} {fmt}")


def dictionary_info() -> dict[str, str]:
    """Name and version of the dictionary in use, for run records and model cards."""
    from importlib.metadata import version

    info = _line_tagger().dictionary_info[0]  # the same dictionary file as tagger()
    return {
        "tokenizer": "fugashi",
        "fugashi_version": version("fugashi"),
        "dictionary": "unidic-lite",
        "dictionary_version": version("unidic-lite"),
        "dictionary_file": os.path.basename(info["filename"]),
        "dictionary_charset": info["charset"],
    }


def _make_token(surface: str, fields: list[str] | tuple[Any, ...], ct: int) -> Token:
    # As fugashi's UnidicNode.feature: missing fields (unknown words) are None.
    n = len(fields)
    lemma = fields[7] if n > 7 else None
    pos1 = intern(fields[0]) if n > 0 and fields[0] is not None else None
    pos2 = intern(fields[1]) if n > 1 and fields[1] is not None else None
    return Token(
        surface,
        lemma if lemma and lemma != "*" else surface,
        pos1,  # type: ignore[arg-type]
        pos2,  # type: ignore[arg-type]
        CHAR_TYPES[ct] if ct < len(CHAR_TYPES) else "",
    )


class _TokenCache(dict[str, Token]):
    """Tokens by MeCab output line; a miss parses the line (and stores it while not full)."""

    def __missing__(self, line: str) -> Token:
        surface, feature, ct = line.split("\t")
        # fugashi splits the feature CSV on commas unless a field is quoted.
        fields = next(csv.reader([feature])) if '"' in feature else feature.split(",")
        tok = _make_token(surface, fields, int(ct))
        if len(self) < TOKEN_CACHE_MAX:
            self[line] = tok
        return tok


_token_cache = _TokenCache()


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _tokenize_lines(text: str) -> tuple[Token, ...]:
    out = _line_tagger().parse(text)
    if not out:
        return ()
    return tuple(map(_token_cache.__getitem__, out.split("\n")))


def _tokenize_nodes(text: str) -> list[Token]:
    # fugashi's node walk, on the same MeCab tagger (one dictionary mapping per process).
    return [_make_token(w.surface, w.feature, w.char_type) for w in _line_tagger()(text)]


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` in order."""
    if "\t" in text or "\n" in text or "\0" in text:
        return _tokenize_nodes(text)
    return list(_tokenize_lines(text))


def block_tokens(text: str) -> list[Token]:
    """Tokens of a block's first :data:`MAX_BLOCK_CHARS` characters (cached per text)."""
    return tokenize(text[:MAX_BLOCK_CHARS])


def cut_tokens(
    text: str, tokens: list[Token], spans: list[tuple[int, int]]
) -> list[list[Token]] | None:
    """``tokens`` of ``text`` cut into character ``spans`` ``[(start, end), ...]`` of ``text``.

    A token goes to the span it starts in; tokens outside every span are dropped. Returns
    None when a surface cannot be found in ``text`` (then tokenise the spans instead).
    Sentences end at 。！？ or a line break, which MeCab always makes token boundaries; the
    cut differs from tokenising the sentence alone only where MeCab's lattice looks
    across that boundary. Training cuts its sentences the same way, so features agree,
    and scoring tokenises each block once instead of once more per sentence.
    """
    surfaces = [t.surface for t in tokens]
    if "".join(surfaces) == text:  # nothing skipped (no white space): starts are sums
        starts = list(accumulate(map(len, surfaces), initial=0))[:-1]
    else:
        starts, pos = [], 0
        for surface in surfaces:
            i = text.find(surface, pos)
            if i < 0:
                return None
            starts.append(i)
            pos = i + len(surface)
    out: list[list[Token]] = []
    for lo, hi in spans:
        out.append(tokens[bisect_left(starts, lo) : bisect_left(starts, hi)])
    return out


def clear_caches() -> None:
    """Forget cached tokens (for benchmarks that time tokenisation from cold)."""
    _tokenize_lines.cache_clear()
    _token_cache.clear()
