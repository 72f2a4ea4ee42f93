"""Tests for honbun.read.sentences: fixed examples, invariants (hypothesis) and the seed pages."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honbun.read.page import Page, assemble, split_page
from honbun.read.sentences import MAX_BRACKET_CHARS, SPACES, split_text

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def sents(text: str) -> list[str]:
    return [text[a:b] for a, b in split_text(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今日は晴れ。明日は雨。", ["今日は晴れ。", "明日は雨。"]),
        ("今日は晴れ。明日は雨", ["今日は晴れ。", "明日は雨"]),
        ("彼は「今日は晴れだ。明日も晴れる。」と述べた。", None),
        ("彼は「行く。」次の文だ。", ["彼は「行く。」", "次の文だ。"]),
        ("「行くぞ！」次の文だ。", ["「行くぞ！」", "次の文だ。"]),
        ("「行く。」って言った。", None),
        ("「行く。」など様々だ。", None),
        ("「行く。」 と言った。", None),
        ("「行く。」は名言だ。次。", ["「行く。」は名言だ。", "次。"]),
        ("本当！？うそ！！まさか。。終わり", ["本当！？", "うそ！！", "まさか。。", "終わり"]),
        ("なぜ?!そうか", ["なぜ?!", "そうか"]),
        ("えっ……そうなの…。はい‥‥", ["えっ……そうなの…。", "はい‥‥"]),
        ("まさか……と思った", None),
        ("成長率は3.5%だった。次。", ["成長率は3.5%だった。", "次。"]),
        ("成長率は３．５％だった。次。", ["成長率は３．５％だった。", "次。"]),
        ("1. 項目一。2. 項目二", ["1. 項目一。", "2. 項目二"]),
        ("１．概要を示す。２．詳細", ["１．概要を示す。", "２．詳細"]),
        ("方針は、１．増税、２．減税", None),
        ("Yahoo!ニュースで見た。次!", ["Yahoo!ニュースで見た。", "次!"]),
        ("Yahoo!?ニュース", None),
        ("Yahoo!ニュースを見るか?はい", ["Yahoo!ニュースを見るか?", "はい"]),
        ("OK！　次", ["OK！", "次"]),
        ("「『これだ。』と思った。」と語った。", None),
        ("「『これだ。』と思った。」次の文。", ["「『これだ。』と思った。」", "次の文。"]),
        ("「『これだ。』」次の文。", ["「『これだ。』」", "次の文。"]),
        ("「（注：重要。）だ。」と", None),
        ("写真(写真は3月25日)です。次。", ["写真(写真は3月25日)です。", "次。"]),
        ("写真を撮る金正恩。(写真は3月25日)KCNA", ["写真を撮る金正恩。", "(写真は3月25日)KCNA"]),
        ("だ。」と言った。", None),  # stray closer: the quote began in an earlier block
        ("だ。」次。", ["だ。」", "次。"]),
        ("言った。）」次。", ["言った。）」", "次。"]),
        ("a)はい。b)いいえ。", ["a)はい。", "b)いいえ。"]),
        ("  先頭。\u3000 次。 ", ["先頭。", "次。"]),
        ("【速報】地震。被害なし。", ["【速報】地震。", "被害なし。"]),
    ],
)
def test_examples(text: str, expected: list[str] | None) -> None:
    assert sents(text) == (expected if expected is not None else [text.strip(SPACES)])


@pytest.mark.parametrize("text", ["", " ", "\u3000", " \u3000 \u3000"])
def test_empty_and_whitespace_only(text: str) -> None:
    assert split_text(text) == []


def test_spans_are_trimmed_offsets() -> None:
    assert split_text(" あ。\u3000い ") == [(1, 3), (4, 5)]


def test_unbalanced_opener_in_long_block_still_splits() -> None:
    n = MAX_BRACKET_CHARS // 7 + 20
    body = "これは文です。" * n  # longer than MAX_BRACKET_CHARS
    out = sents("彼は「" + body)
    assert len(out) == n
    assert out[0] == "彼は「これは文です。"
    assert out[-1] == "これは文です。"


def test_unclosed_opener_at_block_end_is_ignored() -> None:
    # Never closed in this block, so it cannot hide the terminators after it.
    assert sents("彼は「行く。来る。") == ["彼は「行く。", "来る。"]
    # The later pair closes its own opener, not the stray one.
    assert sents("彼は「行く。来る（注）。") == ["彼は「行く。", "来る（注）。"]


def test_long_quote_is_unbalanced_but_short_one_is_not() -> None:
    short = "あ。" * ((MAX_BRACKET_CHARS - 10) // 2)
    assert sents("「" + short + "」と言った。") == ["「" + short + "」と言った。"]
    long = "あ。" * (MAX_BRACKET_CHARS // 2 + 10)
    assert len(sents("「" + long + "」と言った。")) > MAX_BRACKET_CHARS // 2


def test_stray_closer_at_depth_zero_is_ignored() -> None:
    assert sents("1)まず。」（続き。）次。") == ["1)まず。」", "（続き。）", "次。"]


def test_mixed_nesting() -> None:
    assert sents("「（括弧。」）と言った。次。") == ["「（括弧。」）と言った。", "次。"]
    assert sents("《『「深い。」』》と。次。") == ["《『「深い。」』》と。", "次。"]


def test_pathological_inputs_are_fast() -> None:
    texts = ["「" * 50_000 + "。", "」。" * 50_000, "１．" * 30_000, "。」" * 30_000]
    t0 = time.perf_counter()
    for text in texts:
        spans = split_text(text)
        assert spans[-1][1] == len(text)
    assert time.perf_counter() - t0 < 2.0


# --- invariants -------------------------------------------------------------------------

ALPHABET = (
    "あいうえおかきくけこさしすせそとってのがをにはもでなど"
    "日本語文章東京政府"
    "。！？!?．.…‥、，"
    "「」『』（）()【】〔〕［］〈〉《》“”"
    " \u3000"
    "abcXYZ0123０１２３"
)
jp_text = st.text(alphabet=st.sampled_from(ALPHABET), max_size=200)


def check_spans(text: str, spans: list[tuple[int, int]]) -> None:
    pos = 0
    for a, b in spans:
        assert pos <= a < b <= len(text)
        seg = text[a:b]
        assert seg == seg.strip(SPACES)
        assert text[pos:a].strip(SPACES) == ""  # nothing but spaces between sentences
        pos = b
    assert text[pos:].strip(SPACES) == ""


@settings(max_examples=400, deadline=None)
@given(jp_text)
def test_spans_invariants(text: str) -> None:
    check_spans(text, split_text(text))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["「", "」", "あ", "。", "『", "』"]), max_size=1200))
def test_spans_invariants_long_bracket_soup(chars: list[str]) -> None:
    text = "".join(chars)
    check_spans(text, split_text(text))


@settings(max_examples=100, deadline=None)
@given(st.lists(jp_text.map(lambda t: t.strip(SPACES)).filter(bool), max_size=8))
def test_page_sentences_match_page_text(lines: list[str]) -> None:
    page = assemble("d", "s", "text", [(line, "line", None) for line in lines])
    sentences = split_page(page)
    assert sentences == page.sentences
    for s in sentences:
        block = page.blocks[s.block]
        assert s.text == page.text[s.start : s.end]
        assert block.start <= s.start < s.end <= block.end
    for block in page.blocks:
        base = block.start
        local = [(s.start - base, s.end - base) for s in sentences if s.block == block.index]
        assert local == split_text(block.text)
    # Some blocks' sentences, split alone or taken from the page's: the same.
    some = {b.index for b in page.blocks if b.index % 2}
    fresh = assemble("d", "s", "text", [(line, "line", None) for line in lines])
    assert fresh.sentences_of(some) == [s for s in sentences if s.block in some]
    assert page.sentences_of(some) == fresh.sentences_of(some)


# --- seed pages ---------------------------------------------------------------------------


def seed_page(name: str) -> Page:
    path = next(SEEDS.glob(name))
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return assemble(path.stem, str(path), "text", [(ln, "line", None) for ln in lines if ln])


def test_seed_pages() -> None:
    page = seed_page("000_*.txt")
    texts = [s.text for s in page.sentences]
    quote = (
        "ルッテ氏は北朝鮮のロシア派兵に関し韓国政府の代表団から説明を受けた後、"
        "「ロシアと北朝鮮の軍事協力の深化は、インド太平洋および欧州大西洋地域の安全保障の"
        "両方にとり脅威」と述べた。"
    )
    assert quote in texts
    assert "米国防総省は北朝鮮軍兵士1万人が訓練のためロシア東部に派遣されていると推定。" in texts
    # A quote holding three sentences stays inside one sentence.
    assert any(t.startswith("Xへの投稿で「NATO") and t.endswith("」と述べた。") for t in texts)
    for s in page.sentences:
        assert s.text == page.text[s.start : s.end]

    page = seed_page("002_*.txt")
    texts = [s.text for s in page.sentences]
    assert "北朝鮮軍兵士と写真を撮る金正恩。" in texts
    assert any(t.startswith("ロシアは朝鮮人民軍") and "(写真は3月25日)" in t for t in texts)
    # No terminator before the 」 of "「…ものだ」と、": the quote does not end a sentence.
    assert any(t.startswith("「戦争であれ") and t.endswith("モディは語った。") for t in texts)
    # The quote after it holds two sentences and ends the block: one sentence.
    last = "「なかでも、罪のない子供たちが殺されれば、心に血が流れる。その痛みは実に辛いものだ」"
    assert texts.count(last) == 1
