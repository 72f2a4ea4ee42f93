"""Which unlabelled sentences to annotate next (active learning).

A topic tagger is fitted on the current gold; every sentence of the pool that has no topic
annotation yet is scored, and the sentences whose probability lies nearest their label's
decision threshold (the ones the model is least sure of) come first, at most
``per_doc`` from one document so the batch spreads over many. A label with too few gold
positives to learn (a label just added) is suggested by its keyword lexicon instead:
sentences it fires on first, then the rest, each in a seeded random order. The result is
the sheet ``honbun data export --what topics --blank`` writes, so ``honbun data import``
brings the answers back.

The ranking itself is :func:`rank` over a doubt per candidate (:func:`uncertainty` of the
model's probabilities, :func:`lexicon_first` for a cold label): pure functions, which
``benchmarks/bench_active_learning.py`` runs on the gold to measure the loop.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from honbun.features.lexicon import Lexicon
from honbun.features.text import TextItem, page_items
from honbun.gold.dataset import load_topic_gold
from honbun.gold.sheets import TOPIC_COLUMNS
from honbun.gold.store import DocAnnotation, iter_annotation_files, load_page_for, read_doc
from honbun.labels import LabelConfig
from honbun.read.page import Page, Sentence
from honbun.topics.config import TopicConfig
from honbun.topics.model import TopicTagger

PER_DOC = 2  # sentences from one document in a batch: a batch should cover many


@dataclass
class Candidate:
    doc: DocAnnotation
    page: Page
    sentence: Sentence
    index: int  # the sentence's position among its page's sentences


def pool_candidates(targets: Iterable[str | Path]) -> list[Candidate]:
    """Sentences without a topic annotation in the annotation files (or folders of them)
    of ``targets``: all sentences of a document whose blocks are not annotated, else those
    of its body blocks."""
    files: list[Path] = []
    for t in targets:
        p = Path(t)
        files += iter_annotation_files(p) if p.is_dir() else [p]
    out = []
    for f in sorted(set(files)):
        doc = read_doc(f)
        page = load_page_for(doc)
        body = None
        if doc.header.get("blocks_annotated"):
            body = {i for i, b in doc.blocks.items() if b.label == "body"}
        for k, s in enumerate(page.sentences):
            if (s.start, s.end) in doc.sentences or (body is not None and s.block not in body):
                continue
            out.append(Candidate(doc, page, s, k))
    return out


def suggest(
    labels: LabelConfig,
    label: str | None,
    candidates: list[Candidate],
    n: int,
    seed: int = 13,
    per_doc: int = PER_DOC,
    cfg: TopicConfig | None = None,
) -> list[Candidate]:
    """The ``n`` candidates to annotate next for ``label`` (None: whichever label the
    model is least sure of), at most ``per_doc`` per document."""
    cfg = cfg or TopicConfig(seed=seed)
    names = labels.topic_names if label is None else (label,)
    if label is not None and label not in labels.topic_names:
        raise ValueError(f"unknown topic {label!r} (labels: {', '.join(labels.topic_names)})")
    doubt = _doubt(labels, names, candidates, cfg)
    picked = rank(doubt, [c.doc.doc_id for c in candidates], n, per_doc, seed)
    return [candidates[i] for i in picked]


def uncertainty(P: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per row of ``P`` (candidates × labels), the distance of the probability nearest
    its label's threshold: how sure the model is of its least sure label (lower: less
    sure, annotate first). 0 for every row when ``P`` has no label."""
    if P.shape[1] == 0:
        return np.zeros(P.shape[0])
    return np.abs(P - thresholds).min(axis=1)


def lexicon_first(doubt: np.ndarray, fires: np.ndarray) -> np.ndarray:
    """``doubt`` with the candidates a cold label's lexicon ``fires`` on put first (-1):
    a label with too few positives to learn is found by its keywords."""
    return np.where(fires, -1.0, doubt)


def rank(
    doubt: np.ndarray, docs: Sequence[str], n: int, per_doc: int = PER_DOC, seed: int = 13
) -> list[int]:
    """Indices of the ``n`` candidates to annotate next: lowest ``doubt`` first, ties in a
    ``seed``ed random order, at most ``per_doc`` from one of ``docs`` (a candidate's
    document), so a batch covers many documents."""
    order = list(range(len(doubt)))
    random.Random(seed).shuffle(order)  # ties, and the lexicon's cold start, shuffled
    picked: list[int] = []
    per: dict[str, int] = {}
    for i in sorted(order, key=lambda i: doubt[i]):
        if len(picked) == n:
            break
        if per.get(docs[i], 0) < per_doc:
            per[docs[i]] = per.get(docs[i], 0) + 1
            picked.append(i)
    return picked


def _doubt(
    labels: LabelConfig, names: tuple[str, ...], candidates: list[Candidate], cfg: TopicConfig
) -> np.ndarray:
    """Per candidate, how sure the model is (lower: less sure, annotate first)."""
    gold = load_topic_gold(labels)
    Y = np.array([[int(n in s.topics) for n in names] for s in gold], dtype=int).reshape(
        -1, len(names)
    )
    lexicon = Lexicon.from_config(labels)
    learnable = [k for k in range(len(names)) if Y[:, k].sum() >= cfg.min_positives]
    doubt = np.zeros(len(candidates))
    if learnable:
        tagger = TopicTagger(cfg, tuple(names[k] for k in learnable), lexicon.words)
        tagger.fit([s.item() for s in gold], Y[:, learnable], np.array([s.doc_id for s in gold]))
        items, groups, rows = _items(candidates)
        doubt = uncertainty(tagger.predict_proba(items, groups)[rows], tagger.thresholds_)
    cold = {names[k] for k in range(len(names)) if k not in learnable}
    if cold:
        fires = np.array([bool(set(lexicon.labels(c.sentence.text)) & cold) for c in candidates])
        doubt = lexicon_first(doubt, fires)
    return doubt


def _items(candidates: list[Candidate]) -> tuple[list[TextItem], np.ndarray, np.ndarray]:
    """Every sentence of the candidates' pages as the topic model reads them (each page
    whole, so the second stage sees the document), the page of each, and the row of each
    candidate among them."""
    pages: dict[int, Page] = {}
    for c in candidates:
        pages.setdefault(id(c.page), c.page)
    items: list[TextItem] = []
    groups: list[int] = []
    start: dict[int, int] = {}
    for g, (key, page) in enumerate(pages.items()):
        start[key] = len(items)
        page_sents = page_items(page, page.sentences)
        items += page_sents
        groups += [g] * len(page_sents)
    rows = np.array([start[id(c.page)] + c.index for c in candidates], dtype=int)
    return items, np.array(groups), rows


def sheet(picked: list[Candidate]) -> str:
    """The picked sentences as a blank topic sheet (``honbun data export`` format), in
    document then text order."""
    rows = sorted(picked, key=lambda c: (c.doc.doc_id, c.sentence.start))
    lines = ["# what: topics", TOPIC_COLUMNS]
    for c in rows:
        s = c.sentence
        lines.append(f"{c.doc.doc_id}\t{s.block}\t{s.start}\t{s.end}\t\t{s.text}")
    return "\n".join(lines) + "\n"
