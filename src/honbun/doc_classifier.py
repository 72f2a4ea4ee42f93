"""Single-label document classification: the same workflow on a user's own label set.

Benchmarked on the livedoor news corpus (9 categories). Features are hashed (stateless,
so nothing is fitted on test folds and the text is vectorised once): lemma uni/bigrams of
content words and character n-grams, each re-weighted by a TF-IDF transformer fitted on
the training fold only; the classifier is a linear SVM (one-vs-rest, squared hinge).

Shapes: ``fit(texts, y)`` with ``y`` an array of label strings; ``predict(texts)``
returns an array of label strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from honbun.normalize import nfkc
from honbun.topics import DEFAULT_STOP_POS, analyse

HASH_FEATURES = 2**21  # collisions are negligible at this size for a 7k-document corpus


@dataclass
class DocConfig:
    model: str = "svm"  # "svm" | "logreg"
    C: float = 0.5
    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] = (1, 2)
    max_chars: int = 20_000  # longer articles add nothing but time
    seed: int = 13

    @classmethod
    def from_dict(cls, d: dict[str, Any], seed: int = 13) -> DocConfig:
        d = dict(d)
        bad = set(d) - set(cls.__dataclass_fields__)
        if bad:
            raise ValueError(f"[documents] unknown settings: {sorted(bad)}")
        for key in ("char_ngrams", "word_ngrams"):
            if key in d:
                d[key] = tuple(d[key])
        d.setdefault("seed", seed)
        return cls(**d)


def vectorise(texts: list[str], cfg: DocConfig) -> sp.csr_matrix:
    """Hashed counts of lemma n-grams and character n-grams, ``(n_docs, 2 * HASH_FEATURES)``."""
    from sklearn.feature_extraction.text import HashingVectorizer

    lemmas = [analyse(t[: cfg.max_chars], DEFAULT_STOP_POS) for t in texts]
    word = HashingVectorizer(
        tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=cfg.word_ngrams,
        n_features=HASH_FEATURES, alternate_sign=False, norm=None,
    )  # fmt: skip
    char = HashingVectorizer(
        analyzer="char", ngram_range=cfg.char_ngrams, n_features=HASH_FEATURES,
        alternate_sign=False, norm=None, preprocessor=nfkc,
    )  # fmt: skip
    return sp.hstack(
        [word.transform(lemmas), char.transform([t[: cfg.max_chars] for t in texts])]
    ).tocsr()


class DocumentClassifier:
    """TF-IDF re-weighting + linear classifier over pre-hashed features."""

    def __init__(self, cfg: DocConfig) -> None:
        self.cfg = cfg

    def fit(self, X: sp.csr_matrix, y: np.ndarray) -> DocumentClassifier:
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(X)
        Z = self.tfidf_.transform(X)
        if self.cfg.model == "logreg":
            self.clf_ = LogisticRegression(C=self.cfg.C * 20, max_iter=2000)
        else:
            self.clf_ = LinearSVC(C=self.cfg.C, random_state=self.cfg.seed)
        self.clf_.fit(Z, y)
        return self

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        return self.clf_.predict(self.tfidf_.transform(X))

    @property
    def classes_(self) -> np.ndarray:
        return self.clf_.classes_
