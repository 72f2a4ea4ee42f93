"""The topic tagger: multi-label, one-vs-rest linear models over sentence text.

Pipeline, top to bottom:

1. :func:`prepare_items` — fugashi tokens of a text (cut from its block's tokens by
   :func:`page_items`) → content-word lemmas (:func:`content_lemmas`: tokens whose POS is
   in ``stop_pos`` are dropped; configurable).
2. :class:`TextFeaturizer` — TF-IDF of lemma uni/bigrams + TF-IDF of character n-grams
   (NFKC) + optionally the lemmas of the neighbouring sentences (prefixed ``ctx:``) +
   optionally one lexicon-hit column per label (``lex:<label>``: the sentence contains a
   word of that label's keyword lexicon). The model learns how far to trust each lexicon;
   the n-grams around the hit tell 派遣社員 from 部隊派遣.
3. :class:`TopicTagger` — per label, logistic regression or a linear SVM calibrated to
   probabilities (sigmoid, 3 folds), class-weighted for rare labels; a decision threshold
   per label tuned to maximise F1 on out-of-fold probabilities (scikit-learn's threshold
   tuners are binary-only, so it is done label by label). A label with fewer than
   ``min_positives`` positive training sentences cannot be learned; it falls back to its
   lexicon (:class:`LexiconRule`) until more are annotated — the cold start of a label a
   user has just added.
4. :func:`rollup` — block and document scores are the maximum of their sentences'
   probabilities: one clear sentence is enough to say a paragraph is about a topic, and
   unlike noisy-or the score does not creep up with the number of weak sentences.

Shapes: ``fit(items, Y)`` with ``Y`` of shape ``(n_items, n_labels)`` in {0, 1};
``predict_proba(items)`` returns ``(n_items, n_labels)`` floats in [0, 1].
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from honbun.normalize import nfkc
from honbun.page import Page, Sentence
from honbun.tokens import MAX_BLOCK_CHARS, Token, block_tokens, cut_tokens, tokenize

if TYPE_CHECKING:  # scipy is imported where it is used: scoring does without it
    import scipy.sparse as sp

DEFAULT_STOP_POS = ("助詞", "助動詞", "補助記号", "記号", "空白")
THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)
INNER_FOLDS = 3


@dataclass
class TopicConfig:
    """Settings of the topic model; built from the ``[topics]`` config table."""

    model: str = "logreg"  # "logreg" | "svm"
    C: float = 4.0
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 3)
    context: bool = True
    stop_pos: tuple[str, ...] = DEFAULT_STOP_POS
    min_df: int = 1
    max_features: int = 200_000
    class_weight: str | None = "balanced"
    tune_thresholds: bool = True
    lexicon_features: bool = True  # one lexicon-hit column per label (needs a lexicon)
    # Value of a hit column, against TF-IDF rows of norm 1. 5-fold x 3 CV, macro F1:
    # 1.0 -> 0.492, 0.5 -> 0.509, 0.25 -> 0.484; without the column 0.354.
    lexicon_weight: float = 0.5
    # Fewer positive training sentences: the label is its lexicon (read from its lex:
    # column, so this needs lexicon_features).
    min_positives: int = 5
    seed: int = 13

    @classmethod
    def from_dict(cls, d: dict[str, Any], seed: int = 13) -> TopicConfig:
        d = dict(d)
        bad = set(d) - set(cls.__dataclass_fields__)
        if bad:
            raise ValueError(f"[topics] unknown settings: {sorted(bad)}")
        for key in ("word_ngrams", "char_ngrams", "stop_pos"):
            if key in d:
                d[key] = tuple(d[key])
        if d.get("model", "logreg") not in ("logreg", "svm"):
            raise ValueError(f"[topics] model must be logreg or svm: {d['model']}")
        d.setdefault("seed", seed)
        return cls(**d)


@dataclass
class TextItem:
    """A unit to classify: its text and (optionally) the text around it.

    ``tokens`` / ``context_tokens``, when given, are used instead of tokenising ``text`` /
    ``context`` (:func:`page_items` cuts them from the blocks' tokens).
    """

    text: str
    context: str = ""
    lemmas: str = field(default="", repr=False)
    context_lemmas: str = field(default="", repr=False)
    tokens: list[Token] | None = field(default=None, repr=False)
    context_tokens: list[Token] | None = field(default=None, repr=False)


def content_lemmas(tokens: list[Token], stop_pos: tuple[str, ...]) -> list[str]:
    """NFKC'd lemmas of the content words (POS not in ``stop_pos``, not blank)."""
    return [t.norm for t in tokens if not t.blank and t.pos1 not in stop_pos]


def prepare_items(items: list[TextItem], cfg: TopicConfig) -> list[TextItem]:
    """Fill in the lemma strings (tokenising only the items that bring no tokens)."""
    for it in items:
        if not it.lemmas:
            toks = it.tokens if it.tokens is not None else tokenize(it.text)
            it.lemmas = " ".join(content_lemmas(toks, cfg.stop_pos))
        if cfg.context and not it.context_lemmas:
            ctx = it.context_tokens
            if ctx is None:
                ctx = tokenize(it.context) if it.context else []
            it.context_lemmas = " ".join(["ctx:" + w for w in content_lemmas(ctx, cfg.stop_pos)])
    return items


def sentence_tokens(
    page: Page, sents: list[Sentence], tokens: list[list[Token]] | None = None
) -> list[list[Token]]:
    """Tokens of each of ``sents``, cut from its block's tokens: one tokenisation per block
    (``tokens``: each block's :func:`~honbun.tokens.block_tokens`, when already known).

    A block whose sentences cannot all be cut (one beyond the first MAX_BLOCK_CHARS
    characters, or a surface not found) has its sentences tokenised one by one.
    """
    by_block: dict[int, list[int]] = defaultdict(list)
    for k, s in enumerate(sents):
        by_block[s.block].append(k)
    out: list[list[Token]] = [[] for _ in sents]
    for b, ks in by_block.items():
        block = page.blocks[b]
        spans = [(sents[k].start - block.start, sents[k].end - block.start) for k in ks]
        cut = None
        if all(hi <= MAX_BLOCK_CHARS for _, hi in spans):
            known = tokens[b] if tokens is not None else block_tokens(block.text)
            cut = cut_tokens(block.text, known, spans)
        for k, toks in zip(ks, cut or [tokenize(sents[k].text) for k in ks], strict=True):
            out[k] = toks
    return out


def page_items(
    page: Page,
    sents: list[Sentence],
    stop_pos: tuple[str, ...] | None = None,
    tokens: list[list[Token]] | None = None,
) -> list[TextItem]:
    """One item per sentence of ``sents`` (in order); its context is the previous and the
    next sentence in ``sents``. The same for training and scoring, so features agree.

    With ``stop_pos`` the lemma strings are filled in too, each sentence's content lemmas
    computed once (they are also its neighbours' context): what :func:`prepare_items`
    would make of the tokens.
    """
    toks = sentence_tokens(page, sents, tokens)
    words = [content_lemmas(t, stop_pos) for t in toks] if stop_pos is not None else []
    items = []
    for i, s in enumerate(sents):
        prev = sents[i - 1].text if i > 0 else ""
        nxt = sents[i + 1].text if i + 1 < len(sents) else ""
        ctx = (toks[i - 1] if i > 0 else []) + (toks[i + 1] if i + 1 < len(sents) else [])
        item = TextItem(s.text, f"{prev} {nxt}", tokens=toks[i], context_tokens=ctx)
        if words:
            around = (words[i - 1] if i > 0 else []) + (words[i + 1] if i + 1 < len(sents) else [])
            item.lemmas = " ".join(words[i])
            item.context_lemmas = " ".join(["ctx:" + w for w in around])
        items.append(item)
    return items


def lexicon_hits(texts: list[str], lexicon: dict[str, list[str]]) -> sp.csr_matrix:
    """``(n_texts, n_lexicon_labels)`` 0/1: the lexicon baseline fires that label on the text.

    The matching is :class:`honbun.lexicon.Lexicon`'s, so the column and the baseline it is
    compared with agree by construction; words are NFKC'd here as ``read_lexicon`` does.
    """
    import scipy.sparse as sp

    from honbun.lexicon import Lexicon

    lex = Lexicon.normalised(lexicon)
    fired = lex.fired(texts)
    cols = [[float(name in f) for name in lexicon] for f in fired]
    return sp.csr_matrix(np.array(cols, dtype=float).reshape(len(texts), len(lexicon)))


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


@dataclass
class LexiconRule:
    """A label with too few examples to learn: its lexicon-hit column, as a probability."""

    column: int
    hit: float = 0.9  # above every tuned threshold on the grid's low end, below certainty
    miss: float = 0.0

    def predict_proba(self, X: sp.csr_matrix) -> np.ndarray:
        p = np.where(X[:, self.column].toarray().ravel() > 0, self.hit, self.miss)
        return np.column_stack([1 - p, p])


def _linear(cfg: TopicConfig) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if cfg.model == "svm":
        svm = LinearSVC(C=cfg.C / 8, class_weight=cfg.class_weight, random_state=cfg.seed)
        return CalibratedClassifierCV(svm, method="sigmoid", cv=3)
    # Dual liblinear: far fewer sentences than n-gram features, so the dual converges fast.
    # liblinear's dual solver visits samples in a random order: seed it, or two trainings
    # of one config give different probabilities.
    return LogisticRegression(
        C=cfg.C, class_weight=cfg.class_weight, solver="liblinear", dual=True, max_iter=1000,
        random_state=cfg.seed,
    )  # fmt: skip


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold on ``p`` that maximises F1 for ``y`` (0.5 if ``y`` has no positive)."""
    if y.sum() == 0:
        return 0.5
    best_t, best_f = 0.5, -1.0
    for t in THRESHOLD_GRID:
        pred = p >= t
        tp = float(np.sum(pred & (y == 1)))
        f = 2 * tp / (pred.sum() + y.sum()) if pred.sum() + y.sum() else 0.0
        if f > best_f + 1e-12:
            best_t, best_f = float(t), f
    return best_t


class TopicTagger:
    """One-vs-rest topic tagger with per-label thresholds (see the module docstring)."""

    def __init__(
        self,
        cfg: TopicConfig,
        labels: tuple[str, ...],
        lexicon: dict[str, list[str]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.labels = labels
        self.lexicon = lexicon or {}  # label -> keywords (NFKC), for features and cold start

    def _fit_models(self, X: sp.csr_matrix, Y: np.ndarray, feat: TextFeaturizer) -> list[Any]:
        models: list[Any] = []
        for k in range(Y.shape[1]):
            y = Y[:, k]
            col = feat.lexicon_column(self.labels[k])
            if col is not None and y.sum() < self.cfg.min_positives:
                models.append(LexiconRule(col))
            elif y.min() == y.max():
                models.append(float(y[0]) if len(y) else 0.0)  # constant: no positives
            else:
                models.append(_linear(self.cfg).fit(X, y))
        return models

    @staticmethod
    def _proba(models: list[Any], X: sp.csr_matrix) -> np.ndarray:
        cols = [
            np.full(X.shape[0], m) if isinstance(m, float) else m.predict_proba(X)[:, 1]
            for m in models
        ]
        return np.column_stack(cols) if cols else np.zeros((X.shape[0], 0))

    def fit(
        self, items: list[TextItem], Y: np.ndarray, groups: np.ndarray | None = None
    ) -> TopicTagger:
        """Fit; ``groups`` (e.g. document ids) keep inner folds honest for thresholds."""
        self.scorer_ = None
        prepare_items(items, self.cfg)
        self.featurizer_ = TextFeaturizer(self.cfg, self.lexicon).fit(items)
        X = self.featurizer_.transform(items)
        self.models_ = self._fit_models(X, Y, self.featurizer_)
        self.thresholds_ = np.full(len(self.labels), 0.5)
        if self.cfg.tune_thresholds and len(items) >= 2 * INNER_FOLDS:
            oof = self._oof(items, Y, groups)
            self.thresholds_ = np.array(
                [best_threshold(Y[:, k], oof[:, k]) for k in range(Y.shape[1])]
            )
        return self

    def _oof(self, items: list[TextItem], Y: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        from sklearn.model_selection import GroupKFold

        g = groups if groups is not None else np.arange(len(items))
        n = min(INNER_FOLDS, len(set(g.tolist())))
        oof = np.zeros(Y.shape, dtype=float)
        for tr, te in GroupKFold(n_splits=n).split(items, groups=g):
            feat = TextFeaturizer(self.cfg, self.lexicon).fit([items[i] for i in tr])
            models = self._fit_models(feat.transform([items[i] for i in tr]), Y[tr], feat)
            oof[te] = self._proba(models, feat.transform([items[i] for i in te]))
        return oof

    def scorer(self) -> Any:
        """The fitted tagger in numpy (:class:`honbun.topic_scorer.TopicScorer`)."""
        if getattr(self, "scorer_", None) is None:
            from honbun.topic_scorer import export_topic_tagger

            self.scorer_ = export_topic_tagger(self)
        return self.scorer_

    def predict_proba(self, items: list[TextItem]) -> np.ndarray:
        """``(n_items, n_labels)``, by the numpy export (the code scoring runs)."""
        return self.scorer().predict_proba(items)

    def predict(self, items: list[TextItem]) -> np.ndarray:
        return (self.predict_proba(items) >= self.thresholds_).astype(int)

    def explain(
        self, items: list[TextItem], top: int = 5
    ) -> list[dict[str, list[tuple[str, float]]]]:
        """Per item and label: the terms with the largest coefficient × feature value."""
        return self.scorer().explain(items, top)


def rollup(sentence_proba: np.ndarray, owners: list[int]) -> dict[int, np.ndarray]:
    """Max of sentence probabilities per owner (block index or document), per label."""
    out: dict[int, np.ndarray] = {}
    for row, owner in zip(sentence_proba, owners, strict=True):
        out[owner] = np.maximum(out[owner], row) if owner in out else row.copy()
    return out
