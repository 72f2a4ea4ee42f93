"""Hashed bags of a page's blocks: DOM tokens, lemma uni/bigrams, character 2/3-grams.

Each family is hashed into its own range of columns (:data:`HASH_BITS`), so a block's bag
is a list of ``(row, column, count)`` triples and no vocabulary is kept. The block model's
linear stage weights them with :class:`SparseDesign`, fitted on the training pages: DOM
tokens stay binary, lemma and character n-grams become sublinear TF-IDF, L2-normalised
per family, and columns seen on too few training blocks are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from honbun.features.hashing import Counts, chars_flat, ngram_counts_flat, words_flat
from honbun.read.normalize import squeeze_spaces

if TYPE_CHECKING:  # scipy is imported where it is used: scoring does without it
    import scipy.sparse as sp

MAX_NGRAM_CHARS = 1000  # characters of a block whose character n-grams are hashed
HASH_BITS = {"dom": 16, "lemma": 18, "char": 18}  # hashed columns per sparse family (log2)
HASH_NGRAMS = {"dom": (1, 1), "lemma": (1, 2), "char": (2, 3)}  # n-gram orders per family
HASH_SALT = {"dom": 3, "lemma": 4, "char": 5}  # so the families hash differently
MIN_DF = {"dom": 2, "lemma": 2, "char": 3}  # training-page document frequency to keep a column


# ------------------------------------------------------------------------ preparing
def family_slices() -> dict[str, tuple[int, int]]:
    out, lo = {}, 0
    for name, bits in HASH_BITS.items():
        out[name] = (lo, lo + 2**bits)
        lo += 2**bits
    return out


def _char_text(text: str) -> str:
    # Lower-cased, runs of white space as one space: "ＡＢＣ" and "ＡＢＣ  " share n-grams.
    return squeeze_spaces(text[:MAX_NGRAM_CHARS].lower())


def hash_blocks(dom: list[str], lemmas: list[str], texts: list[str]) -> Counts:
    """Hashed counts of the sparse families of a page's blocks, as ``(rows, cols, counts)``.

    ``rows`` are block indices, ``cols`` index ``sum(2 ** HASH_BITS)`` columns: DOM tokens,
    then lemma uni/bigrams, then character 2/3-grams (see :mod:`honbun.features.hashing`).
    """
    seqs = {
        "dom": words_flat(dom),
        "lemma": words_flat(lemmas),
        "char": chars_flat([_char_text(t) for t in texts]),
    }
    rows, cols, counts = [], [], []
    for name, (lo, _) in family_slices().items():
        items, lens = seqs[name]
        r, c, n = ngram_counts_flat(
            items, lens, HASH_NGRAMS[name], HASH_BITS[name], HASH_SALT[name]
        )
        rows.append(r)
        cols.append(c + lo)
        counts.append(n)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(counts)


# ------------------------------------------------------------------ sparse weighting
class SparseDesign:
    """Column filter and weighting of the hashed families, fitted on training pages.

    ``dom`` stays binary; ``lemma`` and ``char`` become sublinear TF-IDF, L2-normalised
    per family. Columns seen on fewer than :data:`MIN_DF` training blocks are dropped.
    """

    def __init__(self, families: tuple[str, ...]) -> None:
        self.families = families
        self.keep: dict[str, np.ndarray] = {}
        self.idf: dict[str, np.ndarray] = {}

    def fit(self, X: sp.csr_matrix) -> SparseDesign:
        n = X.shape[0]
        for name in self.families:
            lo, hi = family_slices()[name]
            sub = X[:, lo:hi]
            df = np.bincount(sub.indices, minlength=hi - lo)
            keep = np.flatnonzero(df >= MIN_DF[name])
            self.keep[name] = keep
            self.idf[name] = np.log((1 + n) / (1 + df[keep])) + 1.0
        return self

    def transform(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """``(n_blocks, kept columns)`` float32 CSR."""
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        mats = []
        for name in self.families:
            lo, hi = family_slices()[name]
            sub = X[:, lo:hi][:, self.keep[name]].tocsr()
            if name == "dom":
                sub.data = np.minimum(sub.data, 1.0)
            else:
                sub.data = 1.0 + np.log(sub.data)
                sub = normalize(sub @ sp.diags(self.idf[name].astype(np.float32)))
            mats.append(sub)
        return sp.hstack(mats, format="csr", dtype=np.float32)
