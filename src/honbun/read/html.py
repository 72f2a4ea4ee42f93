"""HTML pages: block-level elements (and ``<br>``-separated lines) become blocks.

The walk is jusText/trafilatura-like: text accumulates until a block-level element starts
or ends (or a ``<br>``), then it is flushed as one block owned by the nearest block-level
ancestor, whose DOM context is recorded for the model.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import lxml.etree

from honbun.read.normalize import clean_whitespace
from honbun.read.page import REGIONS, DomContext, Page, TooManyBlocks, assemble

Element = lxml.etree._Element  # what the parser makes (lxml's own name for it)
# An element's text and its descendants' (what lxml.html's text_content() returns).
text_content = lxml.etree.XPath("string()", smart_strings=False)

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "button",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "nav",
        "noframes",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
# Never text a reader sees: code, embedded media, form widgets, furigana readings.
DROP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "canvas",
        "video",
        "audio",
        "head",
        "rt",
        "rp",
        "select",
        "textarea",
        "input",
        "link",
        "meta",
        "base",
    ]
)
ROLE_REGIONS = {
    "banner": "header",
    "navigation": "nav",
    "contentinfo": "footer",
    "complementary": "aside",
    "main": "main",
    "article": "article",
}
MAX_TOKENS = 24  # class/id tokens kept per block, nearest element first
MAX_DEPTH = 600  # deeper nesting (broken or hostile markup) is flattened to its text
# libxml2 stops parsing at depth 2048 (huge_tree or not) and the rest of the page is lost:
# a page that reaches it is parsed again with the tags opened deeper than this removed.
FLATTEN_DEPTH = 1000
# Elements that never hold content, so their start tag opens no level of nesting.
VOID_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr",
})  # fmt: skip

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)[^>]*?(/?)>")
_TOKEN_SPLIT = re.compile(r"[\s_\-:./]+")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


class MalformedHtml(ValueError):
    pass


def parse_html(
    text: str,
    doc_id: str,
    source: str,
    meta: dict[str, str] | None = None,
    max_blocks: int | None = None,
) -> Page:
    """Parse decoded HTML into a Page of blocks with DOM context. More than
    ``max_blocks`` blocks raise TooManyBlocks (the walk stops there)."""
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        raise MalformedHtml("no HTML content")
    root, too_deep = _parse(text)
    if too_deep:  # the parser gave up at its depth limit: keep the text nested beyond it
        root, _ = _parse(flatten_deep(text, FLATTEN_DEPTH))
    info = dict(meta or {})
    info.update(_head_meta(root))
    body = root.find("body")
    start = body if body is not None else root
    walker = _Walker(start, root.getroottree().getpath(start), max_blocks)
    walker.walk(start, 0)
    walker.flush()
    return assemble(doc_id, source, "html", walker.pieces, info)


def _parse(text: str) -> tuple[Element, bool]:
    """The document's root, and whether the parser stopped at its nesting limit."""
    # huge_tree: without it libxml2 silently drops everything nested deeper than 256.
    # Plain etree elements, not lxml.html's: its element classes are chosen by a Python
    # lookup for every element the walk touches (117,000 calls on the 93 development pages).
    parser = lxml.etree.HTMLParser(
        remove_comments=True, remove_pis=True, recover=True, huge_tree=True
    )
    try:
        root = lxml.etree.fromstring(text, parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise MalformedHtml(f"HTML parse failed: {exc}") from exc
    if root is None:  # as lxml.html.document_fromstring says it
        raise MalformedHtml("HTML parse failed: Document is empty")
    too_deep = any(
        e.type_name == "ERR_RESOURCE_LIMIT" and "depth" in e.message.lower()
        for e in parser.error_log
    )
    return root, too_deep


def flatten_deep(text: str, limit: int) -> str:
    """``text`` without the tags opened deeper than ``limit`` (nor their end tags): their
    text stays, as the text of the element at depth ``limit``.

    Depth is counted on the raw tags (void elements and ``<x/>`` open none), so markup
    that leaves many elements open is flattened sooner than the parser would nest it;
    it runs only on pages that reached the parser's limit.
    """
    out: list[str] = []
    depth, pos = 0, 0
    dropped: Counter[str] = Counter()  # end tags still to drop, per tag
    for m in _TAG.finditer(text):
        closing, name, self_closing = m.group(1), m.group(2).lower(), m.group(3)
        if closing:
            keep = not dropped[name]
            if keep:
                depth = max(0, depth - 1)
            else:
                dropped[name] -= 1
        elif name in VOID_TAGS or self_closing:
            keep = True
        else:
            keep = depth < limit
            if keep:
                depth += 1
            else:
                dropped[name] += 1
        if not keep:
            out.append(text[pos : m.start()])
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _head_meta(root: Element) -> dict[str, str]:
    out: dict[str, str] = {}
    title = root.find(".//title")
    text = text_content(title) if title is not None else ""
    if text.strip():
        out["title"] = clean_whitespace(text)
    for el in root.iterfind(".//link[@rel='canonical']"):
        if el.get("href"):
            out["url"] = el.get("href", "")
            break
    return out


class _Walker:
    """Accumulates inline text and flushes it as blocks at block boundaries."""

    def __init__(self, start: Element, start_path: str, max_blocks: int | None = None) -> None:
        self.max_blocks = max_blocks
        self.pieces: list[tuple[str, str, DomContext | None]] = []
        self._parts: list[str] = []
        self._link_chars = 0
        self._owner: Element | None = None
        self._block_stack: list[Element] = []
        self._in_link = 0
        self._in_pre = 0
        # Each element's lineage (tag path, regions, class/id tokens), built once per page.
        self._lineages: dict[Element, _Lineage] = {}
        # XPaths of the elements that own blocks and of their ancestors, each from its
        # parent's (libxml2's getpath scans all siblings of every step, which made pages
        # with thousands of <p> quadratic); the elements that own no block (most inline
        # ones) never need one.
        self._xpaths: dict[Element, str] = {start: start_path}
        self._steps: dict[Element, str] = {}  # element -> its last step

    def _add(self, text: str | None) -> None:
        if not text:
            return
        if self._owner is None and self._block_stack:
            self._owner = self._block_stack[-1]
        self._parts.append(text)
        if self._in_link:
            self._link_chars += len(text.strip())

    def flush(self) -> None:
        if self._parts and self._owner is not None:
            raw = "".join(self._parts)
            lines = raw.split("\n") if self._in_pre else [raw]
            total = max(1, sum(len(p.strip()) for p in self._parts))
            ratio = min(1.0, self._link_chars / total)
            dom: DomContext | None = None
            for line in lines:
                text = clean_whitespace(line)
                if text:
                    dom = dom or _context(
                        self._owner, self._xpath(self._owner), ratio, self._lineages
                    )
                    self.pieces.append((text, dom.tag, dom))
            if self.max_blocks is not None and len(self.pieces) > self.max_blocks:
                raise TooManyBlocks(self.max_blocks)
        self._parts = []
        self._link_chars = 0
        self._owner = None

    def _xpath(self, el: Element) -> str:
        """``el``'s XPath as libxml2's getpath writes it, from its nearest ancestor's
        already known (the walk's start is known from the first)."""
        pending = []
        node = el
        while node not in self._xpaths:
            pending.append(node)
            node = node.getparent()
        path = self._xpaths[node]
        for e in reversed(pending):  # outermost first: each from its parent's
            if e not in self._steps:
                parent = e.getparent()
                self._steps.update(zip(parent, _steps(parent), strict=True))
            path = f"{path}/{self._steps[e]}"
            self._xpaths[e] = path
        return path

    def walk(self, el: Element, depth: int) -> None:
        """Walk ``el`` and its descendants."""
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower()
        if not tag or tag in DROP_TAGS or _hidden(el):
            return
        if tag == "br":
            self.flush()
            return
        if depth > MAX_DEPTH:
            self._add(text_content(el))
            return
        is_block = tag in BLOCK_TAGS
        if is_block:
            self.flush()
            self._block_stack.append(el)
        self._in_link += tag == "a"
        self._in_pre += tag == "pre"
        self._add(el.text)
        for child in el:
            self.walk(child, depth + 1)
            self._add(child.tail)
        if is_block:  # flush before leaving <pre>, so its lines stay separate blocks
            self.flush()
            self._block_stack.pop()
        self._in_link -= tag == "a"
        self._in_pre -= tag == "pre"


def _steps(el: Element) -> list[str]:
    """The last XPath step of each child of ``el``, as libxml2's getpath writes it: the
    tag, with its position among same-tag siblings (``p[3]``) when it has any."""
    tags = [c.tag if isinstance(c.tag, str) else "" for c in el]
    if len(set(tags)) == len(tags):  # most elements: no two children share a tag
        return tags
    total: dict[str, int] = {}
    for tag in tags:
        total[tag] = total.get(tag, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for tag in tags:
        if total[tag] == 1:
            out.append(tag)
        else:
            seen[tag] = seen.get(tag, 0) + 1
            out.append(f"{tag}[{seen[tag]}]")
    return out


def _hidden(el: Element) -> bool:
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _tokens(el: Element) -> tuple[str, ...]:
    return _attribute_tokens(el.get("class") or "", el.get("id") or "")


@lru_cache(maxsize=16_384)
def _attribute_tokens(cls: str, ident: str) -> tuple[str, ...]:
    """The lower-cased words of a class and an id attribute (split on separators and
    camelCase). A page repeats a few class names on many elements: each is split once."""
    out: list[str] = []
    for value in (cls, ident):
        for raw in _TOKEN_SPLIT.split(value):
            for part in _CAMEL.findall(raw) or ([raw] if raw else []):
                out.append(part.lower())
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Lineage:
    """What a block inherits from an element and its ancestors: the tag path from
    ``html`` down, the depth, the regions, and the first :data:`MAX_TOKENS` distinct
    class/id tokens, nearest first."""

    tag: str
    path: str
    depth: int
    regions: frozenset[str]
    tokens: tuple[str, ...]


def _lineage(el: Element, memo: dict[Element, _Lineage]) -> _Lineage:
    """``el``'s :class:`_Lineage`, built from its parent's: each element of a page is
    summarised once, however many blocks sit below it (walking every block's ancestors
    again cost a tenth of reading a page)."""
    pending = []
    node: Element | None = el
    while node is not None and node not in memo:
        pending.append(node)
        node = node.getparent()
    parent = memo[node] if node is not None else None
    for e in reversed(pending):  # outermost first: each from its parent's
        if not isinstance(e.tag, str):  # not reached: blocks and their ancestors are elements
            raise TypeError(f"a block below a non-element node: {e!r}")
        tag = e.tag.lower()
        inherited = frozenset() if parent is None else parent.regions
        role = (e.get("role") or "").lower()
        own = {tag} if tag in REGIONS else set()
        if role in ROLE_REGIONS:
            own.add(ROLE_REGIONS[role])
        regions = inherited | own if own else inherited
        # Nearest first: this element's tokens, then its ancestors' not yet seen. The
        # parent's first MAX_TOKENS distinct tokens hold every one that can still fit
        # (and are its own tokens when this element has none: most elements).
        words = _tokens(e)
        above = parent.tokens if parent else ()
        tokens = tuple(dict.fromkeys((*words, *above)))[:MAX_TOKENS] if words else above
        parent = _Lineage(
            tag=tag,
            path=tag if parent is None else f"{parent.path}/{tag}",
            depth=0 if parent is None else parent.depth + 1,
            regions=regions,
            tokens=tokens,
        )
        memo[e] = parent
    assert parent is not None
    return parent


def _context(
    owner: Element,
    xpath: str,
    link_ratio: float,
    memo: dict[Element, _Lineage] | None = None,
) -> DomContext:
    """The DOM context of a block whose element is ``owner``; ``memo`` holds the
    :class:`_Lineage` of each element met so far on the page."""
    line = _lineage(owner, {} if memo is None else memo)
    return DomContext(
        tag=line.tag,
        path=line.path,
        tokens=line.tokens,
        link_ratio=link_ratio,
        depth=line.depth,
        regions=line.regions,
        xpath=xpath,
    )
