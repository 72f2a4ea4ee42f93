"""Features of blocks for the body-vs-boilerplate model.

Each family is a small pure function over one page's blocks and is switched on or off by
name in the experiment config (:class:`FeatureConfig`):

* ``text`` — length, script shares, terminal punctuation, particle/auxiliary density
  (the Japanese counterpart of jusText's stopword density, from fugashi POS), patterns
  (dates, counters, ellipsis, 【】, list and rank markers, copyright, share/login/comment
  words, reply anchors).
* ``layout`` — relative position, blank-line gaps, length relative to neighbours,
  distance to the page's longest run of long blocks (where the article usually is), the
  page's size and share of sentence text (so short-line blogs can be told apart), and
  the block's relation to the page ``<title>`` (whole title and its segments).
* ``dom`` — link-text ratio, depth, regions (header/nav/footer/aside/article/main), tag,
  class/id token families (content, chrome, comment, related, ad, social, caption, meta,
  title) and structure: the size and text share of the block's template group (blocks
  with the same tag path and class tokens), of its parent and of its nearest container,
  and whether it sits in the page's densest text container. The sparse class/id tokens
  and tag path are returned separately as strings by :func:`dom_strings`.
* ``context`` — the ``text``/``layout`` features of the previous and next block.

Output of :func:`page_features`: a float32 matrix of shape ``(n_blocks, n_features)``
(names in the same order from :func:`feature_names`). Missing values (no DOM, no title)
are NaN, which gradient boosting handles natively.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter

import numpy as np

from honbun.features.hashing import chars_flat
from honbun.read.normalize import compact, nfkc
from honbun.read.page import REGIONS, Block, Page
from honbun.read.tokens import Token

LONG_BLOCK_CHARS = 40  # a "long" block for the core-run feature
CORE_GAP_BLOCKS = 2  # short blocks allowed inside a run of long ones (captions, subheads)
NEIGHBOUR_WINDOW = 2  # blocks on each side for the relative-length feature
CONTAINER_MIN_BLOCKS = 3  # an ancestor must hold this many blocks to count as a container
TITLE_MIN_SEGMENT = 4  # title segments shorter than this (site names like "NHK") are ignored
TITLE_EXACT_F1 = 0.9  # bigram F1 with a title segment above which a block "is" the title
TERMINALS = "。．！？!?」』）)"
FUNCTION_POS = ("助詞", "助動詞")
_POS1 = attrgetter("pos1")
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
COMMON_TAGS = ("p", "div", "li", "a", "span", "td", "dd", "dt", "figcaption", "button", "section")
PATH_TAGS = ("figure", "table", "ul", "ol", "dl", "blockquote", "form", "header", "footer")

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
    "more_link": re.compile(
        r"続きを読む|もっと見る|もっと読む|一覧|詳しくは|こちら|次へ|前へ|戻る"
    ),
    "share": re.compile(
        r"シェア|ツイート|いいね|ブックマーク|フォロー|はてブ|facebook|twitter", re.I
    ),
    "login": re.compile(r"ログイン|会員登録|新規登録|無料登録|有料会員|購読|会員限定|登録する"),
    "photo": re.compile(r"写真|画像|拡大|撮影|提供|出典|キャプション"),
    "comment": re.compile(r"コメント|返信|投稿|名無し|通報|ID:|ＩＤ："),
    "reply_anchor": re.compile(r">>\s?\d+|＞＞\s?\d+"),
    "ad": re.compile(r"^PR$|広告|スポンサー|sponsored|プロモーション|amzn\.to|楽天", re.I),
    "byline": re.compile(r"記者|著者|筆者|編集部|ライター|^文[:：/／]|^写真[:：/／]"),
}
_DIGIT = re.compile(r"\d")
_DIGIT_PATTERNS = frozenset({"date", "counter", "reply_anchor"})  # cannot match without \d

# Code point ranges of each script share (after NFKC). 々 (U+3005) is both kanji and
# punctuation (it lies in the CJK symbols block), so it counts for both.
_SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "hiragana": ((0x3041, 0x309F),),
    "katakana": ((0x30A0, 0x30FF), (0xFF66, 0xFF9F)),
    "kanji": ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x3005, 0x3005)),
    "latin": ((0x41, 0x5A), (0x61, 0x7A), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)),
    "digit": ((0x30, 0x39), (0xFF10, 0xFF19)),
    "punct": (
        (0x3000, 0x303F), (0xFF01, 0xFF0F), (0xFF1A, 0xFF20),
        (0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E),
    ),
}  # fmt: skip


_BOTH = len(_SCRIPTS) + 1  # the code of 々, counted as kanji and as punctuation


def _script_codes() -> np.ndarray:
    """``(0x10000,)`` uint8: for each BMP code point, 1 + the index of its script in
    :data:`_SCRIPTS`, :data:`_BOTH` for 々, or 0 (no script; nor beyond the BMP)."""
    codes = np.zeros(0x10000, dtype=np.uint8)
    # Later scripts win where ranges overlap (U+3005 lies in the CJK symbols block).
    for k, ranges in enumerate(_SCRIPTS.values()):
        for lo, hi in ranges:
            codes[lo : hi + 1] = k + 1
    codes[0x3005] = _BOTH
    return codes


_SCRIPT_CODES = _script_codes()


def script_shares(texts: list[str]) -> np.ndarray:
    """Share of each script of :data:`_SCRIPTS` in each (NFKC'd) text, ``(len(texts), 6)``:
    characters of that script / characters of the text (1 for an empty text).

    One pass over a page's code points (a lookup table and one ``bincount``) instead of
    a string translation per block, which cost about 4 % of scoring.
    """
    cp, lens = chars_flat(texts)
    row = np.repeat(np.arange(len(texts), dtype=np.int64), lens)
    code = np.where(cp < 0x10000, _SCRIPT_CODES[np.minimum(cp, 0xFFFF)], 0).astype(np.int64)
    width = _BOTH + 1
    counts = np.bincount(row * width + code, minlength=len(texts) * width)
    counts = counts.reshape(len(texts), width)
    shares = counts[:, 1:_BOTH].copy()
    scripts = list(_SCRIPTS)
    shares[:, scripts.index("kanji")] += counts[:, _BOTH]
    shares[:, scripts.index("punct")] += counts[:, _BOTH]
    return shares / np.maximum(1, lens)[:, None]


# Class/id token families. A token matches when it equals a word of the family or, for
# words of 5+ letters, contains it ("globalnav", "relatedposts", "commentlist").
TOKEN_FAMILIES: dict[str, tuple[str, ...]] = {
    "content": (
        "article", "entry", "post", "body", "content", "contents", "main", "text", "story",
        "honbun", "kiji", "detail", "blog", "hentry", "maincontent", "incontents",
    ),
    "chrome": (
        "side", "sidebar", "nav", "navi", "navigation", "menu", "footer", "header", "widget",
        "breadcrumb", "crumb", "pankuzu", "pagination", "pager", "global", "gnav", "sitemap",
        "hamburger", "dropdown", "modal", "calendar", "archive", "account", "login",
    ),
    "comment": ("comment", "comments", "cmt", "reply", "response", "discussion", "disqus"),
    "related": (
        "related", "relation", "recommend", "reco", "pickup", "popular", "ranking", "rank",
        "more", "other", "recent", "tag", "tags", "category", "categories", "backnumber",
        "series", "topics", "links", "linklist",
    ),
    "ad": (
        "ad", "ads", "adv", "advert", "pr", "sponsor", "sponsored", "promo", "banner",
        "affiliate", "amazon", "rakuten", "taboola", "outbrain", "dfp", "gpt", "adsense",
    ),
    "social": (
        "sns", "share", "social", "twitter", "facebook", "line", "hatena", "bookmark",
        "follow", "tweet", "like", "pocket", "buttons",
    ),
    "caption": (
        "caption", "figure", "fig", "figcaption", "photo", "image", "img", "thumb",
        "thumbnail", "gallery", "credit", "picture",
    ),
    "meta": (
        "date", "time", "author", "byline", "writer", "profile", "meta", "pubdate",
        "published", "update", "updated", "publish", "status",
    ),
    "title": ("title", "headline", "heading", "hdg", "ttl", "midashi"),
}  # fmt: skip
_FAMILY_SETS = {k: frozenset(v) for k, v in TOKEN_FAMILIES.items()}
_FAMILY_STEMS = {k: tuple(w for w in v if len(w) >= 5) for k, v in TOKEN_FAMILIES.items()}
_XPATH_INDEX = re.compile(r"\[\d+\]")


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


# ---------------------------------------------------------------------------- text
def text_matrix(texts: list[str], tokens: list[list[Token]]) -> np.ndarray:
    """Text features of a page's blocks, ``(len(texts), len(text_names()))`` float64."""
    normalised = [nfkc(t) for t in texts]
    shares = script_shares(normalised)
    # A page repeats some blocks word for word (a menu's "シェア", "一覧"): a row is a
    # function of the text and its tokens, so it is made once per distinct pair.
    made: dict[str, tuple[list[Token], list[float]]] = {}
    rows = []
    for text, t, toks, s in zip(texts, normalised, tokens, shares.tolist(), strict=True):
        known = made.get(text)
        if known is None or known[0] != toks:
            known = made[text] = (toks, _text_row(text, t, toks, s))
        rows.append(known[1])
    return np.array(rows, dtype=np.float64).reshape(len(texts), len(text_names()))


def _text_row(text: str, t: str, tokens: list[Token], shares: list[float]) -> list[float]:
    """One block's text features (see :func:`text_names`); ``t`` is ``nfkc(text)``."""
    n_tok = max(1, len(tokens))
    pos = Counter(map(_POS1, tokens))
    function = sum(pos[p] for p in FUNCTION_POS) / n_tok
    nouns = (pos["名詞"] + pos["代名詞"]) / n_tok
    verbs = pos["動詞"] / n_tok
    symbols = (pos["補助記号"] + pos["記号"] + pos["空白"]) / n_tok
    # Three patterns need a digit: most blocks have none, so they are skipped.
    digit = _DIGIT.search(t) is not None
    flags = [
        float((digit or k not in _DIGIT_PATTERNS) and bool(rx.search(t)))
        for k, rx in _PATTERNS.items()
    ]
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


# -------------------------------------------------------------------------- layout
def layout_features(page: Page) -> np.ndarray:
    """Position and neighbourhood of each block: shape ``(n_blocks, len(position_names()))``."""
    n = len(page.blocks)
    lengths = np.array([len(b.text) for b in page.blocks], dtype=np.float64)
    total = max(1, len(page.text))
    core_lo, core_hi = _core_run(lengths)
    maru = np.array(["。" in b.text for b in page.blocks], dtype=bool)
    page_cols = [
        math.log1p(lengths.sum()),
        float(lengths[maru].sum() / max(1.0, lengths.sum())),
        math.log1p(float((lengths >= LONG_BLOCK_CHARS).sum())),
    ]
    idx = np.arange(n)
    dist = np.maximum(np.maximum(core_lo - idx, idx - core_hi), 0).astype(np.float64)
    cols = [
        idx / max(1, n - 1),
        np.array([b.start for b in page.blocks], dtype=np.float64) / total,
        np.minimum([b.gap_before for b in page.blocks], 3),
        np.minimum([b.gap_after for b in page.blocks], 3),
        np.log1p(lengths) - np.log1p(_neighbour_mean(lengths)),
        np.log1p(dist),
        (core_lo <= idx) & (idx <= core_hi),
        np.where(idx < core_lo, 1.0, np.where(idx > core_hi, -1.0, 0.0)),
        np.full(n, math.log1p(n)),
        *(np.full(n, c) for c in page_cols),
    ]
    return np.column_stack(cols).astype(np.float64).reshape(n, len(position_names()))


def _neighbour_mean(lengths: np.ndarray) -> np.ndarray:
    """Mean length of the up to ``2 × NEIGHBOUR_WINDOW`` blocks around each block (0 for none).

    Lengths are whole numbers, so the sums are exact and the order of addition does
    not matter.
    """
    n = len(lengths)
    total, count = np.zeros(n), np.zeros(n)
    for off in range(1, NEIGHBOUR_WINDOW + 1):
        total[off:] += lengths[: max(0, n - off)]  # the block ``off`` before
        count[off:] += 1
        total[: max(0, n - off)] += lengths[off:]  # the block ``off`` after
        count[: max(0, n - off)] += 1
    return np.divide(total, count, out=np.zeros(n), where=count > 0)


def position_names() -> list[str]:
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
        "page_log_chars",
        "page_maru_char_share",
        "page_log_long_blocks",
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


# --------------------------------------------------------------------------- title
def _bigrams(text: str) -> set[str]:
    t = compact(text)
    return {t[i : i + 2] for i in range(len(t) - 1)} or ({t} if t else set())


_TITLE_SPLIT = re.compile(r"\s[|｜\-–—/／<>«»]\s|[|｜：]|[:]\s|\s-\s|\s{2,}")


def title_segments(title: str) -> list[str]:
    """The page title and its parts split on the usual separators (``記事名 | サイト名``)."""
    parts = [p.strip() for p in _TITLE_SPLIT.split(title)]
    segs = [title, *(p for p in parts if len(compact(p)) >= TITLE_MIN_SEGMENT)]
    return list(dict.fromkeys(s for s in segs if s))


def _f1(a: set[str], b: set[str]) -> tuple[float, float, float]:
    inter = len(a & b)
    cover = inter / len(a) if a else 0.0
    recall = inter / len(b) if b else 0.0
    f = 2 * cover * recall / (cover + recall) if cover + recall else 0.0
    return cover, recall, f


def title_features(page: Page) -> np.ndarray:
    """Similarity of each block to the page ``<title>``: ``(n_blocks, len(title_names()))``.

    Columns: share of the block's character bigrams found in the title, share of the
    title's bigrams found in the block, the best bigram F1 with any title segment (the
    title split on ``|``, ``-``, ``：`` …), whether that F1 is near-exact, whether the
    block is the page's best match, whether it is the best-matching heading, and -1/0/+1
    for before/at/after the best match. NaN when the page has no title (text dumps).
    """
    n = len(page.blocks)
    out = np.full((n, len(title_names())), np.nan)
    title = page.meta.get("title", "")
    whole = _bigrams(title)
    if not whole or not n:
        return out
    segments = [_bigrams(s) for s in title_segments(title)]
    made: dict[str, tuple[float, float, float]] = {}  # by text: pages repeat some blocks
    for b in page.blocks:
        if b.text not in made:
            grams = _bigrams(b.text)
            cover, recall, _ = _f1(grams, whole)
            made[b.text] = (cover, recall, max(_f1(grams, s)[2] for s in segments))
    columns = np.array([made[b.text] for b in page.blocks], dtype=np.float64)
    out[:, :2] = columns[:, :2]
    seg_f1 = columns[:, 2]
    out[:, 2] = seg_f1
    out[:, 3] = seg_f1 >= TITLE_EXACT_F1
    best = int(np.argmax(seg_f1))
    out[:, 4] = 0.0
    out[:, 5] = 0.0
    if seg_f1[best] > 0:
        out[best, 4] = 1.0
        out[:, 6] = np.sign(np.arange(n) - best)
    heads = [
        i for i, b in enumerate(page.blocks) if b.dom is not None and b.dom.tag in HEADING_TAGS
    ]
    if heads:
        h = max(heads, key=lambda i: seg_f1[i])
        out[h, 5] = float(seg_f1[h] > 0)
    return out


def title_names() -> list[str]:
    return [
        "title_cover",
        "title_recall",
        "title_segment_f1",
        "title_exact",
        "is_title_match",
        "is_title_heading",
        "after_title_match",
    ]


def layout_names() -> list[str]:
    return position_names() + title_names()


# ----------------------------------------------------------------------------- DOM
def token_family_scores(tokens: tuple[str, ...]) -> list[float]:
    """Per family in :data:`TOKEN_FAMILIES`: ``1 / (1 + rank)`` of the nearest matching token.

    ``tokens`` are nearest-element first, so a family named on the block's own element
    scores 1.0, one named on a far ancestor scores little, and 0.0 means no match.
    """
    scores = dict.fromkeys(_FAMILY_SETS, 0.0)
    for rank, tok in enumerate(tokens):
        for fam in _families_of(tok):
            if not scores[fam]:
                scores[fam] = 1.0 / (1 + rank)
    return list(scores.values())


@lru_cache(maxsize=65_536)
def _families_of(tok: str) -> tuple[str, ...]:
    """The families a class/id token names (a family's word, or one of its stems inside a
    longer token). Class names repeat across a page's blocks and pages: asked once each."""
    return tuple(
        fam for fam, words in _FAMILY_SETS.items()
        if tok in words or (len(tok) > 5 and any(s in tok for s in _FAMILY_STEMS[fam]))
    )  # fmt: skip


def template_signature(b: Block) -> str:
    """The block's template slot: its tag path without positions plus its class tokens."""
    d = b.dom
    if d is None:
        return ""
    return _signature(d.xpath, d.tokens)


@lru_cache(maxsize=65_536)
def _signature(xpath: str, tokens: tuple[str, ...]) -> str:
    # Asked for each block two or three times a page (structure, groups, rules).
    return _XPATH_INDEX.sub("", xpath) + "|" + " ".join(t for t in tokens if not t.isdigit())


def _text_score(b: Block) -> float:
    """Readability-style text weight: non-link characters of sentence-like blocks."""
    d = b.dom
    link = d.link_ratio if d is not None else 0.0
    sentence = "。" in b.text or b.text.rstrip().endswith(TERMINALS)
    return len(b.text) * (1.0 - link) * (1.0 if sentence else 0.25)


def ancestor_chains(blocks: list[Block]) -> tuple[list[list[int]], list[int]]:
    """Each block's DOM ancestors, element first (what :meth:`DomContext.ancestors` lists),
    as integer ids shared across the page's blocks, and the length of each id's XPath.

    Two blocks share an id exactly where they share an ancestor XPath. Building every
    ancestor's XPath string costs depth² characters per block; here each XPath's chain is
    its own id before its parent's chain, made once per distinct XPath. Chains may be
    shared between blocks: read them, do not change them.
    """
    key_len: list[int] = []
    known: dict[str, list[int]] = {"": []}

    def chain_of(xpath: str) -> list[int]:
        todo = []  # the XPath and its prefixes not seen yet, innermost first
        while xpath not in known:
            todo.append(xpath)
            cut = xpath.rfind("/")
            xpath = xpath[:cut] if cut >= 0 else ""  # no "/": the part before the first
        chain = known[xpath]
        for path in reversed(todo):
            if path.rfind("/") >= 0:  # an element step (the part before the first "/" is not)
                chain = [len(key_len), *chain]
                key_len.append(len(path))
            known[path] = chain
        return chain

    chains = [chain_of(b.dom.xpath) if b.dom is not None else [] for b in blocks]
    return chains, key_len


@dataclass
class PageStructure:
    """A page's DOM structure as the stage-2 features read it, made once per page.

    ``chains`` are :func:`ancestor_chains`' ids; ``block_of`` / ``ancestor_of`` list every
    (block, ancestor) pair block by block, each chain element first (so sums over them in
    that order add up as a loop over the chains does); ``chain_start`` is where each
    block's pairs start; ``first_seen`` orders the ancestor ids by their first pair (the
    order a loop over the chains meets them); ``count`` is blocks per ancestor; ``near``
    the block's nearest ancestor holding >= :data:`CONTAINER_MIN_BLOCKS` blocks and ``parent`` its
    element's parent (-1: none); ``groups`` the blocks of each template slot
    (:func:`template_signature`), slots in order of their first block.
    """

    chains: list[list[int]]
    key_len: np.ndarray  # (n_ancestors,)
    block_of: np.ndarray  # (n_pairs,)
    ancestor_of: np.ndarray  # (n_pairs,)
    chain_start: np.ndarray  # (n_blocks,)
    first_seen: np.ndarray  # (n_ancestors,)
    count: np.ndarray  # (n_ancestors,)
    near: np.ndarray  # (n_blocks,)
    parent: np.ndarray  # (n_blocks,)
    groups: list[np.ndarray]


def page_structure(blocks: list[Block]) -> PageStructure:
    """The :class:`PageStructure` of a page's ``blocks``."""
    chains, key_len = ancestor_chains(blocks)
    sizes = np.array([len(c) for c in chains], dtype=np.int64)
    ancestor_of = np.array([a for c in chains for a in c], dtype=np.int64)
    block_of = np.repeat(np.arange(len(chains)), sizes)
    count = np.bincount(ancestor_of, minlength=len(key_len))
    _, first = np.unique(ancestor_of, return_index=True)
    first_seen = np.full(len(key_len), len(ancestor_of), dtype=np.int64)
    first_seen[ancestor_of[first]] = first
    near = np.array(
        [next((a for a in c if count[a] >= CONTAINER_MIN_BLOCKS), -1) for c in chains],
        dtype=np.int64,
    )
    parent = np.array([c[1] if len(c) > 1 else -1 for c in chains], dtype=np.int64)
    slots: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(blocks):
        slots[template_signature(b)].append(i)
    return PageStructure(
        chains=chains,
        key_len=np.array(key_len, dtype=np.int64),
        block_of=block_of,
        ancestor_of=ancestor_of,
        chain_start=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        first_seen=first_seen,
        count=count,
        near=near,
        parent=parent,
        groups=[np.array(g, dtype=np.int64) for g in slots.values()],
    )


def structure_features(page: Page, st: PageStructure | None = None) -> np.ndarray:
    """Template groups, parents and containers of each block: ``(n, len(structure_names()))``.

    Columns: log size of the block's template group (same :func:`template_signature`), the
    group's share of page characters, the share of its blocks containing 「。」, log number
    of blocks under the same parent and their share of page characters; for the nearest
    container (an ancestor holding >= :data:`CONTAINER_MIN_BLOCKS` blocks) its share of
    page characters, its character-weighted link ratio and log block count; whether the
    block is inside the ancestor with the most :func:`_text_score` per unit of its own
    length-weighted impurity (the densest text container), and that container's share of
    the page's text score. NaN without a DOM.

    Linear in blocks × depth: each group's columns are computed once, not per member.
    ``st``: the page's :func:`page_structure`, when the caller already has it.
    """
    blocks = page.blocks
    n = len(blocks)
    out = np.full((n, len(structure_names())), np.nan)
    if not n or any(b.dom is None for b in blocks):
        return out
    lengths = np.array([len(b.text) for b in blocks], dtype=float)
    total = max(1.0, lengths.sum())
    links = np.array([b.dom.link_ratio for b in blocks if b.dom is not None]) * lengths
    scores = np.array([_text_score(b) for b in blocks])
    page_score = max(1e-9, scores.sum())
    if st is None:
        st = page_structure(blocks)
    for g in st.groups:  # the block's template group
        out[g, :3] = [
            math.log1p(len(g)),
            lengths[g].sum() / total,
            float(np.mean(["。" in blocks[j].text for j in g])),
        ]
    # Sums over every (block, ancestor) pair, in block order as a loop would add them.
    ancestor, block, m = st.ancestor_of, st.block_of, len(st.key_len)
    chars = np.bincount(ancestor, weights=lengths[block], minlength=m)
    link_chars = np.bincount(ancestor, weights=links[block], minlength=m)
    text_sc = np.bincount(ancestor, weights=scores[block], minlength=m)
    # Densest container: most text score, discounted by the characters that are not text;
    # ties go to the shorter XPath, then to the ancestor met first.
    density = text_sc**2 / np.maximum(1.0, chars)
    order = np.argsort(st.first_seen)  # ancestors in the order a loop over the chains meets them
    lengths_of = st.key_len[order]
    top = density[order] == density[order].max()
    best = int(order[np.flatnonzero(top & (lengths_of == lengths_of[top].min()))[0]])
    counts = st.count.tolist()
    # Here a block with no parent counts its own element, and one with no container its
    # outermost ancestor (the stage-2 features read -1 for both).
    parent = np.where(st.parent >= 0, st.parent, ancestor[st.chain_start]).tolist()
    last = np.append(st.chain_start[1:], len(ancestor)) - 1
    near = np.where(st.near >= 0, st.near, ancestor[last]).tolist()
    out[:, 3] = [math.log1p(counts[a]) for a in parent]
    out[:, 4] = chars[parent] / total
    out[:, 5] = chars[near] / total
    out[:, 6] = link_chars[near] / np.maximum(1.0, chars[near])
    out[:, 7] = [math.log1p(counts[a]) for a in near]
    out[:, 8] = [float(best in c) for c in st.chains]
    out[:, 9] = text_sc[best] / page_score
    return out


def structure_names() -> list[str]:
    return [
        "log_group_size",
        "group_char_share",
        "group_maru_share",
        "log_parent_blocks",
        "parent_char_share",
        "container_char_share",
        "container_link_ratio",
        "log_container_blocks",
        "in_text_container",
        "text_container_share",
    ]


def dom_features(page: Page, st: PageStructure | None = None) -> np.ndarray:
    """Dense DOM features, ``(n_blocks, len(dom_names()))``; all NaN without a DOM.
    ``st``: the page's :func:`page_structure`, when the caller already has it."""
    n = len(page.blocks)
    out = np.full((n, len(dom_names()) - len(structure_names())), np.nan, dtype=np.float64)
    first_h1 = next(
        (i for i, b in enumerate(page.blocks) if b.dom is not None and b.dom.tag == "h1"), -1
    )
    # Blocks of one template (list items, links of a menu) share their element's tag, path,
    # regions and class/id tokens: those columns are made once per distinct element kind.
    kinds: dict[tuple[object, ...], tuple[list[float], list[float]]] = {}
    for i, b in enumerate(page.blocks):
        d = b.dom
        if d is None:
            continue
        key = (d.tag, d.path, d.depth, d.regions, d.tokens)
        kind = kinds.get(key)
        if kind is None:
            path = set(d.path.split("/")[:-1])
            kind = kinds[key] = (
                [
                    math.log1p(d.depth),
                    *(float(r in d.regions) for r in REGIONS),
                    float(d.tag in HEADING_TAGS),
                    float(d.tag == "h1"),
                ],
                [
                    *(float(d.tag == t) for t in COMMON_TAGS),
                    *(float(t in path) for t in PATH_TAGS),
                    *token_family_scores(d.tokens),
                ],
            )
        out[i] = [d.link_ratio, *kind[0], float(i == first_h1), *kind[1]]
    return np.hstack([out, structure_features(page, st)])


def dom_names() -> list[str]:
    return [
        "link_ratio",
        "log_depth",
        *(f"in_{r}" for r in REGIONS),
        "is_heading",
        "is_h1",
        "is_first_h1",
        *(f"tag_{t}" for t in COMMON_TAGS),
        *(f"under_{t}" for t in PATH_TAGS),
        *(f"token_{f}" for f in TOKEN_FAMILIES),
        *structure_names(),
    ]


def dom_strings(page: Page) -> list[str]:
    """Space-separated DOM tokens per block for a sparse bag: tag, path, class/id, regions."""
    out = []
    made: dict[tuple[object, ...], str] = {}  # blocks of one template share their string
    for b in page.blocks:
        d = b.dom
        if d is None:
            out.append("nodom")
            continue
        key = (d.tag, d.regions, d.path, d.tokens)
        text = made.get(key)
        if text is None:
            parts = [f"tag={d.tag}", *(f"reg={r}" for r in sorted(d.regions))]
            path = d.path.split("/")
            parts += [f"up={t}" for t in path[-4:-1]]
            parts += [f"cls={t}" for t in d.tokens if len(t) > 1 and not t.isdigit()]
            text = made[key] = " ".join(parts)
        out.append(text)
    return out


# --------------------------------------------------------------------------- page
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


def page_features(
    page: Page,
    tokens: list[list[Token]],
    cfg: FeatureConfig,
    structure: PageStructure | None = None,
) -> np.ndarray:
    """The dense feature matrix of one page, ``(n_blocks, len(feature_names(cfg)))``.
    ``structure``: the page's :func:`page_structure`, when the caller already has it."""
    n = len(page.blocks)
    cols: list[np.ndarray] = []
    if cfg.text:
        cols.append(text_matrix([b.text for b in page.blocks], tokens))
    if cfg.layout:
        cols.append(layout_features(page))
        cols.append(title_features(page))
    base = np.hstack(cols) if cols else np.zeros((n, 0))
    parts = [base]
    if cfg.dom:
        parts.append(dom_features(page, structure))
    if cfg.context:
        pad = np.full((1, base.shape[1]), np.nan)
        parts.append(np.vstack([pad, base[:-1]]) if n else base)
        parts.append(np.vstack([base[1:], pad]) if n else base)
    return np.hstack(parts).astype(np.float32)
