"""Feature hashing in numpy: n-gram counts of code points or word ids, no strings built.

Each n-gram's hash is a polynomial in its items (a 64-bit FNV-style base, seeded by the
n-gram order and a ``salt`` per feature family), mapped to one of ``2**bits`` columns by
its top bits after a multiplication by the golden ratio (Fibonacci hashing). The whole
batch is hashed in a few vectorised passes; n-grams never span two rows.

Why not scikit-learn's ``HashingVectorizer``: it builds a Python string per n-gram and
hashes it one at a time (3x slower on livedoor), and importing it costs a second of
start-up, which a scoring process should not pay. Only numpy is imported here.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain, repeat

import numpy as np

_MUL = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime: the polynomial base
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: Fibonacci hashing

Counts = tuple[np.ndarray, np.ndarray, np.ndarray]  # rows, columns, counts (int64)


def codepoints(text: str) -> np.ndarray:
    """The code points of ``text``, ``(len(text),)`` uint32."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


@lru_cache(maxsize=1 << 17)  # words repeat: hash each once
def _word_id(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


def ngram_keys(
    seqs: Sequence[np.ndarray], ngrams: tuple[int, int], salt: int
) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit hash of every n-gram of every sequence: ``rows`` (int64) and ``keys``
    (uint64), each ``(n_ngrams,)``; n-grams of order ``ngrams[0]..ngrams[1]``."""
    if not len(seqs):
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    lens = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    return ngram_keys_flat(np.concatenate(seqs), lens, ngrams, salt)


def ngram_keys_flat(
    items: np.ndarray, lens: np.ndarray, ngrams: tuple[int, int], salt: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ngram_keys` of sequences given end to end: ``items`` and the row lengths."""
    items = items.astype(np.uint64)
    row = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    rows, keys = [np.zeros(0, np.int64)], [np.zeros(0, np.uint64)]
    for n in range(ngrams[0], ngrams[1] + 1):
        m = len(items) - n + 1
        if m <= 0:
            continue
        h = np.full(m, np.uint64(salt * 64 + n), dtype=np.uint64)
        for k in range(n):
            h = h * _MUL + items[k : k + m]
        inside = row[:m] == row[n - 1 : n - 1 + m]
        rows.append(row[:m][inside])
        keys.append(h[inside])
    return np.concatenate(rows), np.concatenate(keys)


def top_bits(keys: np.ndarray, bits: int) -> np.ndarray:
    """Fibonacci hashing: the top ``bits`` bits of ``keys`` × the golden ratio, int64."""
    return ((keys * _GOLDEN) >> np.uint64(64 - bits)).astype(np.int64)


def ngram_counts(
    seqs: Sequence[np.ndarray], ngrams: tuple[int, int], bits: int, salt: int
) -> Counts:
    """Hashed n-gram counts of ``len(seqs)`` integer sequences, as sparse triples.

    Returns ``rows``, ``cols`` (in ``[0, 2**bits)``) and ``counts``, each ``(nnz,)`` int64,
    sorted by row then column, one entry per distinct (row, column).
    """
    rows, keys = ngram_keys(seqs, ngrams, salt)
    return _counts(rows, keys, bits)


def ngram_counts_flat(
    items: np.ndarray, lens: np.ndarray, ngrams: tuple[int, int], bits: int, salt: int
) -> Counts:
    """:func:`ngram_counts` of sequences given end to end: ``items`` and the row lengths."""
    return _counts(*ngram_keys_flat(items, lens, ngrams, salt), bits)


def _counts(rows: np.ndarray, keys: np.ndarray, bits: int) -> Counts:
    key, counts = np.unique((rows << bits) | top_bits(keys, bits), return_counts=True)
    return key >> bits, key & ((1 << bits) - 1), counts.astype(np.int64)


def words_flat(
    docs: Sequence[str], vocabulary: dict[str, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The word ids of space-separated ``docs`` end to end, and each doc's word count.

    Ids are stable hashes of the words, or with ``vocabulary`` its ids (0 for a word it
    does not hold).
    """
    words = [d.split() for d in docs]
    if vocabulary is not None:
        return words_of_lists(words, vocabulary)
    ids = np.fromiter(map(_word_id, chain.from_iterable(words)), dtype=np.uint64)
    return ids, np.fromiter(map(len, words), np.int64, len(words))


def words_of_lists(
    docs: Sequence[list[str]], vocabulary: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`words_flat` of docs given as word lists (its ``d.split()``), with ids from
    ``vocabulary`` (0 for a word it does not hold)."""
    found = map(vocabulary.get, chain.from_iterable(docs), repeat(0))
    ids = np.fromiter(found, dtype=np.uint64)
    return ids, np.fromiter(map(len, docs), np.int64, len(docs))


def chars_flat(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``texts`` end to end, and each text's length."""
    return codepoints("".join(texts)), np.fromiter(map(len, texts), np.int64, len(texts))
