"""The fitted topic tagger as vocabularies and weights: what ``honbun score`` runs.

:class:`~honbun.topics.model.TopicTagger` fits scikit-learn's ``TfidfVectorizer`` and
``LogisticRegression``; at the end of ``fit`` it exports itself to a :class:`TopicScorer`,
which computes the same features (dict lookups of the same n-grams, sublinear TF-IDF,
L2 norm) and the same probabilities with numpy alone, so a scoring process does not
import scikit-learn (see :mod:`honbun.boilerplate.export` for why). A test checks it against the
scikit-learn pipeline it came from.

Shapes: ``predict_proba(items)`` is ``(n_items, n_labels)`` in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from honbun.decision import calibrate, expit
from honbun.features.hashing import (
    chars_flat,
    codepoints,
    ngram_keys,
    ngram_keys_flat,
    top_bits,
    words_flat,
    words_of_lists,
)
from honbun.features.lexicon import Lexicon
from honbun.features.text import TextItem, lexicon_matrix_of, prepare_items
from honbun.features.vectors import WordVectors, load_vectors
from honbun.read.normalize import nfkc, squeeze_spaces
from honbun.topics.cold_start import LexiconRule
from honbun.topics.config import TopicConfig
from honbun.topics.context import document_design
from honbun.trees import BaggedHGB, Forest, export_forest

LOAD_FACTOR = 0.25  # at most this share of a lookup table's slots hold a key
# A word vocabulary's field -> the TextItem attribute holding its words as a list, and the
# prefix its vocabulary words carry that the list's words do not.
LIST_FIELDS = {"lemmas": ("words", ""), "context_lemmas": ("context_words", "ctx:")}


@dataclass
class KeyTable:
    """Distinct 64-bit keys and their columns in an open-addressing hash table (linear
    probing), looked up for a whole batch of keys at once.

    Why not a binary search of the sorted keys: here a key usually costs one read of its
    home slot instead of ~17 comparisons. On the 1.4 M n-gram keys of 300 livedoor
    articles: 0.032 s against 0.099 s for the binary search alone (60 % of the keys are
    in the vocabulary, so a prefilter of empty buckets saved little). The cost: ~12 bytes
    a slot, a quarter full, about 10 MB for the default model's three vocabularies.

    ``build(keys, cols)``: ``keys`` ``(n,)`` uint64, distinct; ``cols`` ``(n,)`` ints.
    """

    slot_keys: np.ndarray  # (2**bits,) uint64
    slot_cols: np.ndarray  # (2**bits,) int32, -1 for an empty slot
    empty: np.ndarray  # (2**bits,) bool
    bits: int

    @classmethod
    def build(cls, keys: np.ndarray, cols: np.ndarray) -> KeyTable:
        bits = max(4, int(np.ceil(np.log2(max(1, len(keys)) / LOAD_FACTOR))))
        mask = (1 << bits) - 1
        slot_keys = np.zeros(1 << bits, dtype=np.uint64)
        slot_cols = np.full(1 << bits, -1, dtype=np.int32)
        pending = np.arange(len(keys))
        slot = top_bits(keys, bits)
        while len(pending):  # each round fills every free slot some pending key is at
            free = slot_cols[slot] < 0
            _, first = np.unique(slot[free], return_index=True)
            placed = np.flatnonzero(free)[first]
            slot_keys[slot[placed]] = keys[pending[placed]]
            slot_cols[slot[placed]] = cols[pending[placed]]
            # The rest are all at an occupied slot now: on to the next one. So a key sits
            # past its home slot only when every slot between was taken before it came,
            # and a search may stop at the first empty slot.
            left = np.ones(len(pending), dtype=bool)
            left[placed] = False
            pending, slot = pending[left], (slot[left] + 1) & mask
        return cls(slot_keys, slot_cols, slot_cols < 0, bits)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(at, cols)``: the positions in ``keys`` of those the table holds (ascending
        within each probe, not overall) and their columns (int64)."""
        mask = (1 << self.bits) - 1
        slot = top_bits(keys, self.bits)
        # An empty slot's key is 0, so a key 0 must not count as found there.
        same = (self.slot_keys[slot] == keys) & ~self.empty[slot]
        found_at, found_slot = [np.flatnonzero(same)], [slot[same]]
        go = np.flatnonzero(~same & ~self.empty[slot])  # home slot taken by another key
        at = slot[go]
        while len(go):
            at = (at + 1) & mask
            same = (self.slot_keys[at] == keys[go]) & ~self.empty[at]
            found_at.append(go[same])
            found_slot.append(at[same])
            more = ~same & ~self.empty[at]
            go, at = go[more], at[more]
        return np.concatenate(found_at), self.slot_cols[np.concatenate(found_slot)].astype(np.int64)


@dataclass
class Vocabulary:
    """A fitted ``TfidfVectorizer``: its n-grams, IDF, and how n-grams are made.

    ``field`` names the :class:`TextItem` attribute it reads; ``weight`` scales its block
    of columns (context counts half); ``prefix`` names its columns in explanations.
    Lookup is in numpy: every vocabulary n-gram is stored as the 64-bit hash of its
    items (code points for ``char``, word ids for ``word``; :func:`ngram_keys`), sorted,
    and a text's n-grams are hashed the same way and binary-searched. A word the
    vocabulary has not seen gets id 0, which no vocabulary n-gram contains.
    """

    field: str  # "lemmas" | "text" | "context_lemmas"
    analyzer: str  # "word" (space-split tokens) | "char" (NFKC'd characters)
    ngrams: tuple[int, int]
    index: dict[str, int]  # n-gram -> column (for names)
    idf: np.ndarray  # (n_columns,)
    keys: np.ndarray  # (n_columns,) uint64, sorted
    key_cols: np.ndarray  # (n_columns,) the column of each key
    word_ids: dict[str, int] = field(default_factory=dict)  # "word": word -> id >= 1
    weight: float = 1.0
    prefix: str = ""
    _lookup: KeyTable | None = field(default=None, repr=False, compare=False)
    _list_ids: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def _items(self, docs: list[str], nfkc_done: bool) -> tuple[np.ndarray, np.ndarray]:
        """All docs' items end to end (code points or word ids) and each doc's count."""
        if self.analyzer == "char":
            return chars_flat([squeeze_spaces(d if nfkc_done else nfkc(d)) for d in docs])
        return words_flat(docs, self.word_ids)

    def rows(
        self, docs: list[str], nfkc_done: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sparse ``(rows, cols, values)``: sublinear TF-IDF, L2-normalised, × ``weight``.
        ``nfkc_done``: ``docs`` are NFKC'd already (a char vocabulary skips its NFKC)."""
        return self._tfidf(*self._items(docs, nfkc_done))

    def rows_of_words(self, docs: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`rows` of a word vocabulary from each doc's words as a list: what
        ``doc.split()`` gives of a doc :meth:`rows` reads, without this field's ``ctx:``
        prefix (so no string is joined per item only to be split again)."""
        if self._list_ids is None:
            prefix = LIST_FIELDS[self.field][1]
            self._list_ids = {
                w[len(prefix) :]: i for w, i in self.word_ids.items() if w.startswith(prefix)
            }
        return self._tfidf(*words_of_lists(docs, self._list_ids))

    def _tfidf(
        self, items: np.ndarray, lens: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, keys = ngram_keys_flat(items, lens, self.ngrams, salt=0)
        at, cols = self._table().find(keys)
        n = max(1, len(self.index))
        u, counts = np.unique(rows[at] * n + cols, return_counts=True)
        R, C = u // n, u % n
        v = (1.0 + np.log(counts.astype(np.float64))) * self.idf[C]
        norm = np.sqrt(np.bincount(R, weights=v**2, minlength=len(lens)))
        return R, C, self.weight * v / np.where(norm > 0, norm, 1.0)[R]

    def __getstate__(self) -> dict[str, Any]:
        # The lookup tables are derived (and cheap to build): never stored, always rebuilt.
        return {**self.__dict__, "_lookup": None, "_list_ids": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.pop("_bucket_mask", None)  # what a model saved before the table held
        self.__dict__.update({**state, "_lookup": None, "_list_ids": None})

    def _table(self) -> KeyTable:
        if self._lookup is None:
            self._lookup = KeyTable.build(self.keys, self.key_cols)
        return self._lookup

    def names(self) -> list[str]:
        out = [""] * len(self.index)
        for g, j in self.index.items():
            out[j] = self.prefix + g
        return out


def _keys(index: dict[str, int], analyzer: str) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Sorted hash keys of the vocabulary's n-grams, their columns, and the word ids."""
    grams = list(index)
    word_ids: dict[str, int] = {}
    if analyzer == "char":
        seqs = [codepoints(g) for g in grams]
    else:
        for w in sorted({w for g in grams for w in g.split()}):
            word_ids[w] = len(word_ids) + 1
        seqs = [np.array([word_ids[w] for w in g.split()], dtype=np.uint64) for g in grams]
    keys = np.zeros(len(grams), dtype=np.uint64)
    for n in {len(q) for q in seqs}:  # one n-gram per gram: its own key
        at = [i for i, q in enumerate(seqs) if len(q) == n]
        keys[at] = ngram_keys([seqs[i] for i in at], (n, n), salt=0)[1]
    if len(np.unique(keys)) != len(keys):  # 64-bit: not expected in any real vocabulary
        raise ValueError("two n-grams of the topic vocabulary share a hash key")
    order = np.argsort(keys)
    cols = np.array([index[grams[i]] for i in order], dtype=np.int64)
    return keys[order], cols, word_ids


def export_vocabulary(vec: Any, field: str, weight: float = 1.0, prefix: str = "") -> Vocabulary:
    index = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    analyzer = "char" if vec.analyzer == "char" else "word"
    keys, key_cols, word_ids = _keys(index, analyzer)
    return Vocabulary(
        field=field,
        analyzer=analyzer,
        ngrams=tuple(vec.ngram_range),
        index=index,
        idf=np.asarray(vec.idf_, dtype=np.float64),
        keys=keys,
        key_cols=key_cols,
        word_ids=word_ids,
        weight=weight,
        prefix=prefix,
    )


@dataclass
class TopicScorer:
    """A fitted :class:`~honbun.topics.model.TopicTagger` in numpy; same ``predict_proba``.

    Per label, one of: linear models (``members``, averaged), a lexicon rule (cold start:
    ``hit`` when the label's lexicon fires, else ``miss``), or a constant (no positive
    training example). A member ``m`` scores ``expit(-(a[m] * (x @ coef[:, m] +
    intercept[m]) + b[m]))``: ``a = -1, b = 0`` for logistic regression, the fitted
    sigmoid for each of the calibrated SVM's folds.
    """

    cfg: TopicConfig
    labels: tuple[str, ...]
    vocabularies: list[Vocabulary]
    lexicon: Lexicon  # labels with a lexicon-hit column, in column order
    lexicon_weight: float
    coef: np.ndarray  # (n_features, n_members)
    intercept: np.ndarray  # (n_members,)
    a: np.ndarray  # (n_members,)
    b: np.ndarray  # (n_members,)
    member_label: np.ndarray  # (n_members,) label index of each member
    rules: dict[int, LexiconRule]  # label index -> rule
    constants: dict[int, float]  # label index -> probability
    thresholds_: np.ndarray  # (n_labels,)
    # The second stage (cfg.stack): per label index its trees over the document design,
    # and the Platt calibration (a, b) of their probability.
    stage2: dict[int, Forest] = field(default_factory=dict)
    calibration: dict[int, tuple[float, float]] = field(default_factory=dict)
    lexicon_words: dict[str, list[str]] = field(default_factory=dict)  # for the design's hits
    vectors: WordVectors | None = None
    # Word groups of cfg.cues; None (not {}) so a model pickled before them reads None.
    cue_words: dict[str, list[str]] | None = None
    _names: list[str] | None = field(default=None, repr=False)
    _lexicon2: Lexicon | None = field(default=None, repr=False, compare=False)
    _cues: Lexicon | None = field(default=None, repr=False, compare=False)

    def _design(
        self, items: list[TextItem], texts: list[str], fired: list[set[str]] | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All items' features as sparse ``(rows, cols, values)``, columns as at training.
        ``texts``: the items' texts NFKC'd; ``fired``: ``self.lexicon.fired`` of them."""
        prepare_items(items, self.cfg.stop_pos, self.cfg.context)
        rows, cols, vals, offset = [], [], [], 0
        for voc in self.vocabularies:
            if voc.field == "text":  # the one NFKC pass of the batch
                r, c, v = voc.rows([t or _empty(voc) for t in texts], nfkc_done=True)
            else:  # lemmas or context lemmas: the lists prepare_items filled in
                r, c, v = voc.rows_of_words(_word_lists(items, voc))
            rows.append(r)
            cols.append(c + offset)
            vals.append(v)
            offset += len(voc.index)
        if self.lexicon.words:
            if fired is None:
                fired = self.lexicon.fired_normalised(texts)
            hits = [
                (r, k)
                for r, f in enumerate(fired)
                for k, x in enumerate(self.lexicon.words)
                if x in f
            ]
            rows.append(np.array([r for r, _ in hits], dtype=np.int64))
            cols.append(np.array([offset + k for _, k in hits], dtype=np.int64))
            vals.append(np.full(len(hits), self.lexicon_weight))
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    def predict_proba(self, items: list[TextItem], groups: np.ndarray | None = None) -> np.ndarray:
        """``(n_items, n_labels)``; ``groups``: each item's document (items of a document
        contiguous, in reading order), which the second stage reads; None: each item alone."""
        texts = [nfkc(it.text) for it in items]
        fired = self.lexicon.fired_normalised(texts) if self.lexicon.words else None
        proba = self.stage1_proba(items, texts, fired)
        if not self.stage2:
            return proba
        g = np.arange(len(items)) if groups is None else np.asarray(groups)
        rows = self._gated(proba, g)
        if fired is not None:
            fired = [fired[i] for i in rows]
        open_texts = [texts[i] for i in rows]
        hits = self._hits(open_texts, fired)
        vectors = self.vectors.mean([items[i].tokens or [] for i in rows]) if self.vectors else None
        cues = self._cue_hits(open_texts) if self.cue_words else None
        D = document_design(proba[rows], hits, g[rows], vectors, self.cfg.document_vector, cues)
        out = proba.copy()
        for k, forest in self.stage2.items():
            out[rows, k] = calibrate(forest.predict_proba(D)[:, 1], *self.calibration[k])
        return out

    def _gated(self, proba: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Indices of the items the second stage reads: every item of each document in
        which some item's stage-1 probability of a label with a second stage reaches
        ``cfg.stack_gate`` (all items when the gate is 0). Why: most documents scored are
        not security news at all, and the second stage's forests are most of the topic
        stage's time; the others keep their stage-1 probabilities, below the gate."""
        # A model saved before the setting reads the dataclass default (0: no gate).
        gate = self.cfg.stack_gate
        if gate <= 0 or not len(groups):
            return np.arange(len(groups))
        top = proba[:, sorted(self.stage2)].max(axis=1) >= gate
        _, doc = np.unique(groups, return_inverse=True)
        open_doc = np.bincount(doc, weights=top, minlength=doc.max() + 1) > 0
        return np.flatnonzero(open_doc[doc])

    def _hits(self, texts: list[str], fired: list[set[str]] | None) -> np.ndarray:
        """``(n, n_labels)`` 0/1: the second stage's lexicon hits (``lexicon_words``), from
        stage 1's ``fired`` when both lexicons are the same words (as trained)."""
        lexicon = self._stage2_lexicon()
        if fired is None or lexicon.words != self.lexicon.words:
            fired = lexicon.fired_normalised(texts)
        return lexicon_matrix_of(fired, self.labels)

    def _cue_hits(self, texts: list[str]) -> np.ndarray:
        """``(n, G)`` 0/1: which word groups of ``cue_words`` fire on each (NFKC'd) text."""
        words = self.cue_words or {}
        if self._cues is None:
            self._cues = Lexicon.normalised(words)
        return lexicon_matrix_of(self._cues.fired_normalised(texts), tuple(words))

    def _stage2_lexicon(self) -> Lexicon:
        if self._lexicon2 is None:  # built once: its patterns compile on first use
            self._lexicon2 = Lexicon.normalised(self.lexicon_words)
        return self._lexicon2

    def stage1_proba(
        self,
        items: list[TextItem],
        texts: list[str] | None = None,
        fired: list[set[str]] | None = None,
    ) -> np.ndarray:
        """``(n_items, n_labels)``: the first stage's probabilities (each sentence alone).
        ``texts`` (the items' texts NFKC'd) and ``fired`` (``self.lexicon`` on them): when
        the caller has them already."""
        n = len(items)
        if texts is None:
            texts = [nfkc(it.text) for it in items]
        R, C, V = self._design(items, texts, fired)
        proba = np.zeros((n, len(self.labels)))
        for k in range(len(self.labels)):
            ms = np.flatnonzero(self.member_label == k)
            for m in ms:
                z = np.bincount(R, weights=V * self.coef[C, m], minlength=n) + self.intercept[m]
                proba[:, k] += expit(-(self.a[m] * z + self.b[m])) / len(ms)
        for k, rule in self.rules.items():
            fired = np.bincount(R[rule.column == C], minlength=n) > 0
            proba[:, k] = np.where(fired, rule.hit, rule.miss)
        for k, value in self.constants.items():
            proba[:, k] = value
        return proba

    def predict(self, items: list[TextItem], groups: np.ndarray | None = None) -> np.ndarray:
        return (self.predict_proba(items, groups) >= self.thresholds_).astype(int)

    def feature_names(self) -> list[str]:
        if self._names is None:
            names = [g for voc in self.vocabularies for g in voc.names()]
            self._names = names + [f"lex:{x}" for x in self.lexicon.words]
        return self._names

    def explain(
        self, items: list[TextItem], top: int = 5
    ) -> list[dict[str, list[tuple[str, float]]]]:
        """Per item and label: the terms with the largest coefficient × feature value."""
        R, C, V = self._design(items, [nfkc(it.text) for it in items], None)
        names = self.feature_names()
        # Each item's entries in their order in the design (a mask per item was quadratic).
        by_row = np.argsort(R, kind="stable")
        bounds = np.searchsorted(R[by_row], np.arange(len(items) + 1))
        out = []
        for r in range(len(items)):
            mine = by_row[bounds[r] : bounds[r + 1]]
            cols, vals = C[mine], V[mine]
            order = np.argsort(cols, kind="stable")
            cols, vals = cols[order], vals[order]
            per: dict[str, list[tuple[str, float]]] = {}
            for k, label in enumerate(self.labels):
                if k in self.rules:  # cold-start label: the lexicon hit is all
                    if np.any(cols == self.rules[k].column):
                        per[label] = [(f"lex:{label}", self.rules[k].hit)]
                    continue
                if not np.any(self.member_label == k) or not len(cols):
                    continue
                ms = self.member_label == k
                contrib = vals * self.coef[np.ix_(cols, ms)].mean(axis=1)
                best = np.argsort(-contrib, kind="stable")[:top]
                per[label] = [
                    (names[cols[i]], round(float(contrib[i]), 4)) for i in best if contrib[i] > 0
                ]
            out.append(per)
        return out


def _empty(voc: Vocabulary) -> str:
    # TextFeaturizer feeds "ctx:" for an item without context (a document of one sentence).
    return "ctx:" if voc.field == "context_lemmas" else ""


def _word_lists(items: list[TextItem], voc: Vocabulary) -> list[list[str]]:
    """Each item's words for ``voc`` (its :data:`LIST_FIELDS` list, ``_empty``'s words
    without the prefix when the list is empty)."""
    attr, prefix = LIST_FIELDS[voc.field]
    empty = [w[len(prefix) :] for w in _empty(voc).split()]
    return [getattr(it, attr) or empty for it in items]


def stage2_forest(model: Any) -> Forest:
    """The :class:`Forest` of a label's second stage: a :class:`BaggedHGB`'s members as
    one, or a single ``QuantizedHGB`` (taggers fitted before bagging)."""
    return model.forest() if isinstance(model, BaggedHGB) else export_forest(model)


def export_topic_tagger(tagger: Any) -> TopicScorer:
    """A :class:`TopicScorer` from a fitted :class:`~honbun.topics.model.TopicTagger`."""
    feat = tagger.featurizer_
    vocabularies = [
        export_vocabulary(feat.word_, "lemmas", prefix="w:"),
        export_vocabulary(feat.char_, "text", prefix="c:"),
    ]
    if feat.ctx_ is not None:
        vocabularies.append(export_vocabulary(feat.ctx_, "context_lemmas", weight=0.5))
    rules: dict[int, LexiconRule] = {}
    constants: dict[int, float] = {}
    members: list[tuple[int, np.ndarray, float, float, float]] = []  # label, w, c, a, b
    for k, m in enumerate(tagger.models_):
        if isinstance(m, LexiconRule):
            rules[k] = m
        elif isinstance(m, float):
            constants[k] = m
        elif hasattr(m, "calibrated_classifiers_"):  # CalibratedClassifierCV, sigmoid
            for cc in m.calibrated_classifiers_:
                svm, (sig,) = cc.estimator, cc.calibrators
                w, c = np.ravel(svm.coef_), float(np.ravel(svm.intercept_)[0])
                members.append((k, w, c, float(sig.a_), float(sig.b_)))
        else:  # binary LogisticRegression
            members.append((k, np.ravel(m.coef_), float(np.ravel(m.intercept_)[0]), -1.0, 0.0))
    n_features = feat.n_features()
    return TopicScorer(
        cfg=tagger.cfg,
        labels=tuple(tagger.labels),
        vocabularies=vocabularies,
        lexicon=Lexicon.normalised(feat.lexicon),
        lexicon_weight=float(tagger.cfg.lexicon_weight),
        coef=np.column_stack([w for _, w, *_ in members]) if members else np.zeros((n_features, 0)),
        intercept=np.array([c for _, _, c, _, _ in members], dtype=np.float64),
        a=np.array([a for *_, a, _ in members], dtype=np.float64),
        b=np.array([b for *_, b in members], dtype=np.float64),
        member_label=np.array([k for k, *_ in members], dtype=np.int64),
        rules=rules,
        constants=constants,
        thresholds_=np.asarray(tagger.thresholds_, dtype=np.float64),
        stage2={k: stage2_forest(m) for k, m in getattr(tagger, "stage2_", {}).items()},
        calibration=dict(getattr(tagger, "calibration_", {})),
        lexicon_words=dict(tagger.lexicon),
        vectors=load_vectors(tagger.cfg.vectors)
        if tagger.cfg.stack and tagger.cfg.vectors
        else None,
        cue_words=(tagger.cue_words() or None) if tagger.cfg.stack else None,
    )
