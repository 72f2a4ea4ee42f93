"""Decision rules: a step of their own, after the block model's probabilities.

Each rule is a small pure function ``(page, proba) -> proba`` that returns a copy with
some blocks moved across the decision value (``p >= DECISION`` is body). :data:`RULES`
declares every rule once, in the order :func:`apply` runs them, with the one-line summary
the docs show; a config switches a rule off by name (``[boilerplate.rules]``). First the
drops that judge a block by its own text (dates, captions, prompts, promos, post headers,
reprint notes), then the page rules: the drops that need the page (the ``<title>`` echo,
chrome regions and classes), ``min_body``, the keeps (headline, subheadings, posts, the
lines under a lone headline, embedded posts) and the cuts (after a paywall notice or a
blog-ranking banner). :func:`decide` also says which rule settled each block it moved.
What each rule changed when it was added: ``docs/rules.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np

from honbun.decision import DECISION
from honbun.features.blocks import (
    HEADING_TAGS,
    LONG_BLOCK_CHARS,
    FeatureConfig,
    feature_names,
    template_signature,
    title_segments,
)
from honbun.features.prepared import PreparedPage
from honbun.read.normalize import compact, nfkc
from honbun.read.page import Block

HEADLINE_F1 = 0.8  # bigram F1 with a <title> segment a heading needs to be the headline
HEADLINE_LINKS = 0.5  # a headline has less of its text in links than this (not a logo)
DROPPED = 0.0  # body probability reported for a block a rule drops
PROMPT_MAX_CHARS = 40  # a sign-in/subscription prompt is a short line, not a paragraph
PROMO_MAX_CHARS = 30  # so is a read-also or ranking heading
POST_HEADER_MAX_CHARS = 120  # a post header is one line; a longer block holds the post too
REPRINT_MAX_CHARS = 120  # a copyright or republication note is a line or two
# Regions (by tag or ARIA role) that hold no article text: no gold body block lies in one.
CHROME_REGIONS = frozenset({"nav", "aside", "footer"})
# Class/id tokens that name a chrome region, after Readability's "unlikely candidates"
# less "header" (an article's <header> holds its headline: body on 20 of our sites) and
# "social" (NHK), plus what the annotation guideline calls boilerplate inside an article
# (captions, ads, author boxes, tag lists, a site's "about" box). Of the 9,519 gold blocks
# on 51 sites that carry one, one is body (a book summary classed "summary-caption").
CHROME_CLASSES = frozenset({
    "comment", "comments", "disqus", "calendar", "sidebar", "widget", "breadcrumb",
    "breadcrumbs", "pager", "pagination", "related", "ranking", "recommend", "popular",
    "share", "profile", "copyright", "footer", "menu", "banner", "ad", "ads", "sponsor",
    "affiliate", "caption", "author", "byline", "tags", "about",
})  # fmt: skip
# A token on more than this share of the page's characters, or of the article text the
# model expects in paragraph-length blocks, is on an ancestor of the article too
# (<body class="has-sidebar">), not on a chrome region: it is ignored on that page.
CHROME_MAX_SHARE = 0.5
SUBHEADING_MAX_CHARS = 60  # a subheading is a line, not a paragraph
# <h1> is left to keep_headline: on a page it is the headline or the site's logo.
SUBHEADING_TAGS = frozenset(HEADING_TAGS) - {"h1"}
SLOT_MAX_BLOCKS = 8  # min_body keeps a slot of at most this many blocks (a teaser's)
# keep_under_headline looks at this many blocks below a headline that is a page's only
# body: the article's first lines, before the embeds and link lists that follow a short
# post (3 to 6 change the same blocks on our pages).
UNDER_HEADLINE_BLOCKS = 5
PAYWALL_MAX_CHARS = 80  # a paywall notice is a line or two, not a paragraph about one
# An end mark (a paywall notice, a ranking banner) follows the article's last visible text:
# within this many blocks of a body paragraph.
END_GAP_BLOCKS = 5
BANNER_MAX_CHARS = 40  # a ranking banner is a link or a one-line request, not a paragraph
# Class tokens of the <blockquote> that an embedded post's script renders from (X/Twitter's
# twitter-tweet, Instagram's instagram-media, Bluesky's bluesky-embed, TikTok's
# tiktok-embed); block tokens are split on "-", so each is a pair.
EMBED_CLASSES = (
    frozenset({"twitter", "tweet"}),
    frozenset({"instagram", "media"}),
    frozenset({"bluesky", "embed"}),
    frozenset({"tiktok", "embed"}),
)
_LETTER = re.compile(r"[^\W\d_]")  # a letter, kana or kanji: text, not a number or a mark
_LABEL_END = ("：", ":")  # タグ：, カテゴリ: — a label for what follows, not text

# A date, optionally with weekday, time and a 更新/配信 word, and nothing else:
# "2024年12月4日 19時23分", "10/13(水) 11:55配信", "[04月01日 12時00分]", "公開日：2024/12/04".
_DATELINE = re.compile(
    r"[\s\[\(（【［]*"
    r"(?:(?:最終)?(?:更新|公開|配信|投稿|掲載|発行)(?:日時|日)?\s*[:：]?\s*)?"
    r"(?:\d{2,4}\s*[年/.\-]\s*)?\d{1,2}\s*[月/.\-]\s*\d{1,2}\s*日?"
    r"\s*(?:[\(（][月火水木金土日祝・]+[\)）])?"
    r"\s*(?:(?:午前|午後)?\s*\d{1,2}\s*[時:：]\s*\d{2}\s*分?(?:[:：]\d{2})?)?"
    r"\s*(?:JST)?\s*(?:更新|配信|公開|掲載|投稿|発行)?"
    r"[\s\]\)）】］]*"
)
# ...and unmistakably a date: "3.5" or "3/5" alone may be a figure in a table.
_DATE_MARK = re.compile(r"[年月日時]|\d{4}|\d[:：]\d\d")
# Sign-in, subscription and paywall prompts (読者会員限定です, 残り1234文字, 続きを読む).
_PROMPT = re.compile(
    r"会員限定|有料会員|会員登録|ログイン|購読|有料記事|続きを読む|続きは|残り\d+文字"
    r"|会員になると|お申し込み|無料で読める|登録する"
)
# A read-also, ranking or "more" heading that introduces a list of other articles
# (あわせて読みたい, 【関連記事】, 関連エントリー, アクセスランキング, もっと見る, [PR]),
# or a shop button (アマゾンに飛びます, Amazon.co.jpで詳細を見る): short, and opening
# with the heading word after any bullets or brackets. 広告 and PR only as words of their
# own: 広告データの集計… and PRINT LENGTH are body on our pages.
_PROMO = re.compile(
    r"[\s■□◆◇●○▼▽▶▷►★☆※◎【】\[\]（）()<>《》〈〉「」『』:：・|｜>＞\-]*(?:"
    r"(?:あわせて|合わせて|併せて)(?:読みたい|読む|チェック)"
    r"|関連(?:記事|ニュース|リンク|情報|エントリー?|投稿|ページ|コンテンツ)"
    r"|(?:こちらも|編集部の)?(?:おすすめ|オススメ)|人気(?:記事|ニュース|の記事|エントリー?)"
    r"|(?:アクセス|記事|週間|月間|総合)?ランキング|よく読まれている|注目(?:記事|の?ニュース)"
    r"|最新(?:記事|の?ニュース|の記事)|新着|この記事を読んだ|[次前]の記事|もっと(?:見る|読む)"
    r"|広告(?:掲載|について|$)|PR(?![A-Za-z])"
    # a shop button on its own: アマゾンに飛びます, Amazon.co.jpで詳細を見る, 楽天市場で購入する
    r"|(?:アマゾン|Amazon|楽天(?:市場|ブックス)?|Yahoo!?ショッピング)(?:\.co\.jp)?\s*[でにへ]?\s*"
    r"(?:詳細を見る|見る|購入|買う|飛ぶ|飛びます|チェック|予約|注文)(?:する|します)?[\s>＞»→▶]*$)"
)
# A bulletin-board (2ch/5ch/open2ch) post header as まとめ blogs reprint it: post number,
# poster name, date with weekday, time, and the poster's ID — "4：名無しさん＠おーぷん：
# 21/10/19(火)09:30:47 CTIZ". It says who posted when (a byline); the post is the next line.
_POST_HEADER = re.compile(
    r"\d{1,6}\s*(?:[:：.]|\s(?=名前))\s*(?:名前\s*[:：]\s*)?.{0,40}?\s*[:：]?\s*(?:投稿日\s*[:：]\s*)?"
    r"\d{2,4}/\d{1,2}/\d{1,2}\s*[(（][月火水木金土日][)）]\s*\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?"
    r"(?:\s*(?:ID\s*[:：]\s*)?[A-Za-z0-9+/.]{2,16})?(?:\s*返信)?"
)
# A copyright or republication note (the guideline's credit/copyright): "無断転載を禁じます",
# "転載・引用は一切厳禁です", "（本記事は、…に掲載した記事からの転載です）", "…転載・複製…を
# ご希望の方は…". It must also end like a notice (です/ます/禁止…): a headline or a
# paragraph about reprinting (…転載禁止令を言い渡される) does not.
_REPRINT = re.compile(
    r"(?:無断|許可なく|承諾を得ずに).{0,12}?(?:転載|複製|転用)"
    r"|(?:転載|複製|引用|転用).{0,8}?(?:禁止|厳禁|禁じ|お断り|ご遠慮)"
    r"|(?:本記事|この記事|本稿)は.{0,80}?(?:転載|再構成|抜粋|再編集|加筆)"
    r"|(?:転載|複製).{0,20}?(?:ご希望|について|はこちら)"
)
_NOTICE_END = re.compile(
    r"(?:ます|です|ください|下さい|禁止|厳禁|お断り|お願い|禁ず)[\s。.!！)）]*$"
)
# A paywall's notice that the article goes on for subscribers: "残り977文字",
# "登録すると続きをお読みいただけます", "続きをご覧いただけます", "続きを読むには…".
_PAYWALL = re.compile(
    r"残り\s*[\d,]+\s*文字|続きを(?:お読み|ご覧)(?:いただけ|になれ)|続きを読むには"
)
# A blog-ranking banner or the request to click it (the guideline's share/social): "にほん
# ブログ村", "■人気ブログランキング", "ランキングに参加中。クリックして応援お願いします！".
_BANNER = re.compile(r"ブログ村|ブログランキング|ランキングに参加")
# A caption's opening label: "写真：…", "（写真）…", "図1：…", "【画像】…", "出典：…".
_CAPTION = re.compile(r"[（(【［\[]?(写真|画像|図|表|出典|撮影|提供)\d*[:：｜|/／）)】］\]]")


def is_dateline(text: str) -> bool:
    """Whether ``text`` is only a date/time stamp (a dateline, not article text)."""
    return _is_dateline(nfkc(text).strip())  # full-width digits and separators as ASCII


def is_caption(text: str) -> bool:
    """Whether ``text`` opens with a caption label (写真：, 図1：, 【画像】 …)."""
    return _is_caption(nfkc(text).strip())


def is_prompt(text: str) -> bool:
    """Whether ``text`` is a short sign-in, subscription or read-more prompt."""
    return _is_prompt(nfkc(text))


def is_promo(text: str) -> bool:
    """Whether ``text`` is a short read-also, ranking or "more" heading (関連記事, もっと見る)."""
    return _is_promo(nfkc(text).strip())


def is_post_header(text: str) -> bool:
    """Whether ``text`` is a bulletin-board post header (number, name, date, time, ID)."""
    return _is_post_header(nfkc(text).strip())


def is_reprint_note(text: str) -> bool:
    """Whether ``text`` is a copyright or republication note (無断転載を禁じます …)."""
    return _is_reprint_note(nfkc(text).strip())


def _is_dateline(text: str) -> bool:
    return bool(_DATELINE.fullmatch(text)) and bool(_DATE_MARK.search(text))


def _is_caption(text: str) -> bool:
    return bool(_CAPTION.match(text))


def _is_post_header(text: str) -> bool:
    return len(text) <= POST_HEADER_MAX_CHARS and bool(_POST_HEADER.fullmatch(text))


def _is_reprint_note(text: str) -> bool:
    return (
        len(text) <= REPRINT_MAX_CHARS
        and bool(_REPRINT.search(text))
        and bool(_NOTICE_END.search(text))
    )


def _is_prompt(text: str) -> bool:
    return len(text) <= PROMPT_MAX_CHARS and bool(_PROMPT.search(text))


def _is_promo(text: str) -> bool:
    return len(text) <= PROMO_MAX_CHARS and bool(_PROMO.match(text))


def drop_title_echo(p: PreparedPage, proba: np.ndarray, names: list[str]) -> np.ndarray:
    """``proba`` with the page's :func:`title_echoes` at :data:`DROPPED`."""
    return _dropped(proba, title_echoes(p, names))


def title_echoes(p: PreparedPage, names: list[str]) -> list[int]:
    """Blocks that repeat the whole ``<title>``, site name included.

    Only for a title with a site-name part (``記事名 - サイト名``): a headline repeats
    the article part, while a block with the site name too is the title echoed by the
    page's template (Sankei's text-to-speech ``<h1>``, Ameba's share box). A title
    without parts may be the headline itself, so it has no echoes. ``names`` are the
    columns of ``p.dense``: only blocks with the title's very bigrams are compared.
    """
    title = p.page.meta.get("title", "")
    need = ("title_cover", "title_recall")
    if len(title_segments(title)) < 3 or any(n not in names for n in need):
        return []  # the whole title plus at least two parts, and title features
    cover, recall = (p.dense[:, names.index(n)] for n in need)
    key = compact(title)
    candidates = np.flatnonzero((cover == 1) & (recall == 1))  # same bigram sets
    return [int(i) for i in candidates if p.keys[i] == key]  # keys: compact(block text)


def drop_regions(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with every block inside a :data:`CHROME_REGIONS` element at DROPPED."""
    blocks = p.page.blocks
    return _dropped(
        proba, [i for i, b in enumerate(blocks) if b.dom and b.dom.regions & CHROME_REGIONS]
    )


def drop_classes(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with every block in a :data:`CHROME_CLASSES` element at DROPPED.

    A block's DOM tokens are those of its element and all its ancestors, so each token is
    judged on its own: one that covers more than :data:`CHROME_MAX_SHARE` of the page's
    characters, or of ``proba``-weighted characters in blocks of at least
    ``LONG_BLOCK_CHARS`` (the article the model expects), sits above the article and
    drops nothing.
    """
    blocks = p.page.blocks
    hits: dict[str, list[int]] = {}
    for i, b in enumerate(blocks):
        for token in CHROME_CLASSES.intersection(b.dom.tokens) if b.dom else ():
            hits.setdefault(token, []).append(i)
    if not hits:
        return proba
    lengths = p.lengths
    # Expected article characters in paragraph-length blocks (what an article is made of).
    expected = np.where(lengths >= LONG_BLOCK_CHARS, proba * lengths, 0.0)
    drop = set()
    for idx in hits.values():
        if (
            lengths[idx].sum() <= CHROME_MAX_SHARE * lengths.sum()
            and expected[idx].sum() <= CHROME_MAX_SHARE * expected.sum()
        ):
            drop.update(idx)
    return _dropped(proba, sorted(drop))


def _dropped(proba: np.ndarray, blocks: list[int]) -> np.ndarray:
    """A copy of ``proba`` with ``blocks`` at most :data:`DROPPED` (not body)."""
    if not blocks:
        return proba
    proba = proba.copy()
    proba[blocks] = np.minimum(proba[blocks], DROPPED)
    return proba


def at_least_one(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with its top block raised to the decision value if nothing reaches it.

    The blocks in the top block's template slot (same tag path and classes) are raised
    with it, unless there are more than :data:`SLOT_MAX_BLOCKS` of them. A page on which
    nothing looks like body is usually cut short (a paywall teaser of one or two
    paragraphs, the last ending in "..."); its best guess marks the article's slot, and a
    teaser paragraph is no less article than the one before.
    """
    if not len(proba) or proba.max() >= DECISION:
        return proba
    top = int(np.argmax(proba))
    slot = template_signature(p.page.blocks[top])
    same = [i for i, b in enumerate(p.page.blocks) if template_signature(b) == slot]
    # Text dumps have no template; a big slot is the page's generic <div> or <li>, not
    # the article's (one such exblog page would otherwise keep its 796 blocks).
    if not slot or len(same) > SLOT_MAX_BLOCKS:
        return raised(proba, top)
    return raised(proba, *same)


def raised(proba: np.ndarray, *blocks: int) -> np.ndarray:
    """A copy of ``proba`` with ``blocks`` at least at the decision value (kept as body)."""
    proba = proba.copy()
    idx = list(blocks)
    proba[idx] = np.maximum(proba[idx], DECISION)
    return proba


def headline(p: PreparedPage, names: list[str]) -> int | None:
    """Index of the page's headline, or None.

    The headline is the heading (h1-h6) that repeats a segment of the page's ``<title>``
    (bigram F1 >= :data:`HEADLINE_F1`) and covers most of the whole title, among headings
    whose text is mostly not a link: a site logo in an ``<h1>`` matches the title's
    site-name segment just as well but covers less of the title, and a
    :func:`title_echoes` block covers it wholly but is not one. ``names`` are the
    columns of ``p.dense``; None when the page has no title or no DOM features.
    """
    need = ("is_heading", "link_ratio", "title_segment_f1", "title_recall")
    if not p.n or any(n not in names for n in need):
        return None
    heading, links, seg_f1, recall = (p.dense[:, names.index(n)] for n in need)
    ok = (heading == 1) & (links < HEADLINE_LINKS) & (seg_f1 >= HEADLINE_F1)
    ok[title_echoes(p, names)] = False  # it covers the title best, but with the site name
    if not ok.any():
        return None
    # Most of the title first, then the closer segment match, then the earlier block.
    return min(np.flatnonzero(ok), key=lambda i: (-recall[i], -seg_f1[i], i))


def keep_headline(p: PreparedPage, proba: np.ndarray, names: list[str]) -> np.ndarray:
    """``proba`` with the page's :func:`headline` raised to the decision value."""
    i = headline(p, names)
    if i is None or proba[i] >= DECISION:
        return proba
    return raised(proba, int(i))


def keep_subheadings(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with the article's subheadings raised to the decision value.

    A subheading (the guideline's 中見出し, body) is an ``<h2>``-``<h6>`` of at most
    :data:`SUBHEADING_MAX_CHARS` characters whose next block is body and not a heading,
    with body before it on the page: it introduces the paragraph that follows. The model
    scores such a line low when its text also stands in a table of contents or a list
    of links elsewhere on the page. The decisions are read before any block is raised,
    and a block that a drop rule set to :data:`DROPPED` stays dropped.
    """
    body = proba >= DECISION
    first_body = int(np.argmax(body)) if body.any() else len(body)
    blocks = p.page.blocks
    keep = [
        i
        for i, b in enumerate(blocks[:-1])
        if b.dom is not None
        and b.dom.tag in SUBHEADING_TAGS
        and DROPPED < proba[i] < DECISION
        and len(b.text) <= SUBHEADING_MAX_CHARS
        and body[i + 1]
        and _not_heading(blocks[i + 1])
        and first_body < i  # body before it (body[:i].any() per heading was quadratic)
    ]
    return raised(proba, *keep) if keep else proba


def keep_post_text(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with the line after each bulletin-board post header raised to body.

    A まとめ blog reprints a 2ch thread as post header (:func:`is_post_header`, a byline),
    then the post; the guideline makes the post body. The model scores many posts low:
    they are short, colloquial lines (ポワルンやんけ) or bare anchors (>>9). The next block
    is raised unless it is another header, mostly link text, or dropped by a rule.
    """
    blocks = p.page.blocks
    keep = [
        i + 1
        for i, b in enumerate(blocks[:-1])
        if DROPPED < proba[i + 1] < DECISION
        and is_post_header(b.text)
        and (blocks[i + 1].dom is None or blocks[i + 1].dom.link_ratio < HEADLINE_LINKS)
        and not is_post_header(blocks[i + 1].text)
    ]
    return raised(proba, *keep) if keep else proba


def keep_under_headline(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with the text right below a lone headline raised to body.

    When every body block of a page is a heading, the model has found the headline but
    not the article under it: a short blog post of a line or two (大変だ、 / とても、)
    looks like chrome on its own. Among the :data:`UNDER_HEADLINE_BLOCKS` blocks after
    the last heading, those that are text (a letter, not a number, a link or a label
    ending in ：) and that lie in the headline's smallest enclosing element holding any
    of them (below ``<body>``) are raised. A block a drop rule set to :data:`DROPPED`
    stays dropped. Text dumps have no elements, so this is an HTML rule.
    """
    blocks = p.page.blocks
    body = np.flatnonzero(proba >= DECISION)
    if not len(body) or any(_not_heading(blocks[i]) for i in body):
        return proba
    top = int(body[-1])
    below = [
        i
        for i in range(top + 1, min(len(blocks), top + 1 + UNDER_HEADLINE_BLOCKS))
        if _is_text_line(blocks[i], proba[i])
    ]
    path = _steps(blocks[top])
    steps = {i: _steps(blocks[i]) for i in below}
    # The parent first, then further out, but not <body>: the lines must share an element
    # with the headline that is not the whole page.
    for depth in range(len(path) - 1, 2, -1):
        inside = [i for i in below if _within(steps[i], path[:depth])]
        if inside:
            return raised(proba, *inside)
    return proba


def _not_heading(b: Block) -> bool:
    return b.dom is None or b.dom.tag not in HEADING_TAGS


def _is_text_line(b: Block, p_body: float) -> bool:
    """Whether ``b`` may be article text under a headline (see keep_under_headline)."""
    text = b.text.rstrip()
    return (
        b.dom is not None
        and _not_heading(b)
        and b.dom.link_ratio < HEADLINE_LINKS
        and DROPPED < p_body < DECISION
        and bool(_LETTER.search(text))
        and not text.endswith(_LABEL_END)
    )


def _steps(b: Block) -> list[str]:
    """The element steps of ``b``'s XPath (``html``, ``body``, ``div[2]`` …)."""
    return b.dom.xpath.strip("/").split("/") if b.dom is not None else []


def _within(steps: list[str], ancestor: list[str]) -> bool:
    return len(steps) > len(ancestor) and steps[: len(ancestor)] == ancestor


def keep_embedded_posts(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with the text of posts embedded in the article raised to body.

    The guideline makes a quoted tweet's text a paragraph (the author chose to quote it)
    and its frame (— name (@handle) date) share/social. An embed's text is a ``<p>``
    inside a ``<blockquote>`` classed as one of :data:`EMBED_CLASSES`; the frame is the
    blockquote's own text and stays as scored. The model scores embedded text low: it
    is short, colloquial and full of t.co links. Only embeds after the page's first body
    block are raised (an embed in a sidebar above the article is not quoted by it), and
    a block a drop rule set to :data:`DROPPED` stays dropped.
    """
    body = np.flatnonzero(proba >= DECISION)
    if not len(body):
        return proba
    keep = [
        i
        for i, b in enumerate(p.page.blocks)
        if i > body[0] and DROPPED < proba[i] < DECISION and _is_embedded_post(b)
    ]
    return raised(proba, *keep) if keep else proba


def _is_embedded_post(b: Block) -> bool:
    if b.dom is None or b.dom.tag != "p" or "blockquote" not in b.dom.path.split("/"):
        return False
    tokens = set(b.dom.tokens)
    return any(pair <= tokens for pair in EMBED_CLASSES)


def cut_at_paywall(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with a paywall notice and every block after it at :data:`DROPPED`.

    A paywalled page shows the article's lead, then a notice that the rest is for
    subscribers (この記事は有料記事です。残り1460文字); what follows is the site's
    template, never more of the article, though a series blurb or a teaser there can
    look like body. The notice must be short (:data:`PAYWALL_MAX_CHARS`) and come within
    :data:`END_GAP_BLOCKS` blocks after a body block that is not a heading, so a
    notice on a teaser above the article, or on a page with no visible lead, cuts nothing.
    """
    return _cut_at(p, proba, is_paywall_notice)


def cut_at_ranking_banner(p: PreparedPage, proba: np.ndarray) -> np.ndarray:
    """``proba`` with a blog-ranking banner that closes a post, and all after it, dropped.

    A Japanese blog post ends with the author's request to click a ranking banner
    (にほんブログ村, 人気ブログランキング); what follows is the blog's standing footer,
    comment rules, shop links and the sidebar, which read like prose. The banner must be
    short (:data:`BANNER_MAX_CHARS`) and come within :data:`END_GAP_BLOCKS` blocks
    after a body block that is not a heading, so a banner in the header above the post
    cuts nothing.
    """
    return _cut_at(p, proba, is_ranking_banner)


def _cut_at(p: PreparedPage, proba: np.ndarray, is_end: Callable[[str], bool]) -> np.ndarray:
    """``proba`` with the first end mark that follows article text, and all after it, dropped."""
    blocks = p.page.blocks
    last_text = None  # index of the latest body block that is not a heading
    for i, b in enumerate(blocks):
        if last_text is not None and i - last_text <= END_GAP_BLOCKS and is_end(b.text):
            return _dropped(proba, list(range(i, len(blocks))))
        if proba[i] >= DECISION and _not_heading(b):
            last_text = i
    return proba


def is_paywall_notice(text: str) -> bool:
    """Whether ``text`` is a short notice that the article goes on behind a paywall."""
    text = nfkc(text).strip()
    return len(text) <= PAYWALL_MAX_CHARS and bool(_PAYWALL.search(text))


def is_ranking_banner(text: str) -> bool:
    """Whether ``text`` is a short blog-ranking banner or the request to click one."""
    text = nfkc(text).strip()
    return len(text) <= BANNER_MAX_CHARS and bool(_BANNER.search(text))


@dataclass(frozen=True)
class Rule:
    """One decision rule: its config name, what it decides, and how.

    ``text``: a drop judged on the block's NFKC'd text alone (all such tests share one
    pass over the page); ``page``: a rule ``(page, proba) -> proba`` over the whole page,
    which with ``titles`` also takes the page's feature names, to find the ``<title>``'s
    bigrams among its columns.
    """

    name: str
    summary: str
    text: Callable[[str], bool] | None = None
    page: Callable[..., np.ndarray] | None = None
    titles: bool = False


RULES: tuple[Rule, ...] = (
    Rule("drop_datelines", "a block that is only a date/time stamp is not body",
         text=_is_dateline),
    Rule("drop_captions", "nor a block a caption label opens (写真：…, 図1：…)", text=_is_caption),
    Rule("drop_prompts", "nor a short sign-in or subscription prompt (読者会員限定です)",
         text=_is_prompt),
    Rule("drop_promos", "nor a short read-also, ranking or shop heading (あわせて読みたい)",
         text=_is_promo),
    Rule("drop_post_headers", "nor a 2ch post header a まとめ blog reprints",
         text=_is_post_header),
    Rule("drop_reprint_notes", "nor a copyright or reprint note (無断転載を禁じます)",
         text=_is_reprint_note),
    Rule("drop_title_echo", "nor a copy of the whole <title> with its site name",
         page=drop_title_echo, titles=True),
    Rule("drop_regions", "nor a block inside <nav>, <aside> or <footer>", page=drop_regions),
    Rule("drop_classes", "nor one in an element classed comments, sidebar, related …",
         page=drop_classes),
    Rule("min_body", "a page keeps its most likely block (and its template slot) as body",
         page=at_least_one),
    Rule("keep_headline", "the heading that repeats the page's <title> stays body",
         page=keep_headline, titles=True),
    Rule("keep_subheadings", "a short <h2>-<h6> between body blocks stays body",
         page=keep_subheadings),
    Rule("keep_post_text", "the line after a 2ch post header (the post) is body",
         page=keep_post_text),
    Rule("keep_under_headline", "a lone headline keeps the text lines right below it",
         page=keep_under_headline),
    Rule("keep_embedded_posts", "the text of a post quoted in the article is body",
         page=keep_embedded_posts),
    Rule("cut_at_paywall", "nothing after a paywall notice (残り977文字) is body",
         page=cut_at_paywall),
    Rule("cut_at_ranking_banner", "nor after a blog-ranking banner closing a post",
         page=cut_at_ranking_banner),
)  # fmt: skip
RULE_NAMES = tuple(r.name for r in RULES)


@dataclass
class Decided:
    """One page after the rules: the decision scores (``p >= DECISION`` is body) and, per
    block, the rule that moved it across the decision value (``""``: the model's call)."""

    p: np.ndarray
    rule: list[str]


def decide(
    switches: Mapping[str, bool],
    features: FeatureConfig,
    pages: list[PreparedPage],
    probas: list[np.ndarray],
) -> list[Decided]:
    """The switched-on :data:`RULES` over each page's model probabilities, in order."""
    on = [r for r in RULES if switches.get(r.name, True)]
    names = feature_names(features) if any(r.titles for r in on) else []
    tests = [r for r in on if r.text is not None]
    steps = [
        (r.name, partial(r.page, names=names) if r.titles else r.page)
        for r in on
        if r.page is not None
    ]
    out = []
    for page, proba in zip(pages, probas, strict=True):
        why = [""] * len(proba)
        if tests:  # NFKC once per block for all of them (once per rule cost 2.4 s on livedoor)
            texts = (nfkc(b.text).strip() for b in page.page.blocks)
            hits = [next((r.name for r in tests if r.text(t)), "") for t in texts]
            for i, hit in enumerate(hits):
                if hit and proba[i] >= DECISION:
                    why[i] = hit
            proba = _dropped(proba, [i for i, hit in enumerate(hits) if hit])
        for name, step in steps:
            after = step(page, proba)
            for i in np.flatnonzero((after >= DECISION) != (proba >= DECISION)).tolist():
                why[i] = name
            proba = after
        out.append(Decided(proba, why))
    return out


def apply(
    switches: Mapping[str, bool],
    features: FeatureConfig,
    pages: list[PreparedPage],
    probas: list[np.ndarray],
) -> list[np.ndarray]:
    """The decision scores of :func:`decide` alone."""
    return [d.p for d in decide(switches, features, pages, probas)]
