"""Settings of the topic model: :class:`TopicConfig`, built from the ``[topics]`` table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from honbun.features.text import DEFAULT_STOP_POS


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
    # A tuned threshold is the highest whose in-fold F1 is within this of the best, not the
    # lowest best: F1 is flat near its optimum, and the higher end of the plateau keeps
    # precision (so fewer hard negatives tagged) at no in-fold cost. 0: the lowest best.
    threshold_tolerance: float = 0.0
    lexicon_features: bool = True  # one lexicon-hit column per label (needs a lexicon)
    # Value of a hit column, against TF-IDF rows of norm 1. 5-fold x 3 CV, macro F1:
    # 1.0 -> 0.492, 0.5 -> 0.509, 0.25 -> 0.484; without the column 0.354.
    lexicon_weight: float = 0.5
    # Fewer positive training sentences: the label is its lexicon (read from its lex:
    # column, so this needs lexicon_features).
    min_positives: int = 5
    # A second stage per label (gradient-boosted trees) that reads each sentence in its
    # document: its neighbours' and its document's stage-1 scores, lexicon hits and
    # (with ``vectors``) word vectors (honbun.topics.context); probabilities calibrated.
    # Loss weight of a label's hard negatives: sentences its lexicon fires on that are not
    # the label (派遣社員, 防災訓練, 制裁金 …), in both stages.
    hard_negative_weight: float = 1.0
    stack: bool = False
    vectors: str = ""  # word-vector table (data/vectors/…npz) for the second stage; "" none
    stack_iterations: int = 200
    stack_learning_rate: float = 0.05
    stack_leaves: int = 15
    # Bagging of each label's second stage: the mean log-odds of this many fits, each on a
    # random ``stack_bag_share`` of the documents (docs/topics.md). 1: one fit on all.
    stack_bags: int = 1
    stack_bag_share: float = 0.8
    stack_depth: int = 0  # deepest split of a second-stage tree; 0: leaves alone bound it
    # The second stage reads only documents with a sentence whose stage-1 probability of
    # some label reaches this; the others keep stage 1's probabilities. 0: every document.
    stack_gate: float = 0.0
    # With ``vectors``: the second stage also reads the mean vector of the whole document.
    document_vector: bool = True
    # Word groups (a TOML file with a [groups] table: name -> words, e.g. who is sent:
    # military / civilian) whose hits the second stage reads per sentence and per
    # document, beside the topic lexicons. "": none.
    cues: str = ""
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
