"""Agreement between two annotations of the same blocks or sentences.

The gold is one annotator's labels; a second annotator labels the same blocks or sentences
from a blank sheet (``honbun data export --blank``). Blocks are scored the way the models
are: block body F1 and the character-3-gram F1 of the second annotator's article text
against the gold's, plus Cohen's kappa of the body/boilerplate decision over all blocks
pooled and the share of blocks given the same role. Topics: per label, Cohen's kappa,
agreement and F1 of the second annotation against the gold over the sentences pooled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from honbun.gold.sheets import import_blocks, read_topic_rows, sheet_meta
from honbun.gold.store import DocAnnotation, find_doc, load_page_for, read_doc
from honbun.labels import LabelConfig
from honbun.metrics import binary_prf, body_text, char3


@dataclass(frozen=True)
class PageAgreement:
    """One page: ``gold`` and ``second`` are ``(label, role)`` per block, in block order."""

    doc_id: str
    texts: list[str]
    gold: list[tuple[str, str]]
    second: list[tuple[str, str]]

    def body(self, which: list[tuple[str, str]]) -> np.ndarray:
        """``(n_blocks,)`` 0/1: whether each block is body."""
        return np.array([label == "body" for label, _ in which], dtype=int)

    def same_role(self) -> list[bool]:
        """Per block: whether both annotators gave it the same role."""
        return [g[1] == s[1] for g, s in zip(self.gold, self.second, strict=True)]

    @property
    def disagreements(self) -> list[int]:
        """Indices of the blocks whose body/boilerplate label differs."""
        return np.flatnonzero(self.body(self.gold) != self.body(self.second)).tolist()

    def scores(self) -> dict[str, float]:
        a, b = self.body(self.gold), self.body(self.second)
        c = char3(body_text(self.texts, b), body_text(self.texts, a))
        return {
            "blocks": len(a),
            "gold_body": int(a.sum()),
            "second_body": int(b.sum()),
            "disagreements": len(self.disagreements),
            "block_f1": binary_prf(a, b).f1,
            "char3_f1": c.f1,
            "role_agreement": float(np.mean(self.same_role())),
        }


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two 0/1 label arrays of the same shape (1.0 when both are constant
    and equal, where kappa is otherwise undefined)."""
    observed = float(np.mean(a == b))
    pa, pb = float(np.mean(a)), float(np.mean(b))
    expected = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def summarise(pages: list[PageAgreement]) -> dict[str, float]:
    """Pooled over blocks (agreement, kappa, block F1) and macro over pages (char3 F1)."""
    a = np.concatenate([p.body(p.gold) for p in pages])
    b = np.concatenate([p.body(p.second) for p in pages])
    roles = [same for p in pages for same in p.same_role()]
    return {
        "pages": len(pages),
        "blocks": len(a),
        "agreement": float(np.mean(a == b)),
        "kappa": cohen_kappa(a, b),
        "block_f1": binary_prf(a, b).f1,
        "char3_f1_macro": float(np.mean([p.scores()["char3_f1"] for p in pages])),
        "role_agreement": float(np.mean(roles)),
    }


def second_annotation(tsv: Path, labels: LabelConfig) -> PageAgreement:
    """The gold and a second annotator's labels of one page, from a block TSV that ``honbun
    data export --blank`` wrote and the second annotator filled in. Raises ``ValueError``
    naming the file if a row is invalid, a block is left out or the gold is incomplete."""
    meta = sheet_meta(tsv)
    if meta.get("what") != "blocks" or "annotation" not in meta:
        raise ValueError(f"{tsv}: no block export header from 'honbun data export'")
    gold = read_doc(meta["annotation"])
    page = load_page_for(gold)
    second = DocAnnotation(dict(gold.header))
    errors = import_blocks(tsv, page, second, labels)
    if errors:
        raise ValueError(f"{errors[0]} ({len(errors)} errors)")
    for name, doc in (("second annotation", second), ("gold", gold)):
        missing = len(page.blocks) - len(doc.blocks)
        if missing:
            raise ValueError(f"{tsv}: the {name} leaves {missing} of {len(page.blocks)} blocks out")
    order = range(len(page.blocks))
    return PageAgreement(
        gold.doc_id,
        [b.text for b in page.blocks],
        [(gold.blocks[i].label, gold.blocks[i].role) for i in order],
        [(second.blocks[i].label, second.blocks[i].role) for i in order],
    )


@dataclass(frozen=True)
class TopicAgreement:
    """Sentences of one or more topic sheets: ``(doc_id, start, end, text)`` each, and the
    gold's and the second annotator's topics for it."""

    sentences: list[tuple[str, int, int, str]]
    gold: list[frozenset[str]]
    second: list[frozenset[str]]

    def per_label(self, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
        """Per label: sentences each side tagged, agreement, Cohen's kappa and the second
        annotation's F1 against the gold."""
        out = {}
        for n in names:
            a = np.array([n in g for g in self.gold], dtype=int)
            b = np.array([n in s for s in self.second], dtype=int)
            out[n] = {
                "gold": int(a.sum()),
                "second": int(b.sum()),
                "agreement": float(np.mean(a == b)),
                "kappa": cohen_kappa(a, b),
                "f1": binary_prf(a, b).f1,
            }
        return out

    def disagreements(self) -> list[int]:
        return [i for i, (g, s) in enumerate(zip(self.gold, self.second, strict=True)) if g != s]


def topic_agreement(tsvs: list[Path], labels: LabelConfig) -> TopicAgreement:
    """The gold and a second annotator's topics of the sentences of ``tsvs`` (topic sheets
    that ``honbun data export --what topics --blank`` wrote, or any subset of their rows,
    filled in). Raises ``ValueError`` naming the sheet for a row that is not a gold sentence
    or names an unknown topic."""
    known = set(labels.topic_names)
    sentences, gold, second = [], [], []
    for tsv in tsvs:
        if sheet_meta(tsv).get("what") != "topics":
            raise ValueError(f"{tsv}: no topic export header from 'honbun data export'")
        for doc_id, rows in read_topic_rows(tsv).items():
            doc = find_doc(doc_id)
            for n, (_, start, end, topics, text) in rows:
                rec = doc.sentences.get((int(start), int(end)))
                if rec is None or not doc.reviewed:
                    raise ValueError(f"{tsv}:{n}: {doc_id} {start}-{end} is not a gold sentence")
                names = frozenset(t.strip() for t in topics.split(",") if t.strip())
                if names - known:
                    raise ValueError(f"{tsv}:{n}: unknown topics {sorted(names - known)}")
                sentences.append((doc_id, int(start), int(end), text))
                gold.append(frozenset(rec.topics))
                second.append(names)
    return TopicAgreement(sentences, gold, second)
