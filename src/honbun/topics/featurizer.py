"""The topic model's features: TF-IDF of content-lemma n-grams, character n-grams and the
neighbouring sentences' lemmas, plus one lexicon-hit column per label, fitted on training
sentences (scikit-learn's ``TfidfVectorizer``; scoring runs the numpy export of it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from honbun.features.text import TextItem, lexicon_hits
from honbun.read.normalize import nfkc
from honbun.topics.config import TopicConfig

if TYPE_CHECKING:
    import scipy.sparse as sp


class TextFeaturizer:
    """TF-IDF of lemma n-grams, character n-grams and context lemmas (+ lexicon hits), stacked."""

    def __init__(self, cfg: TopicConfig, lexicon: dict[str, list[str]] | None = None) -> None:
        self.cfg = cfg
        self.lexicon = lexicon if cfg.lexicon_features and lexicon else {}

    def fit(self, items: list[TextItem]) -> TextFeaturizer:
        from sklearn.feature_extraction.text import TfidfVectorizer

        cfg = self.cfg
        self.word_ = TfidfVectorizer(
            tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=cfg.word_ngrams,
            min_df=cfg.min_df, max_features=cfg.max_features, sublinear_tf=True,
        )  # fmt: skip
        self.char_ = TfidfVectorizer(
            analyzer="char", ngram_range=cfg.char_ngrams, min_df=max(cfg.min_df, 2),
            max_features=cfg.max_features, sublinear_tf=True, preprocessor=nfkc,
        )  # fmt: skip
        self.ctx_ = None
        self.word_.fit([it.lemmas for it in items])
        self.char_.fit([it.text for it in items])
        if cfg.context:
            self.ctx_ = TfidfVectorizer(
                tokenizer=str.split, token_pattern=None, lowercase=False, sublinear_tf=True
            )
            self.ctx_.fit([it.context_lemmas or "ctx:" for it in items])
        return self

    def transform(self, items: list[TextItem]) -> sp.csr_matrix:
        import scipy.sparse as sp

        parts = [self.word_.transform([it.lemmas for it in items])]
        parts.append(self.char_.transform([it.text for it in items]))
        if self.ctx_ is not None:
            # Context counts half: it helps with "同国" or "同軍" but must not dominate.
            parts.append(0.5 * self.ctx_.transform([it.context_lemmas or "ctx:" for it in items]))
        if self.lexicon:
            w = self.cfg.lexicon_weight
            parts.append(w * lexicon_hits([it.text for it in items], self.lexicon))
        return sp.hstack(parts).tocsr()

    def lexicon_column(self, label: str) -> int | None:
        """Column index of ``lex:<label>`` (the lexicon block comes last), if any."""
        if label not in self.lexicon:
            return None
        return self.n_features() - len(self.lexicon) + list(self.lexicon).index(label)

    def n_features(self) -> int:
        n = len(self.word_.vocabulary_) + len(self.char_.vocabulary_) + len(self.lexicon)
        return n + (len(self.ctx_.vocabulary_) if self.ctx_ is not None else 0)

    def feature_names(self) -> list[str]:
        names = [f"w:{x}" for x in self.word_.get_feature_names_out()]
        names += [f"c:{x}" for x in self.char_.get_feature_names_out()]
        if self.ctx_ is not None:
            names += list(self.ctx_.get_feature_names_out())
        names += [f"lex:{x}" for x in self.lexicon]
        return names
