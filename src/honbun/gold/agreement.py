"""Agreement between two annotations of the same pages' blocks.

The gold is one annotator's labels; a second annotator labels the same blocks from a blank
sheet (``honbun data export --blank``). Agreement is scored the way the models are: block
body F1 and the character-3-gram F1 of the second annotator's article text against the
gold's, plus Cohen's kappa of the body/boilerplate decision over all blocks pooled and
the share of blocks given the same role.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from honbun.gold.sheets import import_blocks, sheet_meta
from honbun.gold.store import DocAnnotation, load_page_for, read_doc
from honbun.labels import LabelConfig
from honbun.metrics import block_prf, body_text, char3


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
            "block_f1": block_prf(a, b).f1,
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
        "block_f1": block_prf(a, b).f1,
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
