"""Sentences as the topic model reads them: text, content lemmas and context.

:func:`page_items` makes one :class:`TextItem` per sentence, its tokens cut from its
block's tokens (one tokenisation per block, in training and in scoring alike) and its
context the previous and the next sentence; :func:`prepare_items` fills in the
content-word lemma strings (tokens whose POS is in ``stop_pos`` are dropped);
:func:`lexicon_hits` says which labels' keyword lexicons fire on each text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from honbun.features.lexicon import Lexicon
from honbun.read.page import Page, Sentence
from honbun.read.tokens import MAX_BLOCK_CHARS, Token, block_tokens, cut_tokens, tokenize

if TYPE_CHECKING:  # scipy is imported where it is used: scoring does without it
    import scipy.sparse as sp

DEFAULT_STOP_POS = ("助詞", "助動詞", "補助記号", "記号", "空白")


@dataclass
class TextItem:
    """A unit to classify: its text and (optionally) the text around it.

    ``tokens`` / ``context_tokens``, when given, are used instead of tokenising ``text`` /
    ``context`` (:func:`page_items` cuts them from the blocks' tokens). ``words`` /
    ``context_words``: the content-word lemmas of the text and of its context, None until
    :func:`prepare_items` (or :func:`page_items`) fills them in. The scorer reads these
    lists; :attr:`lemmas` and :attr:`context_lemmas` are the strings scikit-learn's
    vectorizers read in training, made from them.
    """

    text: str
    context: str = ""
    tokens: list[Token] | None = field(default=None, repr=False)
    context_tokens: list[Token] | None = field(default=None, repr=False)
    words: list[str] | None = field(default=None, repr=False)
    context_words: list[str] | None = field(default=None, repr=False)

    @property
    def lemmas(self) -> str:
        """The content lemmas, space-separated ("" before they are filled in)."""
        return " ".join(self.words or ())

    @property
    def context_lemmas(self) -> str:
        """The context's content lemmas, each prefixed ``ctx:`` (a vocabulary of its own)."""
        return " ".join(["ctx:" + w for w in self.context_words or ()])


def content_lemmas(tokens: list[Token], stop_pos: tuple[str, ...]) -> list[str]:
    """NFKC'd lemmas of the content words (POS not in ``stop_pos``, not blank), as the
    topic features' ``str.split`` reads them: ``" ".join(words).split() == words``."""
    stop = _stop_set(stop_pos)
    return [w for t in tokens if not t.blank and t.pos1 not in stop for w in t.words]


@lru_cache(maxsize=8)
def _stop_set(stop_pos: tuple[str, ...]) -> frozenset[str]:
    # A set: a token's POS is tested against it once per token of every sentence scored.
    return frozenset(stop_pos)


def prepare_items(
    items: list[TextItem], stop_pos: tuple[str, ...], context: bool = True
) -> list[TextItem]:
    """Fill in the content lemmas (tokenising only the items that bring no tokens); the
    context's too when ``context``."""
    for it in items:
        if it.words is None:
            toks = it.tokens if it.tokens is not None else tokenize(it.text)
            it.words = content_lemmas(toks, stop_pos)
        if context and it.context_words is None:
            ctx = it.context_tokens
            if ctx is None:
                ctx = tokenize(it.context) if it.context else []
            it.context_words = content_lemmas(ctx, stop_pos)
    return items


def sentence_tokens(
    page: Page, sents: list[Sentence], tokens: list[list[Token]] | None = None
) -> list[list[Token]]:
    """Tokens of each of ``sents``, cut from its block's tokens: one tokenisation per block
    (``tokens``: each block's :func:`~honbun.read.tokens.block_tokens`, when already known).

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

    With ``stop_pos`` the content lemmas are filled in too, each sentence's computed once
    (they are also its neighbours' context): what :func:`prepare_items` would make of the
    tokens.
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
            item.words = words[i]
            item.context_words = (words[i - 1] if i > 0 else []) + (
                words[i + 1] if i + 1 < len(sents) else []
            )
        items.append(item)
    return items


def lexicon_hits(texts: list[str], lexicon: dict[str, list[str]]) -> sp.csr_matrix:
    """``(n_texts, n_lexicon_labels)`` 0/1: the lexicon baseline fires that label on the text.

    The matching is :class:`honbun.features.lexicon.Lexicon`'s, so the column and the baseline it is
    compared with agree by construction; words are NFKC'd here as ``read_lexicon`` does.
    """
    import scipy.sparse as sp

    return sp.csr_matrix(lexicon_matrix(texts, tuple(lexicon), lexicon))


def lexicon_matrix(
    texts: list[str], labels: tuple[str, ...], lexicon: dict[str, list[str]]
) -> np.ndarray:
    """``(n_texts, len(labels))`` 0/1 dense: which labels' lexicons fire on each text (0 for
    a label without a lexicon)."""
    return lexicon_matrix_of(Lexicon.normalised(lexicon).fired(texts), labels)


def lexicon_matrix_of(fired: list[set[str]], labels: tuple[str, ...]) -> np.ndarray:
    """:func:`lexicon_matrix` from each text's fired labels (``Lexicon.fired``)."""
    cols = [[float(name in f) for name in labels] for f in fired]
    return np.array(cols, dtype=float).reshape(len(fired), len(labels))
