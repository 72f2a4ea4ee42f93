"""Loaders: HTML (blocks, DOM context, meta), text dumps (lines, gaps), livedoor (tar and folder)."""

from __future__ import annotations

import io
import itertools
import json
import tarfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from conftest import LIVEDOOR_TARBALL, PAGES, REPO, SEED_FILES, cached_load_page, manifest_entries
from honbun.read.files import load_page, page_from_bytes
from honbun.read.html import parse_html
from honbun.read.livedoor import HOME_URL, iter_livedoor, load_article
from honbun.read.page import REGIONS, Page
from honbun.read.text import parse_text

# --------------------------------------------------------------------------- HTML

DOC = """<!DOCTYPE html>
<html><head><title> 記事の  タイトル ｜ サイト </title>
<link rel="canonical" href="https://example.jp/articles/1">
<style>p { color: red }</style><script>var s = "スクリプト";</script></head>
<body>
<header class="siteHeader"><nav id="globalNav"><ul>
  <li><a href="/">ホーム</a></li>
  <li><a href="/w">国際</a> ニュース一覧</li>
</ul></nav></header>
<main><article class="article-body">
<h1>見出し一</h1><h2>見出し二</h2><h3>見出し三</h3><h4>見出し四</h4><h5>見出し五</h5><h6>見出し六</h6>
<p>一行目の本文。<br>二行目の本文。<br/>三行目。</p>
<p>漢字<ruby>漢<rp>(</rp><rt>かん</rt><rp>)</rp></ruby>の読み。</p>
<div>直接のテキスト<span>と span</span><p>入れ子の段落</p>末尾のテキスト</div>
<figure><img src="a.jpg" alt="代替"><figcaption>写真のキャプション</figcaption></figure>
<blockquote>引用された文。</blockquote>
<table><tr><td>セル一</td><td>セル二</td></tr></table>
<dl><dt>用語</dt><dd>定義の説明</dd></dl>
<ul><li>項目一</li></ul>
<noscript>JavaScriptを有効にしてください</noscript>
<template><p>テンプレートの中身</p></template>
<svg><text>SVGの文字</text></svg>
<p hidden>隠し一</p><p style="color: red; display : none">隠し二</p>
<div style="DISPLAY:NONE"><p>隠し三</p></div><p style="visibility:hidden">隠し四</p>
</article></main>
<aside><p>サイドバー</p></aside>
<div role="navigation"><p>ロールナビ</p></div>
<div role="banner"><p>ロールバナー</p></div>
<div role="contentinfo"><p>ロールフッター</p></div>
<div role="complementary"><p>ロール補足</p></div>
<div role="main"><p>ロールメイン</p></div>
<div role="article"><p>ロール記事</p></div>
<footer><p>© 2024 フッター</p></footer>
</body></html>
"""


@pytest.fixture(scope="module")
def doc_page() -> Page:
    return parse_html(DOC, "doc", "doc.html")


def block(page: Page, text: str):
    hits = [b for b in page.blocks if b.text == text]
    assert len(hits) == 1, f"{text!r} is in {len(hits)} blocks: {[b.text for b in page.blocks]}"
    return hits[0]


def test_block_elements_become_blocks(doc_page: Page) -> None:
    expected_kinds = {
        "見出し一": "h1",
        "見出し二": "h2",
        "見出し三": "h3",
        "見出し四": "h4",
        "見出し五": "h5",
        "見出し六": "h6",
        "写真のキャプション": "figcaption",
        "引用された文。": "blockquote",
        "セル一": "td",
        "セル二": "td",
        "用語": "dt",
        "定義の説明": "dd",
        "項目一": "li",
        "入れ子の段落": "p",
        "サイドバー": "p",
    }
    for text, kind in expected_kinds.items():
        b = block(doc_page, text)
        assert b.kind == kind
        assert b.dom is not None and b.dom.tag == kind


def test_div_with_direct_text_is_split_around_its_child_block(doc_page: Page) -> None:
    texts = [b.text for b in doc_page.blocks]
    i = texts.index("直接のテキストと span")
    assert texts[i : i + 3] == ["直接のテキストと span", "入れ子の段落", "末尾のテキスト"]
    assert [doc_page.blocks[j].kind for j in range(i, i + 3)] == ["div", "p", "div"]


def test_br_splits_a_block(doc_page: Page) -> None:
    texts = [b.text for b in doc_page.blocks]
    i = texts.index("一行目の本文。")
    assert texts[i : i + 3] == ["一行目の本文。", "二行目の本文。", "三行目。"]
    # The three lines share the <p>'s DOM context.
    assert len({doc_page.blocks[j].dom.xpath for j in range(i, i + 3)}) == 1


@pytest.mark.parametrize(
    "dropped",
    [
        "スクリプト",
        "color: red",
        "JavaScript",
        "テンプレート",
        "SVGの文字",
        "隠し一",
        "隠し二",
        "隠し三",
        "隠し四",
        "かん",
        "(",
        "代替",
    ],
)
def test_invisible_content_is_dropped(doc_page: Page, dropped: str) -> None:
    assert dropped not in doc_page.text


def test_furigana_removed_from_ruby(doc_page: Page) -> None:
    assert block(doc_page, "漢字漢の読み。").kind == "p"


def test_title_and_canonical_url_in_meta(doc_page: Page) -> None:
    assert doc_page.meta["title"] == "記事の タイトル ｜ サイト"
    assert doc_page.meta["url"] == "https://example.jp/articles/1"
    assert "記事の" not in doc_page.text  # <title> is meta, not a block


def test_dom_context_of_a_nav_link(doc_page: Page) -> None:
    dom = block(doc_page, "ホーム").dom
    assert dom.tag == "li"
    assert dom.path == "html/body/header/nav/ul/li"
    assert dom.link_ratio == 1.0
    assert dom.regions == frozenset({"header", "nav"})
    # camelCase ids/classes are split and lower-cased, nearest element first, no duplicates.
    assert dom.tokens == ("global", "nav", "site", "header")
    assert dom.depth == 5
    assert dom.xpath == "/html/body/header/nav/ul/li[1]"
    assert dom.ancestors() == [
        "/html/body/header/nav/ul/li[1]",
        "/html/body/header/nav/ul",
        "/html/body/header/nav",
        "/html/body/header",
        "/html/body",
        "/html",
    ]


def test_link_ratio_of_a_partly_linked_item(doc_page: Page) -> None:
    dom = block(doc_page, "国際 ニュース一覧").dom
    assert dom.link_ratio == pytest.approx(2 / 8)


def test_dom_context_of_article_text(doc_page: Page) -> None:
    dom = block(doc_page, "見出し一").dom
    assert dom.regions == frozenset({"main", "article"})
    assert dom.tokens == ("article", "body")
    assert dom.link_ratio == 0.0
    assert dom.path == "html/body/main/article/h1"


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("サイドバー", "aside"),
        ("ロールナビ", "nav"),
        ("ロールバナー", "header"),
        ("ロールフッター", "footer"),
        ("ロール補足", "aside"),
        ("ロールメイン", "main"),
        ("ロール記事", "article"),
        ("© 2024 フッター", "footer"),
    ],
)
def test_regions_by_tag_and_aria_role(doc_page: Page, text: str, region: str) -> None:
    assert block(doc_page, text).dom.regions == frozenset({region})


def test_xpath_points_at_the_blocks_element(doc_page: Page) -> None:
    root = lxml.html.document_fromstring(DOC)
    for b in doc_page.blocks:
        (el,) = root.xpath(b.dom.xpath)
        assert el.tag == b.kind
        assert b.dom.ancestors()[0] == b.dom.xpath
        assert b.dom.ancestors()[-1] == "/html"


def test_offsets_and_text_of_synthetic_page(doc_page: Page) -> None:
    assert doc_page.text == "\n".join(b.text for b in doc_page.blocks)
    for i, b in enumerate(doc_page.blocks):
        assert b.index == i
        assert doc_page.text[b.start : b.end] == b.text


def test_pre_keeps_its_lines() -> None:
    page = parse_html("<html><body><pre>一行目\n  二行目\n\n三行目</pre></body></html>", "d", "s")
    assert [b.text for b in page.blocks] == ["一行目", "二行目", "三行目"]
    assert {b.kind for b in page.blocks} == {"pre"}


@pytest.mark.parametrize(
    ("markup", "texts"),
    [
        ("<html><body><div><p>閉じていない<div>途中で", ["閉じていない", "途中で"]),
        ("<p>断片だけ", ["断片だけ"]),
        ("<html><body><p>本文<b>太字</p>後</i></body>", ["本文太字", "後"]),
        ("<ul><li>一<li>二<li>三</ul>", ["一", "二", "三"]),
        ('<?xml version="1.0" encoding="UTF-8"?><html><body><p>XHTML</p></body></html>', ["XHTML"]),
    ],
)
def test_malformed_html_still_loads(markup: str, texts: list[str]) -> None:
    assert [b.text for b in parse_html(markup, "d", "s").blocks] == texts


def test_truncated_real_page_still_loads() -> None:
    data = (PAGES / "koron-java-extractarticle" / "000001.html").read_bytes()
    page = page_from_bytes(data[: len(data) // 2], "half.html")
    assert len(page.blocks) > 10
    for b in page.blocks:
        assert page.text[b.start : b.end] == b.text


def test_deeply_nested_markup_keeps_the_text_after_it() -> None:
    markup = "<html><body><p>前</p>" + "<div>" * 300 + "深い" + "</div>" * 300 + "<p>後</p>"
    texts = [b.text for b in parse_html(markup, "d", "s").blocks]
    assert texts[0] == "前"
    assert "後" in texts


def test_html_sniffed_without_suffix() -> None:
    page = page_from_bytes("<!DOCTYPE html><html><body><p>本文</p></body></html>".encode(), "-")
    assert page.format == "html" and page.doc_id == "stdin"
    page = page_from_bytes(b"<p>not html by content</p>", "x.txt")
    assert page.format == "text"


@pytest.fixture(scope="module")
def manifest_pages() -> list[tuple[dict, Page]]:
    # Loaded exactly as ``load_page_for`` loads them for ``data validate`` (cwd = repository
    # root, relative path, format "html"), so the two tests share one parse of each page.
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        return [
            (m, cached_load_page(PAGES.relative_to(REPO) / m["path"], m["id"], "html"))
            for m in manifest_entries()
        ]


def test_every_development_page_loads_with_exact_offsets(manifest_pages) -> None:
    assert len(manifest_pages) == len(manifest_entries()) >= 90
    for m, page in manifest_pages:
        assert page.doc_id == m["id"]
        assert page.format == "html"
        assert page.blocks, m["id"]
        assert page.text == "\n".join(b.text for b in page.blocks), m["id"]
        for i, b in enumerate(page.blocks):
            assert b.index == i
            assert page.text[b.start : b.end] == b.text, (m["id"], b.index)
            assert b.text and b.text == b.text.strip(" \u3000") and "\n" not in b.text


def test_every_development_page_has_sane_dom_context(manifest_pages) -> None:
    for m, page in manifest_pages:
        assert page.meta["encoding"] == m["encoding"]
        for b in page.blocks:
            dom = b.dom
            assert dom is not None and dom.tag == b.kind
            assert 0.0 <= dom.link_ratio <= 1.0
            assert dom.regions <= set(REGIONS)
            assert dom.xpath.startswith("/html") and dom.path.startswith("html/")
            assert dom.path.split("/")[-1] == dom.tag
            assert dom.depth == dom.path.count("/")


def test_development_pages_canonical_url_and_title(manifest_pages) -> None:
    """The canonical link honbun reads agrees with the URL the manifest records (same host)."""
    with_url = 0
    for m, page in manifest_pages:
        url = page.meta.get("url")
        if not url or not m["url"]:
            continue
        with_url += 1
        hosts = {
            urlsplit(m["url"]).hostname,
            urlsplit(m.get("canonical_url_in_page") or "").hostname,
        }
        assert urlsplit(url).hostname in hosts, (m["id"], url)
    assert with_url >= 70
    titled = [p for _, p in manifest_pages if p.meta.get("title")]
    assert len(titled) > 80
    assert all(
        "\n" not in p.meta["title"] and p.meta["title"] == p.meta["title"].strip() for p in titled
    )


# --------------------------------------------------------------------------- text dumps


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name)
def test_seed_blocks_are_exactly_its_non_empty_lines(seed: Path) -> None:
    page = load_page(seed)
    lines = [line.strip() for line in seed.read_text("utf-8").split("\n") if line.strip()]
    assert [b.text for b in page.blocks] == lines
    assert page.doc_id == seed.stem and page.format == "text"
    for b in page.blocks:
        assert page.text[b.start : b.end] == b.text
        assert b.kind == "line"


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name)
def test_seed_gaps_match_the_blank_lines(seed: Path) -> None:
    page = load_page(seed)
    lines = seed.read_text("utf-8").split("\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    for b, (prev, cur) in zip(page.blocks[1:], itertools.pairwise(nonblank), strict=True):
        assert b.gap_before == cur - prev - 1
    for a, b in itertools.pairwise(page.blocks):
        assert a.gap_after == b.gap_before
        assert page.text[a.end : b.start] == "\n" * (b.gap_before + 1)
    assert page.blocks[0].gap_before == 0 and page.blocks[-1].gap_after == 0


def test_text_gaps_newlines_and_spaces() -> None:
    raw = "\n\n\u3000見出し\u3000です\u3000 \r\n\r\n\r\n二行目\r三行目\t\t末尾 \n\n"
    page = parse_text(raw, "d", "s")
    assert [b.text for b in page.blocks] == ["見出し\u3000です", "二行目", "三行目 末尾"]
    assert [(b.gap_before, b.gap_after) for b in page.blocks] == [(0, 2), (2, 0), (0, 0)]
    assert page.text == "見出し\u3000です\n\n\n二行目\n三行目 末尾"
    assert "\r" not in page.text
    for b in page.blocks:
        assert page.text[b.start : b.end] == b.text


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_text_newline_conventions_give_the_same_page(newline: str) -> None:
    raw = newline.join(["一行目", "", "二行目", "三行目", ""])
    page = page_from_bytes(raw.encode("utf-8"), "x.txt")
    assert page.text == "一行目\n\n二行目\n三行目"
    assert [(b.start, b.end) for b in page.blocks] == [(0, 3), (5, 8), (9, 12)]


def test_text_invisible_characters_removed() -> None:
    page = parse_text("\ufeff本\u200b文\u00ad。\x07\n", "d", "s")
    assert [b.text for b in page.blocks] == ["本文。"]


# --------------------------------------------------------------------------- livedoor

ARTICLES = {
    ("sports-watch", "4597641"): [
        "http://news.livedoor.com/article/detail/4597641/",
        "2010-02-10T10:50:00+0900",
        "【Sports Watch】試合の　見出し",
        "本文の一行目。",
        "",
        "　本文の二行目。　",
    ],
    ("sports-watch", "4600000"): [
        "http://news.livedoor.com/article/detail/4600000/",
        "2010-02-11T09:00:00+0900",
        "二本目の記事",
        "本文。",
    ],
    ("it-life-hack", "6292880"): [
        "http://news.livedoor.com/article/detail/6292880/",
        "2012-02-19T13:00:00+0900",
        "ITの記事",
        "本文一。\r",
        "本文二。",
    ],
}


def _files() -> dict[str, bytes]:
    out = {
        "text/README.txt": "コーパスの説明\n".encode(),
        "text/CHANGES.txt": b"2012-09-15\n",
    }
    for cat in {c for c, _ in ARTICLES}:
        out[f"text/{cat}/LICENSE.txt"] = "ライセンス\nhttp://creativecommons.org/\n本文\n".encode()
    for (cat, aid), lines in ARTICLES.items():
        out[f"text/{cat}/{cat}-{aid}.txt"] = "\n".join(lines).encode("utf-8")
    return out


@pytest.fixture
def livedoor_tar(tmp_path: Path) -> Path:
    path = tmp_path / "ldcc-test.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in ("text", "text/sports-watch", "text/it-life-hack"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for name, data in sorted(_files().items(), reverse=True):  # unsorted on purpose
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def livedoor_dir(tmp_path: Path) -> Path:
    root = tmp_path / "unpacked"
    for name, data in _files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


EXPECTED_IDS = [
    "livedoor-it-life-hack-6292880",
    "livedoor-sports-watch-4597641",
    "livedoor-sports-watch-4600000",
]


def check_livedoor_pages(pages: list[Page]) -> None:
    assert [p.doc_id for p in pages] == EXPECTED_IDS
    by_id = {p.doc_id: p for p in pages}
    p = by_id["livedoor-sports-watch-4597641"]
    assert p.format == "livedoor"
    assert p.meta == {
        "url": "http://news.livedoor.com/article/detail/4597641/",
        "date": "2010-02-10T10:50:00+0900",
        "title": "【Sports Watch】試合の　見出し",
        "category": "sports-watch",
    }
    assert [(b.text, b.kind) for b in p.blocks] == [
        ("【Sports Watch】試合の　見出し", "title"),
        ("本文の一行目。", "line"),
        ("本文の二行目。", "line"),
    ]
    assert [b.text for b in by_id["livedoor-it-life-hack-6292880"].blocks] == [
        "ITの記事",
        "本文一。",
        "本文二。",
    ]
    assert by_id["livedoor-it-life-hack-6292880"].meta["category"] == "it-life-hack"
    for page in pages:
        assert page.blocks[0].index == 0 and page.blocks[0].kind == "title"
        assert page.blocks[0].text == page.meta["title"]
        for b in page.blocks:
            assert page.text[b.start : b.end] == b.text
        assert "ライセンス" not in page.text and "コーパス" not in page.text


def test_iter_livedoor_tarball(livedoor_tar: Path) -> None:
    pages = list(iter_livedoor(livedoor_tar))
    check_livedoor_pages(pages)
    assert all(p.source.startswith(f"{livedoor_tar}#text/") for p in pages)


def test_iter_livedoor_unpacked_folder(livedoor_dir: Path) -> None:
    check_livedoor_pages(list(iter_livedoor(livedoor_dir)))
    check_livedoor_pages(list(iter_livedoor(livedoor_dir / "text")))


def test_tarball_and_folder_give_the_same_pages(livedoor_tar: Path, livedoor_dir: Path) -> None:
    a = [(p.doc_id, p.text, p.meta) for p in iter_livedoor(livedoor_tar)]
    b = [(p.doc_id, p.text, p.meta) for p in iter_livedoor(livedoor_dir)]
    assert a == b


def test_iter_livedoor_category_filter(livedoor_tar: Path, livedoor_dir: Path) -> None:
    for src in (livedoor_tar, livedoor_dir):
        ids = [p.doc_id for p in iter_livedoor(src, categories={"it-life-hack"})]
        assert ids == ["livedoor-it-life-hack-6292880"]


def test_load_article(livedoor_tar: Path, livedoor_dir: Path) -> None:
    member = "text/sports-watch/sports-watch-4600000.txt"
    for src in (livedoor_tar, livedoor_dir, livedoor_dir / "text"):
        page = load_article(src, member)
        assert page.doc_id == "livedoor-sports-watch-4600000"
        assert [b.text for b in page.blocks] == ["二本目の記事", "本文。"]
        assert page.source == f"{src}#{member}"
    with pytest.raises(ValueError, match="not a livedoor article"):
        load_article(livedoor_tar, "text/sports-watch/LICENSE.txt")
    with pytest.raises(ValueError, match="no such member"):
        load_article(livedoor_tar, "text/sports-watch/sports-watch-1.txt")


def test_missing_corpus_names_the_download_url(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=HOME_URL.replace(".", r"\.")):
        next(iter_livedoor(tmp_path / "ldcc-20140209.tar.gz"))


def test_load_article_missing_corpus_names_the_download_url(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="rondhuit"):
        load_article(tmp_path / "ldcc-20140209.tar.gz", "text/smax/smax-6000000.txt")


@pytest.mark.skipif(not LIVEDOOR_TARBALL.exists(), reason="livedoor tarball not present")
def test_real_livedoor_corpus() -> None:
    categories: Counter[str] = Counter()
    for page in iter_livedoor(LIVEDOOR_TARBALL):
        categories[page.meta["category"]] += 1
        assert page.blocks[0].kind == "title"
        assert page.meta["url"].startswith("http://news.livedoor.com/")
    assert len(categories) == 9
    assert sum(categories.values()) == 7367


def test_article_records_become_pages_with_title_first(tmp_path):
    from honbun.read.articles import iter_articles, load_record

    f = tmp_path / "a.jsonl"
    rows = [
        {
            "id": "n1",
            "title": "北朝鮮　派兵",
            "text": "第一段落です。\n\n第二段落。",
            "url": "https://x.jp/1",
        },
        {"id": "n2", "title": "題", "text": "本文。"},
    ]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    page = load_record(f, "n1")
    assert [b.kind for b in page.blocks] == ["title", "line", "line"]
    assert [b.text for b in page.blocks] == ["北朝鮮　派兵", "第一段落です。", "第二段落。"]
    assert page.format == "article" and page.meta["url"] == "https://x.jp/1"
    assert all(page.text[b.start : b.end] == b.text for b in page.blocks)
    assert [p.doc_id for p in iter_articles(f)] == ["n1", "n2"]
    with pytest.raises(ValueError, match="n3: no such article"):
        load_record(f, "n3")


def test_article_file_errors_name_the_line(tmp_path):
    from honbun.read.articles import records

    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": "a", "title": "t", "text": "x"}\n{"id": "a", "title": "t", "text": "y"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: duplicate article id"):
        records(f)
    f.write_text('{"id": "a"\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: invalid JSON"):
        records(f)
