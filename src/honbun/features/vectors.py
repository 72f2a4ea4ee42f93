"""Pretrained Japanese word vectors (chiVe, via the ja-ginza wheel): a sentence's meaning
beyond the words annotated examples happened to use.

The table (``data/vectors/``, built by its ``build_chive.py``) holds 20,000 chiVe vectors
reduced to 64 dimensions and, for each of the 480,425 words of the vocabulary, an 8-byte
BLAKE2b hash of the word with the row of its vector, sorted so a word is found by binary
search. A text's vector is the mean of its content words' vectors, scaled to unit length
(zero when no word is known): ``(n_texts, dims)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from honbun.read.tokens import Token

DEFAULT_VECTORS = Path("data/vectors/chive-ja_ginza-5.3.0.npz")
SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})  # words that carry no topic


@lru_cache(maxsize=200_000)
def load_vectors(path: str | Path) -> WordVectors:
    """The table at ``path``, read once per process."""
    return _load(str(path))


@lru_cache(maxsize=2)
def _load(path: str) -> WordVectors:
    return WordVectors.load(path)


def word_key(word: str) -> int:
    """The key a word is stored under (the build script's hash)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass
class WordVectors:
    """Words' vectors: ``keys`` (sorted uint64) → ``rows`` → ``table`` ``(n_vectors, dims)``."""

    keys: np.ndarray
    rows: np.ndarray
    table: np.ndarray
    source: str = ""
    _rows_of: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_VECTORS) -> WordVectors:
        with np.load(path) as z:
            table = z["table"].astype(np.float32)
            return cls(z["keys"], z["rows"].astype(np.int64), table, str(path))

    @property
    def dims(self) -> int:
        return int(self.table.shape[1])

    def row(self, word: str) -> int:
        """The row of ``word``'s vector, or -1."""
        row = self._rows_of.get(word)
        if row is None:
            key = np.uint64(word_key(word))
            at = int(np.searchsorted(self.keys, key))
            row = int(self.rows[at]) if at < len(self.keys) and self.keys[at] == key else -1
            if len(self._rows_of) < 500_000:  # a page's words repeat; bounded for long runs
                self._rows_of[word] = row
        return row

    def mean(self, token_lists: list[list[Token]]) -> np.ndarray:
        """``(len(token_lists), dims)``: each list's content words' mean vector, unit length."""
        out = np.zeros((len(token_lists), self.dims), dtype=np.float32)
        for i, tokens in enumerate(token_lists):
            rows = []
            for t in tokens:
                if t.blank or t.pos1 in SKIP_POS:
                    continue
                r = self.row(t.surface)
                if r < 0 and t.lemma != t.surface:
                    r = self.row(t.lemma)
                if r >= 0:
                    rows.append(r)
            if rows:
                v = self.table[rows].mean(axis=0)
                n = float(np.linalg.norm(v))
                out[i] = v / n if n else v
        return out

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_rows_of": {}}  # the lookup cache is rebuilt on use
