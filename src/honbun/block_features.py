"""Features of blocks for the body-vs-boilerplate model.

Each family is a small pure function over one page's blocks and is switched on or off by
name in the experiment config (:class:`FeatureConfig`):

* ``text`` — length, script shares, terminal punctuation, particle/auxiliary density
  (the Japanese counterpart of jusText's stopword density, from fugashi POS), patterns
  (dates, counters, ellipsis, 【】, list and rank markers, copyright).
* ``layout`` — relative position, blank-line gaps, length relative to neighbours, and
  distance to the page's longest run of long blocks (where the article usually is).
* ``dom`` — link-text ratio, depth, regions (header/nav/footer/aside/article/main) and
  tag; the sparse class/id tokens and tag path are returned separately as strings.
* ``context`` — the ``text``/``layout`` features of the previous and next block.

Output of :func:`page_features`: a float32 matrix of shape ``(n_blocks, n_features)``
(names in the same order from :func:`feature_names`) plus one DOM-token string per block.
Missing DOM (text dumps) is NaN, which gradient boosting handles natively.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from honbun.normalize import nfkc
from honbun.page import REGIONS, Page
from honbun.tokens import Token

LONG_BLOCK_CHARS = 40  # a "long" block for the core-run feature
CORE_GAP_BLOCKS = 2  # short blocks allowed inside a run of long ones (captions, subheads)
TITLE_COLUMNS = 4  # the last four layout features come from title_features
NEIGHBOUR_WINDOW = 2  # blocks on each side for the relative-length feature
TERMINALS = "。．！？!?」』）)"
FUNCTION_POS = ("助詞", "助動詞")
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
COMMON_TAGS = ("p", "div", "li", "a", "span", "td", "dd", "dt", "figcaption", "button", "section")

_PATTERNS = {
    "date": re.compile(r"\d{1,4}[年/.-]\d{1,2}[月/.-]?\d{0,2}|\d{1,2}月\d{1,2}日|\d{1,2}:\d{2}"),
    "counter": re.compile(r"\d+\s*(件|人|回|位|本|枚|個|円|万|億|%|％|コメント|pt)"),
    "ellipsis": re.compile(r"…|‥|\.\.\."),
    "lenticular": re.compile(r"【[^】]*】"),
    "list_marker": re.compile(r"^\s*(\d{1,2}[.．)）]?\s|[・■□●○◆◇▶▷►→※＞>]|第?\d{1,2}位)"),
    "copyright": re.compile(r"©|\(c\)|copyright|all rights reserved|無断転載|無断複製", re.I),
    "url_or_mail": re.compile(r"https?://|www\.|@[a-z0-9]", re.I),
    "quote": re.compile(r"「[^」]+」"),
    "pipe_sep": re.compile(r"\s[|｜/]\s|\s>\s|»"),
}

_SCRIPTS = {
    "hiragana": re.compile(r"[\u3041-\u309f]"),
    "katakana": re.compile(r"[\u30a0-\u30ff\uff66-\uff9f]"),
    "kanji": re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\u3005]"),
    "latin": re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]"),
    "digit": re.compile(r"[0-9\uff10-\uff19]"),
    "punct": re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20!-/:-@\[-`{-~]"),
}


@dataclass(frozen=True)
class FeatureConfig:
    """Which feature families to compute (all on by default)."""

    text: bool = True
    layout: bool = True
    dom: bool = True
    context: bool = True
    families: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> FeatureConfig:
        known = {"text", "layout", "dom", "context"}
        bad = set(d) - known - {"lexical", "repetition", "stacking"}
        if bad:
            raise ValueError(f"unknown feature families: {sorted(bad)}")
        return cls(**{k: bool(v) for k, v in d.items() if k in known})


def text_features(text: str, tokens: list[Token]) -> list[float]:
    """Features of one block's text; see :func:`text_names`."""
    t = nfkc(text)
    n = max(1, len(t))
    shares = [len(rx.findall(t)) / n for rx in _SCRIPTS.values()]
    n_tok = max(1, len(tokens))
    function = sum(tok.pos1 in FUNCTION_POS for tok in tokens) / n_tok
    nouns = sum(tok.pos1 in ("名詞", "代名詞") for tok in tokens) / n_tok
    verbs = sum(tok.pos1 == "動詞" for tok in tokens) / n_tok
    symbols = sum(tok.pos1 in ("補助記号", "記号", "空白") for tok in tokens) / n_tok
    flags = [float(bool(rx.search(t))) for rx in _PATTERNS.values()]
    stripped = text.rstrip()
    return [
        math.log1p(len(text)),
        math.log1p(len(tokens)),
        *shares,
        function,
        nouns,
        verbs,
        symbols,
        float(stripped.endswith(TERMINALS)),
        float("。" in text),
        text.count("。") / max(1.0, len(text) / 50),
        float(stripped.endswith(("。", "．"))),
        float(text[:1].isdigit()),
        *flags,
    ]


def text_names() -> list[str]:
    return [
        "log_chars",
        "log_tokens",
        *(f"share_{k}" for k in _SCRIPTS),
        "function_word_density",
        "noun_density",
        "verb_density",
        "symbol_density",
        "ends_terminal",
        "has_maru",
        "maru_per_50",
        "ends_maru",
        "starts_digit",
        *(f"pat_{k}" for k in _PATTERNS),
    ]


def layout_features(page: Page) -> np.ndarray:
    """Position and neighbourhood of each block: shape ``(n_blocks, len(layout_names()))``."""
    n = len(page.blocks)
    lengths = np.array([len(b.text) for b in page.blocks], dtype=np.float64)
    total = max(1, len(page.text))
    out = np.zeros((n, len(layout_names()) - TITLE_COLUMNS), dtype=np.float64)
    core_lo, core_hi = _core_run(lengths)
    for i, b in enumerate(page.blocks):
        lo, hi = max(0, i - NEIGHBOUR_WINDOW), min(n, i + NEIGHBOUR_WINDOW + 1)
        neigh = np.delete(lengths[lo:hi], i - lo)
        mean_neigh = neigh.mean() if len(neigh) else 0.0
        if core_lo <= i <= core_hi:
            dist = 0.0
        else:
            dist = float(core_lo - i if i < core_lo else i - core_hi)
        out[i] = [
            i / max(1, n - 1),
            b.start / total,
            min(b.gap_before, 3),
            min(b.gap_after, 3),
            math.log1p(lengths[i]) - math.log1p(mean_neigh),
            math.log1p(dist),
            float(core_lo <= i <= core_hi),
            (1.0 if i < core_lo else -1.0 if i > core_hi else 0.0),
            math.log1p(n),
        ]
    return out


def _bigrams(text: str) -> set[str]:
    t = nfkc(text).replace(" ", "")
    return {t[i : i + 2] for i in range(len(t) - 1)}


def title_features(page: Page) -> np.ndarray:
    """Similarity of each block to the page's ``<title>`` and position relative to the best match.

    Columns: share of the block's character bigrams found in the title, share of the
    title's bigrams found in the block, whether it is the best-matching block, and -1/0/+1
    for before/at/after that block. NaN when the page has no title (text dumps).
    """
    n = len(page.blocks)
    out = np.full((n, 4), np.nan)
    title = _bigrams(page.meta.get("title", ""))
    if not title or not n:
        return out
    best, best_f = -1, 0.0
    for i, b in enumerate(page.blocks):
        grams = _bigrams(b.text)
        inter = len(grams & title)
        cover = inter / len(grams) if grams else 0.0
        recall = inter / len(title)
        out[i, 0], out[i, 1] = cover, recall
        f = 2 * cover * recall / (cover + recall) if cover + recall else 0.0
        if f > best_f:
            best, best_f = i, f
    out[:, 2] = 0.0
    if best >= 0:
        out[best, 2] = 1.0
        out[:, 3] = np.sign(np.arange(n) - best)
    return out


def layout_names() -> list[str]:
    return [
        "rel_index",
        "rel_offset",
        "gap_before",
        "gap_after",
        "len_vs_neighbours",
        "log_dist_core",
        "in_core",
        "before_core",
        "log_n_blocks",
        "title_cover",
        "title_recall",
        "is_title_match",
        "after_title_match",
    ]


def _core_run(lengths: np.ndarray) -> tuple[int, int]:
    """(first, last) block index of the longest-text run of long blocks.

    A run may include up to :data:`CORE_GAP_BLOCKS` short blocks in a row, so a caption
    or a subheading does not cut the article in two. Runs are scored by their characters.
    """
    best, best_score = (0, -1), -1.0
    start, last_long, score, gap = -1, -1, 0.0, 0
    for i, length in enumerate(lengths):
        if length >= LONG_BLOCK_CHARS:
            if start < 0:
                start, score = i, 0.0
            score += length
            last_long, gap = i, 0
            if score > best_score:
                best, best_score = (start, last_long), score
        elif start >= 0:
            gap += 1
            if gap > CORE_GAP_BLOCKS:
                start, gap = -1, 0
    return best


def dom_features(page: Page) -> np.ndarray:
    """Dense DOM features; all NaN for pages without a DOM (text dumps)."""
    n = len(page.blocks)
    out = np.full((n, len(dom_names())), np.nan, dtype=np.float64)
    for i, b in enumerate(page.blocks):
        d = b.dom
        if d is None:
            continue
        tags = [float(d.tag == t) for t in COMMON_TAGS]
        out[i] = [
            d.link_ratio,
            math.log1p(d.depth),
            *(float(r in d.regions) for r in REGIONS),
            float(d.tag in HEADING_TAGS),
            float(d.tag == "h1"),
            *tags,
            float(any(t in ("article", "main", "entry", "content", "body") for t in d.tokens)),
            float(
                any(
                    t in ("side", "sidebar", "nav", "menu", "footer", "header", "ranking")
                    for t in d.tokens
                )
            ),
        ]
    return out


def dom_names() -> list[str]:
    return [
        "link_ratio",
        "log_depth",
        *(f"in_{r}" for r in REGIONS),
        "is_heading",
        "is_h1",
        *(f"tag_{t}" for t in COMMON_TAGS),
        "token_contentish",
        "token_chromeish",
    ]


def dom_strings(page: Page) -> list[str]:
    """Space-separated DOM tokens per block for a sparse bag: tag, path, class/id, regions."""
    out = []
    for b in page.blocks:
        d = b.dom
        if d is None:
            out.append("nodom")
            continue
        parts = [f"tag={d.tag}", *(f"reg={r}" for r in sorted(d.regions))]
        path = d.path.split("/")
        parts += [f"up={t}" for t in path[-4:-1]]
        parts += [f"cls={t}" for t in d.tokens if len(t) > 1 and not t.isdigit()]
        out.append(" ".join(parts))
    return out


def feature_names(cfg: FeatureConfig) -> list[str]:
    base: list[str] = []
    if cfg.text:
        base += text_names()
    if cfg.layout:
        base += layout_names()
    names = list(base)
    if cfg.dom:
        names += dom_names()
    if cfg.context:
        names += [f"prev_{x}" for x in base] + [f"next_{x}" for x in base]
    return names


def page_features(page: Page, tokens: list[list[Token]], cfg: FeatureConfig) -> np.ndarray:
    """The dense feature matrix of one page, ``(n_blocks, len(feature_names(cfg)))``."""
    n = len(page.blocks)
    cols: list[np.ndarray] = []
    if cfg.text:
        cols.append(
            np.array(
                [text_features(b.text, t) for b, t in zip(page.blocks, tokens, strict=True)],
                dtype=np.float64,
            ).reshape(n, -1)
        )
    if cfg.layout:
        cols.append(layout_features(page))
        cols.append(title_features(page))
    base = np.hstack(cols) if cols else np.zeros((n, 0))
    parts = [base]
    if cfg.dom:
        parts.append(dom_features(page))
    if cfg.context:
        pad = np.full((1, base.shape[1]), np.nan)
        parts.append(np.vstack([pad, base[:-1]]) if n else base)
        parts.append(np.vstack([base[1:], pad]) if n else base)
    return np.hstack(parts).astype(np.float32)
