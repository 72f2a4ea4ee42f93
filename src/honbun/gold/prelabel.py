"""Pre-labels for annotators: alignment to a source's reference text, else heuristics.

Pre-labels are a starting point that speeds up reading a page; they are never gold. Every
rule here is a small pure function of one block, with its thresholds named.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from honbun.gold.store import DocAnnotation
from honbun.read.normalize import compact
from honbun.read.page import Block, Page

PAGES_ROOT = Path("data/raw/pages")  # the development pages and their manifest

MIN_PARAGRAPH_CHARS = 25  # shorter lines rarely are article paragraphs
MAX_LINK_RATIO_BODY = 0.3  # link-heavy blocks are navigation or related links
MIN_ALIGN_CHARS = 4  # shorter blocks match the reference text by chance
TERMINALS = ("。", "」", "）", ")", "！", "？", "!", "?", "』")

_COPYRIGHT = re.compile(r"©|\(c\)|copyright|all rights reserved|無断転載|無断複製", re.I)
_DATE = re.compile(
    r"^[\s(（]*(\d{4}[年/.-]\s*)?\d{1,2}[月/.-]\s*\d{1,2}日?"
    r"(\s*[(（][月火水木金土日][)）])?\s*(\d{1,2}[時:]\d{2}分?)?\s*(配信|更新|公開)?[)）]?\s*$"
)
_SHARE = re.compile(r"^(シェア|ツイート|tweet|facebook|line|はてな|ブックマーク|pocket|印刷)", re.I)
_RANKING = re.compile(r"ランキング|アクセス数|人気記事|よく読まれて")
_RELATED = re.compile(r"関連記事|関連ニュース|あわせて読みたい|おすすめ記事|こちらもおすすめ")
_PROMO = re.compile(r"広告|PR|スポンサー|購読|会員登録|メルマガ|メールマガジン|無料|キャンペーン")
_CAPTION = re.compile(r"写真|撮影|提供|画像|ロイター|共同|AFP|時事")


def heuristic(block: Block, page: Page) -> tuple[str, str]:
    """A (label, role) guess for one block from its text and DOM context."""
    t = block.text
    dom = block.dom
    regions = dom.regions if dom else frozenset()
    link = dom.link_ratio if dom else 0.0
    tag = dom.tag if dom else block.kind
    if _COPYRIGHT.search(t):
        return "boilerplate", "credit/copyright"
    if _DATE.match(t):
        return "boilerplate", "date"
    if len(t) < 20 and _SHARE.match(t):
        return "boilerplate", "share/social"
    if tag == "figcaption" or (dom and any("caption" in x for x in dom.tokens)):
        return "boilerplate", "caption"
    chrome = regions & {"nav", "footer", "aside"} or (
        regions & {"header"} and "article" not in regions
    )
    if tag == "h1" and not chrome and link < MAX_LINK_RATIO_BODY:
        return "body", "title"
    if (
        len(t) >= MIN_PARAGRAPH_CHARS
        and t.endswith(TERMINALS)
        and link < MAX_LINK_RATIO_BODY
        and not chrome
    ):
        return "body", "paragraph"
    if tag in {"h2", "h3", "h4"} and "article" in regions and link == 0 and len(t) < 60:
        return "body", "subheading"
    if _RANKING.search(t):
        return "boilerplate", "ranking"
    if _RELATED.search(t) or (link > 0.5 and len(t) > 15 and not regions & {"nav", "header"}):
        return "boilerplate", "related-links"
    if _PROMO.search(t):
        return "boilerplate", "promo/ad"
    if "nav" in regions or "header" in regions or link > 0.5:
        return "boilerplate", "navigation"
    return "boilerplate", "other"


def align_to_reference(page: Page, reference: str) -> list[bool]:
    """For each block, whether its text occurs in the reference article text.

    Compared after NFKC with all whitespace removed, so it is robust to the reference's
    own line breaking (magic-html puts links on lines of their own; NHK's gold has no
    spaces at all).
    """
    ref = compact(reference)
    out = []
    for b in page.blocks:
        c = compact(b.text)
        out.append(len(c) >= MIN_ALIGN_CHARS and c in ref)
    return out


def prelabel(page: Page, reference: str | None = None) -> list[tuple[str, str]]:
    """(label, role) per block: the reference decides body/boilerplate when there is one."""
    guesses = [heuristic(b, page) for b in page.blocks]
    if reference is None:
        return guesses
    out = []
    for (label, role), in_ref in zip(guesses, align_to_reference(page, reference), strict=True):
        if in_ref:
            out.append(("body", role if label == "body" else "paragraph"))
        else:
            out.append(("boilerplate", role if label == "boilerplate" else "other"))
    return out


def reference_text(gold: dict | None, pages_root: Path) -> str | None:
    """The reference article text a manifest gold entry provides, or None."""
    if not gold:
        return None
    path = pages_root / gold["path"]
    kind = gold.get("kind", "")
    if path.suffix == ".txt" and path.exists():
        return path.read_text("utf-8")
    if path.name == "expected.html" and path.exists():
        import lxml.html

        return lxml.html.fromstring(path.read_text("utf-8")).text_content()
    if "nhk" in kind.lower() and path.exists():
        return path.read_text("utf-8")
    return None


def guesses_for(
    doc: DocAnnotation, page: Page, pages_root: Path = PAGES_ROOT
) -> list[tuple[str, str]]:
    """Pre-labels of a page's blocks: aligned to its source's reference text where the
    manifest of ``pages_root`` has one, else the heuristics. Never gold."""
    gold = None
    prov = doc.header.get("provenance", {})
    if prov.get("gold"):
        manifest = {
            json.loads(x)["id"]: json.loads(x)
            for x in (pages_root / "manifest.jsonl").read_text("utf-8").splitlines()
        }
        gold = manifest.get(doc.doc_id, {}).get("gold")
    return prelabel(page, reference_text(gold, pages_root))
