"""The keyword-lexicon baseline for topics: a label fires when any of its words occurs."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from honbun.labels import LabelConfig
from honbun.read.normalize import nfkc

_SEPARATOR = "\x00"  # joins texts in Lexicon.fired; never in a block (clean_whitespace)


def read_lexicon(path: Path) -> list[str]:
    """Keywords, one per line; blank lines and ``#`` comments ignored; NFKC-normalised."""
    words = []
    for line in path.read_text("utf-8").splitlines():
        w = line.split("#", 1)[0].strip()
        if w:
            words.append(nfkc(w))
    return words


def read_word_groups(path: str | Path) -> dict[str, list[str]]:
    """The ``[groups]`` table of a TOML file (name -> words), the words NFKC'd."""
    import tomllib

    try:
        with open(path, "rb") as fh:
            groups = tomllib.load(fh).get("groups", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read word groups: {exc}") from exc
    if not groups or not all(isinstance(w, list) for w in groups.values()):
        raise ValueError(f"{path}: expected a [groups] table of word lists")
    return {str(name): [nfkc(str(w)) for w in words] for name, words in groups.items()}


@dataclass
class Lexicon:
    """Substring matching after NFKC: what an analyst's first keyword search does."""

    words: dict[str, list[str]]
    _compiled: dict[str, re.Pattern[str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _odd: bool | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def normalised(cls, words: dict[str, list[str]]) -> Lexicon:
        """A lexicon of ``words`` (label -> keywords) NFKC'd, as :func:`read_lexicon` makes them."""
        return cls({name: [nfkc(w) for w in ws] for name, ws in words.items()})

    @classmethod
    def from_config(cls, labels: LabelConfig) -> Lexicon:
        return cls({t.name: read_lexicon(t.lexicon) for t in labels.topics if t.lexicon})

    def labels(self, text: str) -> list[str]:
        t = nfkc(text)
        return [name for name, rx in self._patterns().items() if rx.search(t)]

    def fired(self, texts: list[str]) -> list[set[str]]:
        """``set(self.labels(t))`` for each of ``texts``, one regex pass per label.

        The texts are searched joined by NUL; when neither a text nor a keyword holds a
        NUL, a match lies inside one text, and each text with a match gets at least one
        (otherwise the texts are searched one by one).
        """
        return self.fired_normalised([nfkc(t) for t in texts])  # most pass NFKC's quick check

    def fired_normalised(self, normalised: list[str]) -> list[set[str]]:
        """:meth:`fired` of texts already NFKC'd (a caller that needs them anyway)."""
        out: list[set[str]] = [set() for _ in normalised]
        if not normalised:
            return out
        joined = _SEPARATOR.join(normalised)
        if joined.count(_SEPARATOR) != len(normalised) - 1 or self._separator_in_keywords():
            return [set(self.labels(t)) for t in normalised]  # NFKC is idempotent
        starts = list(accumulate((len(t) + 1 for t in normalised[:-1]), initial=0))
        for name, rx in self._patterns().items():
            for m in rx.finditer(joined):
                out[bisect_right(starts, m.start()) - 1].add(name)
        return out

    def _separator_in_keywords(self) -> bool:
        if self._odd is None:
            self._odd = any(_SEPARATOR in w for ws in self.words.values() for w in ws)
        return self._odd

    def _patterns(self) -> dict[str, re.Pattern[str]]:
        # One alternation per label: the same substring test as `any(w in t ...)`, in C.
        if self._compiled is None:
            self._compiled = {
                name: re.compile("|".join(map(re.escape, words)) if words else r"(?!)")
                for name, words in self.words.items()
            }
        return self._compiled
