"""The keyword-lexicon baseline for topics: a label fires when any of its words occurs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from honbun.labels import LabelConfig
from honbun.normalize import nfkc


def read_lexicon(path: Path) -> list[str]:
    """Keywords, one per line; blank lines and ``#`` comments ignored; NFKC-normalised."""
    words = []
    for line in path.read_text("utf-8").splitlines():
        w = line.split("#", 1)[0].strip()
        if w:
            words.append(nfkc(w))
    return words


@dataclass
class Lexicon:
    """Substring matching after NFKC: what an analyst's first keyword search does."""

    words: dict[str, list[str]]

    @classmethod
    def from_config(cls, labels: LabelConfig) -> Lexicon:
        return cls({t.name: read_lexicon(t.lexicon) for t in labels.topics if t.lexicon})

    def labels(self, text: str) -> list[str]:
        t = nfkc(text)
        return [name for name, words in self.words.items() if any(w in t for w in words)]
