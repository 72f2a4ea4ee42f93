"""Gold data as the models see it: pages with block labels, sentences with topics.

Only documents whose review status is ``reviewed`` are gold; everything else is
skipped (pre-labels are never trained or measured on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from honbun.features.text import TextItem, page_items
from honbun.gold.store import (
    DocAnnotation,
    iter_annotation_files,
    load_page_for,
    read_doc,
    validate_doc,
)
from honbun.labels import LabelConfig
from honbun.read.page import Page
from honbun.read.tokens import Token


@dataclass
class LabelledPage:
    page: Page
    doc: DocAnnotation
    y: np.ndarray  # (n_blocks,) 1 = body
    roles: list[str]

    @property
    def site(self) -> str:
        return str(self.doc.header.get("site", self.page.doc_id))

    @property
    def source(self) -> str:
        prov = self.doc.header.get("provenance", {})
        return str(prov.get("repo") or prov.get("origin", "?")).split(" ")[0]

    def gold_text(self) -> str:
        """The gold article: body blocks joined with newlines."""
        return "\n".join(b.text for b, y in zip(self.page.blocks, self.y, strict=True) if y)


def _checked(f: Path, labels: LabelConfig) -> tuple[DocAnnotation, Page]:
    doc = read_doc(f)
    page = load_page_for(doc)
    problems = validate_doc(doc, page, labels)
    if problems:
        raise ValueError("; ".join(problems[:3]))
    page.meta["site"] = str(doc.header.get("site", ""))
    return doc, page


def load_block_gold(
    labels: LabelConfig, root: str | Path = "data/annotations", include: tuple[str, ...] = ()
) -> list[LabelledPage]:
    """Every reviewed, fully block-annotated document (sorted by doc id: deterministic)."""
    out = []
    for f in iter_annotation_files(root):
        if include and f.parent.name not in include:
            continue
        head = read_doc(f)
        if not (head.reviewed and head.header.get("blocks_annotated")):
            continue
        doc, page = _checked(f, labels)
        y = np.array(
            [doc.blocks[i].label == labels.positive for i in range(len(page.blocks))], dtype=int
        )
        roles = [doc.blocks[i].role for i in range(len(page.blocks))]
        out.append(LabelledPage(page, doc, y, roles))
    return sorted(out, key=lambda lp: lp.page.doc_id)


def load_clean_text(
    labels: LabelConfig, root: str | Path = "data/annotations", include: tuple[str, ...] = ()
) -> list[LabelledPage]:
    """The article documents (clean article text: a title line, then one paragraph a line)
    of the folders ``include``, each as the text file a user would hand ``honbun score``,
    every line body: the headline ``title``, the rest ``paragraph``. These labels hold by
    construction (the corpus is article text and nothing else), not by reading: they teach
    the text-only model that a page may have no boilerplate at all."""
    from honbun.read.text import parse_text

    out = []
    for f in iter_annotation_files(root):
        if f.parent.name not in include:
            continue
        doc = read_doc(f)
        if doc.header.get("format") != "article":
            continue
        article = load_page_for(doc)
        text = "\n".join(b.text for b in article.blocks)
        page = parse_text(text, article.doc_id, article.source)
        page.meta["site"] = str(doc.header.get("site", ""))
        titled = bool(article.meta.get("title"))
        roles = ["title" if i == 0 and titled else "paragraph" for i in range(len(page.blocks))]
        out.append(LabelledPage(page, doc, np.ones(len(page.blocks), dtype=int), roles))
    return sorted(out, key=lambda lp: lp.page.doc_id)


@dataclass
class LabelledSentence:
    """A body sentence of a gold document; ``topics`` None for a sentence nobody annotated
    (the rest of a document around its sampled sentences, read for context)."""

    doc_id: str
    site: str
    text: str
    topics: list[str] | None
    block: int
    start: int
    end: int
    context: str  # the previous and the next sentence of the page, for context features
    tokens: list[Token] = field(default_factory=list, repr=False)  # cut from the block's
    context_tokens: list[Token] = field(default_factory=list, repr=False)
    # The annotation folder the sentence comes from (pages, seeds, livedoor,
    # security-news …): what a config's topic_sets select.
    collection: str = ""

    def item(self) -> TextItem:
        """The sentence as the topic model reads it (tokens as scoring cuts them)."""
        return TextItem(
            self.text, self.context, tokens=self.tokens, context_tokens=self.context_tokens
        )


def load_topic_gold(
    labels: LabelConfig, root: str | Path = "data/annotations", context: bool = False
) -> list[LabelledSentence]:
    """Every reviewed topic-annotated sentence, in document then offset order; with
    ``context`` every body sentence of those documents (``topics`` None where nobody
    annotated it), as scoring reads a page: each document's sentences together, in order.

    A sentence's context (its neighbours, for the features) is taken among its document's
    body sentences: those of its body blocks, or all of a document without block labels.
    """
    out = []
    for f in iter_annotation_files(root):
        head = read_doc(f)
        if not (head.reviewed and head.header.get("topics_annotated") and head.sentences):
            continue
        doc, page = _checked(f, labels)
        sents = page.sentences
        if doc.header.get("blocks_annotated"):
            body = {i for i, b in doc.blocks.items() if b.label == labels.positive}
            sents = [s for s in sents if s.block in body]
        items = page_items(page, sents)
        for s, item in zip(sents, items, strict=True):
            st = doc.sentences.get((s.start, s.end))
            if st is None and not context:
                continue
            out.append(
                LabelledSentence(
                    page.doc_id,
                    str(doc.header.get("site", "")),
                    s.text,
                    list(st.topics) if st is not None else None,
                    s.block,
                    s.start,
                    s.end,
                    item.context,
                    item.tokens or [],
                    item.context_tokens or [],
                    collection=f.parent.name,
                )
            )
    return out
