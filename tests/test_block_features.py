"""Block features: the vectorised page-level computations against plain per-block loops."""

from __future__ import annotations

import numpy as np
import pytest

from honbun.features.blocks import (
    FeatureConfig,
    _neighbour_mean,
    feature_names,
    layout_features,
    page_features,
    position_names,
    script_shares,
    text_matrix,
    text_names,
)
from honbun.read.files import load_page
from honbun.read.normalize import nfkc
from honbun.read.tokens import block_tokens


def apply_rules(cfg, pages, probas):
    """The decision rules ``cfg`` switches on, over ``probas``."""
    from honbun.boilerplate.rules import apply

    return apply(cfg.rules, cfg.features, pages, probas)


def _shares_by_hand(text: str) -> list[float]:
    def count(pred) -> int:
        return sum(1 for c in text if pred(ord(c)))

    hira = count(lambda o: 0x3041 <= o <= 0x309F)
    kata = count(lambda o: 0x30A0 <= o <= 0x30FF or 0xFF66 <= o <= 0xFF9F)
    kanji = count(lambda o: 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or o == 0x3005)
    latin = count(lambda o: chr(o).isascii() and chr(o).isalpha())
    digit = count(lambda o: 0x30 <= o <= 0x39)
    punct = count(
        lambda o: (
            0x3000 <= o <= 0x303F
            or 0xFF01 <= o <= 0xFF0F
            or 0xFF1A <= o <= 0xFF20
            or (o < 0x80 and not chr(o).isalnum() and chr(o) != " " and 0x21 <= o <= 0x7E)
        )
    )
    n = max(1, len(text))
    return [x / n for x in (hira, kata, kanji, latin, digit, punct)]


@pytest.mark.parametrize(
    "text",
    [
        "北朝鮮の兵士がロシアへ派遣された。",
        "人々は「ＡＢＣ」と言った！",  # 々 is kanji and punctuation; full-width letters
        "Top 10 ranking — 2024/11/05",
        "𠮷野家で食べた🍚",  # beyond the BMP: no script
        "",
    ],
)
def test_script_shares_count_each_script(text: str) -> None:
    t = nfkc(text)
    assert script_shares([t])[0].tolist() == pytest.approx(_shares_by_hand(t), abs=0)


def test_script_shares_of_several_texts_are_independent() -> None:
    texts = [nfkc(x) for x in ["ひらがな", "カタカナ漢字", "", "abc123"]]
    together = script_shares(texts)
    alone = np.vstack([script_shares([t]) for t in texts])
    assert together.shape == (4, 6)
    assert np.array_equal(together, alone)


def test_text_matrix_patterns_and_shape() -> None:
    texts = ["2024年11月5日 12:30配信", "ランキング1位", "本文の一文です。", "続きを読む"]
    m = text_matrix(texts, [block_tokens(t) for t in texts])
    names = text_names()
    assert m.shape == (4, len(names))
    col = {n: m[:, i] for i, n in enumerate(names)}
    assert col["pat_date"].tolist() == [1, 0, 0, 0]  # digit patterns need a digit
    assert col["pat_list_marker"].tolist() == [0, 0, 0, 0]
    assert col["pat_more_link"].tolist() == [0, 0, 0, 1]
    assert col["ends_maru"].tolist() == [0, 0, 1, 0]


def test_text_matrix_rows_of_repeated_texts_follow_their_own_tokens() -> None:
    # A repeated text reuses its row only when its tokens are the same as well.
    texts = ["本文の一文です。", "続きを読む", "本文の一文です。", "本文の一文です。"]
    tokens = [block_tokens(t) for t in texts]
    tokens[3] = tokens[3][:2]  # the same text with other tokens (a caller's choice)
    m = text_matrix(texts, tokens)
    alone = np.vstack([text_matrix([t], [k]) for t, k in zip(texts, tokens, strict=True)])
    np.testing.assert_array_equal(m, alone)
    assert (m[0] == m[2]).all() and not (m[0] == m[3]).all()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7])
def test_neighbour_mean_equals_a_loop(n: int) -> None:
    lengths = np.arange(1, n + 1, dtype=np.float64) * 7 % 11
    expected = []
    for i in range(n):
        neigh = [lengths[j] for j in range(max(0, i - 2), min(n, i + 3)) if j != i]
        expected.append(float(np.mean(neigh)) if neigh else 0.0)
    assert _neighbour_mean(lengths).tolist() == expected


def test_page_features_shape_names_and_layout(tmp_path) -> None:
    f = tmp_path / "page.txt"
    f.write_text("見出し\n\n本文の一文です。続きます。\n\nランキング\n1位 記事\n", encoding="utf-8")
    page = load_page(f)
    cfg = FeatureConfig()
    tokens = [block_tokens(b.text) for b in page.blocks]
    X = page_features(page, tokens, cfg)
    assert X.shape == (len(page.blocks), len(feature_names(cfg)))
    lay = layout_features(page)
    assert lay.shape == (len(page.blocks), len(position_names()))
    rel = lay[:, position_names().index("rel_index")]
    assert rel[0] == 0.0 and rel[-1] == 1.0


def test_text_model_settings_override_the_boilerplate_section() -> None:
    from honbun.boilerplate.config import text_model_config

    section = {"hgb_max_leaf_nodes": 15, "pos_weight": 3.0, "features": {"dom": True}}
    cfg = text_model_config(section, {"hgb_max_leaf_nodes": 31}, 13)
    assert cfg.hgb_max_leaf_nodes == 31 and cfg.pos_weight == 3.0
    assert cfg.features.dom is False and cfg.features.text is True
    with pytest.raises(ValueError, match="unknown settings"):
        text_model_config(section, {"leaves": 31}, 13)


def test_fold_spread_skips_folds_without_pages() -> None:
    import warnings
    from types import SimpleNamespace

    from honbun.evaluation.blocks import SystemScores
    from honbun.metrics import PRF

    s = SystemScores("m", char3={"a": PRF(1, 1, 0.8), "b": PRF(1, 1, 0.4), "c": PRF(1, 1, 0.9)})
    gold = [SimpleNamespace(page=SimpleNamespace(doc_id=d)) for d in "abc"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice"
        out = s.summary(gold, [["a", "b"], [], ["seed-only"], ["c"]])  # type: ignore[arg-type]
    assert out["char3_f1_fold_std"] == pytest.approx(0.15)  # std of the fold means 0.6, 0.9
    assert out["char3_f1_macro"] == pytest.approx(0.7)


def _prepared_html(tmp_path, body: str, title: str):
    from honbun.boilerplate.config import ModelConfig
    from honbun.features.prepared import prepare

    f = tmp_path / "page.html"
    head = f"<head><meta charset='utf-8'><title>{title}</title></head>"
    f.write_text(f"<html>{head}<body>{body}</body></html>", encoding="utf-8")
    return prepare(load_page(f), ModelConfig().features)


def test_headline_is_the_unlinked_heading_that_covers_the_title(tmp_path) -> None:
    from honbun.boilerplate.rules import headline, keep_headline

    body = (
        "<h1><a href='/'>毎日ニュース</a></h1>"  # the site logo: matches the site-name segment
        "<h2>関連記事</h2>"
        "<h2>北朝鮮兵がロシアに派遣　米国防総省が推定</h2>"
        "<p>米国防総省は北朝鮮軍兵士1万人が訓練のためロシア東部に派遣されていると推定した。</p>"
        "<h3><a href='/share'>北朝鮮兵がロシアに派遣　米国防総省が推定（写真） - 毎日ニュース</a></h3>"
    )
    # A linked heading (a share box) repeats the whole title: not the headline either.
    # The logo repeats the site-name segment exactly; the headline its segment but for （写真）.
    title = "北朝鮮兵がロシアに派遣　米国防総省が推定（写真） - 毎日ニュース"
    p = _prepared_html(tmp_path, body, title)
    names = feature_names(FeatureConfig())
    texts = [b.text for b in p.page.blocks]
    i = headline(p, names)
    assert i is not None and texts[i] == "北朝鮮兵がロシアに派遣　米国防総省が推定"
    proba = np.array([0.9, 0.1, 0.2, 0.95, 0.3])
    kept = keep_headline(p, proba, names)
    assert kept[i] == 0.5 and np.delete(kept, i).tolist() == np.delete(proba, i).tolist()
    assert proba[i] == 0.2  # the input is not modified


def test_no_headline_without_a_matching_heading_or_a_title(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import headline
    from honbun.features.prepared import prepare

    names = feature_names(FeatureConfig())
    body = "<h2>別の話題</h2><p>本文です。</p>"
    assert headline(_prepared_html(tmp_path, body, "北朝鮮兵がロシアに派遣"), names) is None
    f = tmp_path / "dump.txt"
    f.write_text("北朝鮮兵がロシアに派遣\n\n本文です。\n", encoding="utf-8")
    assert headline(prepare(load_page(f), ModelConfig().features), names) is None


def test_a_rescued_page_keeps_the_top_blocks_template_slot(tmp_path) -> None:
    from honbun.boilerplate.rules import at_least_one

    body = (
        "<ul class='nav'><li><a href='/'>トップ</a></li></ul>"
        "<div class='paragraph'><p class='text'>北朝鮮兵がロシア東部に派遣された。</p>"
        "<p class='text'>米国防総省は訓練のためと推定し...</p></div>"
        "<p class='promo'>有料会員になると続きをお読みいただけます。</p>"
    )
    p = _prepared_html(tmp_path, body, "北朝鮮兵がロシアに派遣")
    assert [b.text[:4] for b in p.page.blocks] == ["トップ", "北朝鮮兵", "米国防総", "有料会員"]
    proba = np.array([0.1, 0.3, 0.05, 0.2])
    kept = at_least_one(p, proba)
    # The teaser paragraph shares the top paragraph's slot; the promo does not.
    assert kept.tolist() == [0.1, 0.5, 0.5, 0.2]
    assert proba.tolist() == [0.1, 0.3, 0.05, 0.2]  # the input is not modified
    # A page that already has body is left alone.
    assert at_least_one(p, np.array([0.1, 0.9, 0.05, 0.2])).tolist() == [0.1, 0.9, 0.05, 0.2]


def test_a_rescued_text_dump_keeps_only_its_top_block(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import at_least_one
    from honbun.features.prepared import prepare

    f = tmp_path / "dump.txt"
    f.write_text("見出し\n\n本文です。\n\n続きです。\n", encoding="utf-8")
    p = prepare(load_page(f), ModelConfig().features)
    assert at_least_one(p, np.array([0.1, 0.3, 0.2])).tolist() == [0.1, 0.5, 0.2]


@pytest.mark.parametrize(
    "text",
    [
        "2024年12月4日 19時23分",
        "10/13(水) 11:55配信",
        "[04月01日 12時00分]",
        "2019年12月17日更新",
        "2024.12.04 19:23",
        "公開日：2024年12月4日",
        "最終更新：２０２４／１２／０４　１９：２３",
    ],
)
def test_datelines(text: str) -> None:
    from honbun.boilerplate.rules import is_dateline

    assert is_dateline(text)


@pytest.mark.parametrize(
    "text",
    ["3.5", "3/5", "2024年", "12月4日、政府は制裁を発表した。", "１９４５年まで５０年", "午後3時"],
)
def test_not_datelines(text: str) -> None:
    from honbun.boilerplate.rules import is_dateline

    assert not is_dateline(text)


def test_rules_drop_a_dateline_before_min_body_picks_a_block(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig

    body = (
        "<p class='date'>2024年12月4日 19時23分</p><p class='x'>北朝鮮兵がロシアに派遣された。</p>"
    )
    p = _prepared_html(tmp_path, body, "無題")
    on, off = ModelConfig(), ModelConfig.from_dict({"drop_datelines": False})
    # The dateline is dropped, so min_body keeps the paragraph rather than the date.
    assert apply_rules(on, [p], [np.array([0.4, 0.3])])[0].tolist() == [0.0, 0.5]
    assert apply_rules(off, [p], [np.array([0.4, 0.3])])[0].tolist() == [0.5, 0.3]
    assert apply_rules(on, [p], [np.array([0.9, 0.8])])[0].tolist() == [0.0, 0.8]


@pytest.mark.parametrize(
    ("text", "caption"),
    [
        ("写真：セレクトセールでの落札シーン", True),
        ("（写真）ロシア東部の演習場", True),
        ("図1：派遣された兵士の推移", True),
        ("【画像】北朝鮮のミサイル", True),
        ("出典：米国防総省", True),
        ("図書館で資料を調べた。", False),
        ("画像はイメージです。", False),
        ("表示が変わった。", False),
        ("北朝鮮兵の写真：公開された", False),
    ],
)
def test_captions(text: str, caption: bool) -> None:
    from honbun.boilerplate.rules import is_caption

    assert is_caption(text) is caption


def test_rules_drop_a_caption_only_when_switched_on(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig

    body = "<p class='x'>北朝鮮兵がロシアに派遣された。</p><p class='x'>写真：演習場の兵士</p>"
    p = _prepared_html(tmp_path, body, "無題")
    proba = [np.array([0.9, 0.8])]
    assert apply_rules(ModelConfig(), [p], proba)[0].tolist() == [0.9, 0.0]
    assert apply_rules(ModelConfig.from_dict({"drop_captions": False}), [p], proba)[0].tolist() == [
        0.9,
        0.8,
    ]


def test_a_title_echo_is_dropped_but_not_the_headline(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig

    headline = "北朝鮮兵がロシアに派遣　米国防総省が推定"
    body = f"<h1 class='speech'>{headline} - 産経ニュース</h1><h1>{headline}</h1><p>本文。</p>"
    p = _prepared_html(tmp_path, body, f"{headline} - 産経ニュース")
    proba = [np.array([0.9, 0.9, 0.9])]
    assert apply_rules(ModelConfig(), [p], proba)[0].tolist() == [0.0, 0.9, 0.9]
    assert apply_rules(ModelConfig.from_dict({"drop_title_echo": False}), [p], proba)[
        0
    ].tolist() == [0.9, 0.9, 0.9]
    # A title without a site-name part may be the headline itself: left alone.
    p = _prepared_html(tmp_path, f"<h1>{headline}</h1><p>本文。</p>", headline)
    assert apply_rules(ModelConfig(), [p], [np.array([0.9, 0.9])])[0].tolist() == [0.9, 0.9]


def test_a_rescued_page_does_not_keep_a_big_slot(tmp_path) -> None:
    from honbun.boilerplate.rules import SLOT_MAX_BLOCKS, at_least_one

    n = SLOT_MAX_BLOCKS + 1
    body = "".join(f"<div class='item'>写真の説明{k}</div>" for k in range(n))
    p = _prepared_html(tmp_path, body, "無題")
    assert len(p.page.blocks) == n
    proba = np.full(n, 0.1)
    proba[2] = 0.3
    kept = at_least_one(p, proba)
    assert kept[2] == 0.5 and np.delete(kept, 2).tolist() == [0.1] * (n - 1)


@pytest.mark.parametrize(
    ("text", "prompt"),
    [
        ("読者会員限定です", True),
        ("有料会員になると続きをお読みいただけます。", True),
        ("残り１２３４文字（全文２０００文字）", True),
        ("ログインして続きを読む", True),
        ("北朝鮮兵がロシアに派遣された。", False),
        # A paragraph that mentions subscriptions is longer than a prompt.
        ("同紙は購読者の減少を受けて、電子版の料金を来月から引き下げると発表した。" * 2, False),
    ],
)
def test_prompts(text: str, prompt: bool) -> None:
    from honbun.boilerplate.rules import is_prompt

    assert is_prompt(text) is prompt


@pytest.mark.parametrize(
    ("switch", "heading"),
    [
        ("drop_prompts", "読者会員限定です"),
        ("drop_promos", "あわせて読みたい"),
        ("drop_post_headers", "4：名無しさん＠おーぷん：21/10/19(火)09:30:47 CTIZ"),
        ("drop_reprint_notes", "無断転載を禁じます"),
    ],
)
def test_rules_drop_a_prompt_or_promo_only_when_switched_on(
    tmp_path, switch: str, heading: str
) -> None:
    from honbun.boilerplate.config import ModelConfig

    p = _prepared_html(tmp_path, f"<h2>{heading}</h2><p>北朝鮮兵が派遣された。</p>", "無題")
    proba = [np.array([0.6, 0.9])]
    assert apply_rules(ModelConfig(), [p], proba)[0].tolist() == [0.0, 0.9]
    assert apply_rules(ModelConfig.from_dict({switch: False}), [p], proba)[0].tolist() == [0.6, 0.9]


@pytest.mark.parametrize(
    ("text", "promo"),
    [
        ("あわせて読みたい", True),
        ("【関連記事】", True),
        ("関連エントリー", True),  # blogs: 関連エントリ(ー), 関連投稿
        ("関連投稿", True),
        ("■ アクセスランキング（国内）", True),
        ("＞＞もっと見る", True),
        ("[ＰＲ]", True),
        ("広告掲載について", True),
        ("最新記事", True),
        ("アマゾンに飛びます", True),  # shop buttons
        ("Amazon.co.jpで詳細を見る", True),
        ("楽天市場で購入する ＞", True),
        # The same words opening body text, or too long for a heading.
        ("広告データの集計を効率化する「広告データ自動取得機能」", False),
        ("PRINT LENGTH", False),
        ("関連して、ロシア国防省は北朝鮮兵の派遣を否定した。", False),
        ("最新の衛星画像によると、北朝鮮軍の部隊がクルスク州に移動したとみられる。", False),
        ("北朝鮮兵の派遣についての関連記事", False),
        ("おすすめは駅前のラーメン店で、濃厚なスープが地元の人に評判になっている。", False),
        ("Amazonで購入したモニター", False),  # a heading that goes on after the shop
        ("Amazonベーシックのモニターアーム購入", False),
    ],
)
def test_promos(text: str, promo: bool) -> None:
    from honbun.boilerplate.rules import is_promo

    assert is_promo(text) is promo


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("Copyright © 2021 産業経済新聞社 無断転載を禁じます。", True),
        ("無断転載・複製を禁じます", True),
        ("・伊勢白山道ブログの記事・コメントの転載・引用・コピーは一切厳禁です。", True),
        (
            "企業での記事共有や会議資料への転載・複製、注文印刷などをご希望の方は、リンク先をご覧ください。",
            True,
        ),
        (
            "（本記事は、TechRepublic Japanで2017年6月8日に掲載した記事からの転載です。"
            "続きはTechRepublic Japanでお読みいただけます）",
            True,
        ),
        ("※この記事は、筆者のブログのエントリーをもとに、S-MAX向けに再編集したものです。", True),
        # Text about reprinting is not a note: it does not end like one, or is too long.
        ("まとめブログが２ちゃんねるから転載禁止令を言い渡される", False),
        ("男は漫画を無断で転載した疑いが持たれている。", False),
        ("同社は記事の無断転載を禁じています。" + "違反には法的措置を取る方針です。" * 7, False),
        ("財務次官の「ばらまき合戦」批判　異例の寄稿にざわつく訳", False),
    ],
)
def test_reprint_notes(text: str, note: bool) -> None:
    from honbun.boilerplate.rules import is_reprint_note

    assert is_reprint_note(text) is note


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("4：名無しさん＠おーぷん：21/10/19(火)09:30:47 CTIZ", True),
        (
            "1: 以下、?ちゃんねるからVIPがお送りします :2021/10/19(火) 12:17:05.390 ID:YvBGab1c0",
            True,
        ),
        ("1 名前：名無しさん＠お腹いっぱい。 投稿日：2021/10/19(火) 12:17:05.39 ID:abcdEFG0", True),
        ("408869: :2021/10/20(水)13:29.33 返信", True),  # a blog comment's header
        ("３：名無しさん＠おーぷん：２１/１０/１９(火)０９:３０:４７ ＣＴＩＺ", True),  # full-width
        # A header with the post on the same line is the post; a dateline is not a header.
        (
            "4：名無しさん＠おーぷん：21/10/19(火)09:30:47 CTIZ ポケモン怖すぎて眠れないんだけど",
            False,
        ),
        ("2021/10/20(水) 13:00", False),
        ("北朝鮮は2024/10/19(土) 12:00に発表した。", False),
        ("3. 2024/10/19(土) 12:00 更新", False),
        (">>9", False),
    ],
)
def test_post_headers(text: str, header: bool) -> None:
    from honbun.boilerplate.rules import is_post_header

    assert is_post_header(text) is header


def test_blocks_in_chrome_regions_are_dropped(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig

    body = (
        "<nav><p>トップ</p></nav><div role='complementary'><p>今日の天気です。</p></div>"
        "<article><p>北朝鮮兵がロシアに派遣された。</p></article><footer><p>会社概要</p></footer>"
    )
    p = _prepared_html(tmp_path, body, "無題")
    proba = [np.array([0.9, 0.9, 0.9, 0.9])]
    assert apply_rules(ModelConfig(), [p], proba)[0].tolist() == [0.0, 0.0, 0.9, 0.0]
    assert (
        apply_rules(ModelConfig.from_dict({"drop_regions": False}), [p], proba)[0].tolist()
        == [0.9] * 4
    )


def test_blocks_in_chrome_classes_are_dropped_unless_the_class_holds_the_article(
    tmp_path,
) -> None:
    from honbun.boilerplate.config import ModelConfig

    article = "<div class='entry-body'><p>北朝鮮兵がロシアに派遣された。</p></div>"
    comments = "<div class='comment-list'><p>怖いですね。</p></div>"
    cal = "<table class='calendar'><tr><td>24</td></tr></table>"
    p = _prepared_html(tmp_path, article + comments + cal, "無題")
    proba = [np.array([0.9, 0.9, 0.9])]
    assert apply_rules(ModelConfig(), [p], proba)[0].tolist() == [0.9, 0.0, 0.0]
    assert (
        apply_rules(ModelConfig.from_dict({"drop_classes": False}), [p], proba)[0].tolist()
        == [0.9] * 3
    )
    # "comments" is not a whole token of "commentsx"; a token that spans most of the
    # page (the wrapper of article and sidebar alike) drops nothing.
    body = (
        "<div class='commentsx'><p>一つ目の段落です。</p></div>"
        "<div class='has-sidebar'><p>北朝鮮兵がロシアに派遣された。</p><p>短い</p></div>"
    )
    p = _prepared_html(tmp_path, body, "無題")
    assert apply_rules(ModelConfig(), [p], [np.array([0.9, 0.9, 0.9])])[0].tolist() == [0.9] * 3
    # Nor does one that holds most of the article the model expects, even when a long
    # menu makes it less than half of the page (<div class="main-with-sidebar">).
    article = "北朝鮮兵がロシアに派遣されたと米国防総省が発表し、その数は一万人に上ると推定した。"
    body = (
        f"<div class='x'><p>{'トップ ニュース 国際 政治 経済 社会 スポーツ ' * 4}</p></div>"
        f"<div class='main-with-sidebar'><p>{article}</p><p>続報</p></div>"
    )
    p = _prepared_html(tmp_path, body, "無題")
    proba = [np.array([0.1, 0.9, 0.6])]
    assert apply_rules(ModelConfig(), [p], proba)[0].tolist() == [0.1, 0.9, 0.6]


def test_a_subheading_between_body_blocks_is_kept(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import keep_subheadings

    body = (
        "<h2>速報</h2>"  # no body before it: a heading above the article is left alone
        "<p>米国防総省は北朝鮮軍兵士がロシア東部に派遣されたと推定した。</p>"
        "<h2>訓練の内容</h2>"  # introduces the next paragraph: raised
        "<p>兵士は砲兵や無人機の運用を学んでいるという。</p>"
        "<h3>関連記事</h3>"  # the next block is not body: left alone
        "<ul><li><a href='/a'>ロシア軍の動向</a></li></ul>"
        "<h2>専門家の見方</h2>"  # a drop rule set it to 0.0: stays dropped
        "<p>専門家は兵士の派遣が続くとみている。</p>"
        f"<h4>{'長い見出し' * 13}</h4>"  # longer than a line of text: left alone
        "<p>派遣は来年も続く見通しだ。</p>"
        "<h2>まとめ</h2><h3>今後の焦点</h3>"  # followed by a heading: left alone
        "<p>焦点は派遣の規模だ。</p>"
        "<h1>第二部</h1>"  # an <h1> is keep_headline's: left alone
        "<p>第二部では制裁を扱う。</p>"
    )
    p = _prepared_html(tmp_path, body, "無題")
    assert [b.dom.tag for b in p.page.blocks if b.dom] == [
        "h2", "p", "h2", "p", "h3", "li", "h2", "p", "h4", "p", "h2", "h3", "p", "h1", "p",
    ]  # fmt: skip
    proba = np.array([0.2, 0.9, 0.3, 0.9, 0.1, 0.1, 0.0, 0.8, 0.2, 0.9, 0.3, 0.6, 0.9, 0.3, 0.9])
    kept = keep_subheadings(p, proba)
    assert np.flatnonzero(kept != proba).tolist() == [2] and kept[2] == 0.5
    assert proba[2] == 0.3  # the input is not modified
    off = {"keep_subheadings": False, "drop_promos": False, "keep_headline": False}
    assert apply_rules(ModelConfig.from_dict(off), [p], [proba])[0].tolist() == proba.tolist()
    on = apply_rules(
        ModelConfig.from_dict({"drop_promos": False, "keep_headline": False}), [p], [proba]
    )[0]
    assert np.flatnonzero(on != proba).tolist() == [2]


def test_the_line_after_a_post_header_is_the_post(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import keep_post_text

    body = (
        "<div>1：名無しさん＠おーぷん：21/10/19(火)09:30:47 ID:CTIZ</div>"
        "<div>ポワルンやんけ</div>"  # the post: raised
        "<div>2：名無しさん＠おーぷん：21/10/19(火)09:31:02 ID:Ab3x</div>"
        "<div>&gt;&gt;1</div>"  # a bare anchor is a post too: raised
        "<div>3：名無しさん＠おーぷん：21/10/19(火)09:32:10 ID:Qw9e</div>"
        "<div><a href='/r'>怖過ぎない？</a></div>"  # a link, not a post: left alone
        "<div>4：名無しさん＠おーぷん：21/10/19(火)09:33:00 ID:Zx1c</div>"
        "<div>5：名無しさん＠おーぷん：21/10/19(火)09:34:00 ID:Vb2n</div>"  # a header: left alone
        "<div>居たわ</div>"  # raised
        "<div>6：名無しさん＠おーぷん：21/10/19(火)09:35:00 ID:Mn4b</div>"
        "<div>呪いのビデオやん</div>"  # dropped by a rule (0.0): stays dropped
        "<p>なぜポケモンはオカ展開にしたがるのか</p>"  # no header before it (and body)
    )
    p = _prepared_html(tmp_path, body, "無題")
    assert len(p.page.blocks) == 12
    proba = np.array([0.0, 0.3, 0.0, 0.2, 0.0, 0.4, 0.0, 0.2, 0.45, 0.0, 0.0, 0.9])
    kept = keep_post_text(p, proba)
    assert np.flatnonzero(kept != proba).tolist() == [1, 3, 8]
    assert kept[[1, 3, 8]].tolist() == [0.5, 0.5, 0.5] and proba[1] == 0.3
    off = apply_rules(ModelConfig.from_dict({"keep_post_text": False}), [p], [proba])[0]
    assert apply_rules(ModelConfig(), [p], [proba])[0].tolist() == keep_post_text(p, off).tolist()
    assert not (off >= 0.5)[[1, 3, 8]].any()


def test_a_lone_headline_keeps_the_text_lines_below_it(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import keep_under_headline

    body = (
        "<nav><a href='/'>ブログトップ</a></nav>"
        "<article><div class='head'><h1>今知りました、、</h1></div>"
        "<div class='entry'><div>大変だ、</div>"  # text below the headline: raised
        "<div><a href='/news'>阿蘇山が噴火 警戒レベル3に</a></div>"  # a link: left alone
        "<div>タグ：</div>"  # a label: left alone
        "<div>とても、</div>"  # raised
        "<div>2021</div>"  # a number, not text: left alone
        "<div>また明日。</div></div></article>"  # more than 5 blocks below: left alone
    )
    p = _prepared_html(tmp_path, body, "今知りました、、 | ブログ")
    texts = [b.text for b in p.page.blocks]
    assert texts[1] == "今知りました、、" and texts[-1] == "また明日。"
    proba = np.array([0.0, 0.6, 0.01, 0.1, 0.2, 0.02, 0.1, 0.03])
    kept = keep_under_headline(p, proba)
    assert np.flatnonzero(kept != proba).tolist() == [2, 5] and proba[2] == 0.01
    on = apply_rules(ModelConfig(), [p], [proba])[0]  # the switch, among the other rules
    off = apply_rules(ModelConfig.from_dict({"keep_under_headline": False}), [p], [proba])[0]
    assert np.flatnonzero(on != off).tolist() == [2, 5]
    # Only for a lone headline: with a body block that is not a heading, nothing moves.
    also = proba.copy()
    also[0] = 0.9
    assert keep_under_headline(p, also).tolist() == also.tolist()
    # A line a drop rule set to 0.0 stays dropped.
    dropped = proba.copy()
    dropped[2] = 0.0
    assert np.flatnonzero(keep_under_headline(p, dropped) != dropped).tolist() == [5]


def test_a_lone_headline_keeps_only_the_lines_of_its_own_element(tmp_path) -> None:
    from honbun.boilerplate.rules import keep_under_headline

    body = (
        "<div class='wrap'><article><h1>今知りました、、</h1><div>大変だ、</div></article>"
        "<div class='side'><p>プロフィール</p></div></div>"  # outside the <article>
        "<p>利用規約</p>"  # outside every element below <body> around the headline
    )
    p = _prepared_html(tmp_path, body, "今知りました、、 | ブログ")
    proba = np.array([0.6, 0.1, 0.1, 0.1])
    assert np.flatnonzero(keep_under_headline(p, proba) != proba).tolist() == [1]
    # With no text in the <article>, the next element out (the wrapper) is searched, but
    # never <body> itself.
    proba[1] = 0.0
    assert np.flatnonzero(keep_under_headline(p, proba) != proba).tolist() == [2]
    proba[2] = 0.0
    assert keep_under_headline(p, proba).tolist() == proba.tolist()


def test_nothing_after_a_paywall_notice_is_body(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import cut_at_paywall

    body = (
        "<div class='teaser'><p>残り500文字</p></div>"  # a notice before any body: ignored
        "<h1>習近平氏の権力闘争、立役者が失脚</h1>"
        "<p>中国の国慶節から1週間の長期休み中は、皆が気を抜いていた。</p>"  # the lead
        "<p>規律検査委員会が調査を発表した。</p>"
        "<div>アプリで開く</div>"
        "<p>この記事は会員限定です。登録すると続きをお読みいただけます。</p>"
        "<p>残り３０３２文字</p>"  # full-width digits: a notice too, after the first
        "<h2>習政権ウオッチ</h2>"  # a series blurb after the paywall: dropped
        "<p>中国の習近平政権の中枢で何が起きているのか。編集委員が読み解く。</p>"
    )
    p = _prepared_html(tmp_path, body, "習近平氏の権力闘争")
    assert len(p.page.blocks) == 9
    proba = np.array([0.0, 0.9, 0.9, 0.8, 0.1, 0.0, 0.0, 0.5, 0.6])
    cut = cut_at_paywall(p, proba)
    assert np.flatnonzero(cut != proba).tolist() == [7, 8] and proba[7] == 0.5
    assert cut[[6, 7, 8]].tolist() == [0.0, 0.0, 0.0]
    on = apply_rules(ModelConfig(), [p], [proba])[0]  # the switch, among the other rules
    off = apply_rules(ModelConfig.from_dict({"cut_at_paywall": False}), [p], [proba])[0]
    assert np.flatnonzero((on >= 0.5) != (off >= 0.5)).tolist() == [7, 8]
    # The notice must follow body text closely: a headline alone, or a lead more than
    # END_GAP_BLOCKS (5) blocks back, cuts nothing.
    lone = proba.copy()
    lone[[2, 3]] = 0.1
    assert cut_at_paywall(p, lone).tolist() == lone.tolist()
    far = np.array([0.0, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.6])
    p_far = _prepared_html(
        tmp_path, body.replace("<div>アプリで開く</div>", "<div>a</div>" * 4), "習近平氏"
    )
    assert len(p_far.page.blocks) == 12 and p_far.page.blocks[8].text.startswith("この記事")
    assert cut_at_paywall(p_far, far).tolist() == far.tolist()
    near = far.copy()
    near[3] = 0.8  # body at 3: the notice at 8 is 5 blocks on
    assert cut_at_paywall(p_far, near)[11] == 0.0


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("この記事は有料記事です。残り1,460文字（全文2839文字）", True),
        ("残り１，４６０文字", True),  # full-width digits and comma
        ("有料会員になると続きをお読みいただけます。", True),
        ("読者会員登録をしていただくと続きをご覧いただけます", True),
        ("続きを読むにはログインが必要です", True),
        ("ログインすると続きをお読みになれます", True),
        ("続きを読む", False),  # a read-more link: drop_prompts' job, not a paywall
        ("北朝鮮はロシアに兵士を派遣し、残り3000文字の声明を読み上げた。" * 3, False),
    ],
)
def test_paywall_notice(text: str, notice: bool) -> None:
    from honbun.boilerplate.rules import is_paywall_notice

    assert is_paywall_notice(text) is notice


def test_nothing_after_a_ranking_banner_closing_a_post_is_body(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import cut_at_ranking_banner

    body = (
        "<div class='head'><a href='/rank'>人気ブログランキング</a></div>"  # header: ignored
        "<h1>「苦しみ」への新解釈</h1>"
        "<div class='entry'><p>昭和に日本の禅を世界に伝えた人物が、鈴木大拙です。</p>"
        "<p>どんな中でも、楽しんでしまいましょう。</p>"
        "<p>下のクリックも、もしよろしければ宜しくお願い致します。</p>"
        "<p><a href='/r'>■人気ブログランキング</a></p>"  # the banner closing the post
        "<p>コメントを投稿するときは、投稿ボタンを押してください。</p>"  # the footer
        "<p>この下方に出る企業広告は、ブログ会社により自動的に表示されます。</p></div>"
    )
    p = _prepared_html(tmp_path, body, "「苦しみ」への新解釈")
    assert len(p.page.blocks) == 8 and p.page.blocks[5].text == "■人気ブログランキング"
    proba = np.array([0.0, 0.9, 0.9, 0.9, 0.8, 0.4, 0.9, 0.7])
    cut = cut_at_ranking_banner(p, proba)
    assert np.flatnonzero(cut != proba).tolist() == [5, 6, 7]  # the banner and after it
    assert cut[[5, 6, 7]].tolist() == [0.0, 0.0, 0.0]
    on = apply_rules(ModelConfig(), [p], [proba])[0]  # the switch, among the other rules
    off = apply_rules(ModelConfig.from_dict({"cut_at_ranking_banner": False}), [p], [proba])[0]
    assert np.flatnonzero((on >= 0.5) != (off >= 0.5)).tolist() == [6, 7]
    assert on[5] == 0.0 and off[5] == 0.4
    # The banner must follow the post's text: after a headline alone nothing is cut.
    lone = proba.copy()
    lone[[2, 3, 4]] = 0.1
    assert cut_at_ranking_banner(p, lone).tolist() == lone.tolist()


@pytest.mark.parametrize(
    ("text", "banner"),
    [
        ("にほんブログ村", True),
        ("■ＦＣ２ブログランキング", True),  # full-width letters
        ("にほんﾌﾞﾛｸﾞ村", True),  # half-width katakana
        ("ランキングに参加中。クリックして応援お願いします！", True),
        ("人気記事ランキング", False),  # the site's own ranking: drop_promos' job
        ("にほんブログ村のランキングで一位になった話を書きます。" * 2, False),  # a paragraph
    ],
)
def test_ranking_banner(text: str, banner: bool) -> None:
    from honbun.boilerplate.rules import is_ranking_banner

    assert is_ranking_banner(text) is banner


def test_the_text_of_an_embedded_post_is_body(tmp_path) -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import keep_embedded_posts

    tweet = (
        "<blockquote class='twitter-tweet'><p>なにこれ。国が一軒ずつドアを開けるのか</p>"
        "<p><a href='https://t.co/x'>https://t.co/x</a></p>"
        "— 弁護士 (@lawyer) <a href='/s'>February 1, 2019</a></blockquote>"
    )
    body = (
        "<div class='side'>" + tweet.replace("なにこれ", "フォローしてね") + "</div>"
        "<h1>改正NICT法がプチ炎上</h1>"
        "<p>先月のこと、NHKニュースが報じたおかげで、後追い報道が続いた。</p>"
        + tweet
        + "<blockquote><p>（略）引用した報道の一節。</p></blockquote>"  # a plain quote
        "<p>最初のNHKニュースが偏向報道だというのは、以下の点である。</p>"
        "<div class='twitter-tweet-button'><p>ポストする</p></div>"  # no <blockquote>
    )
    p = _prepared_html(tmp_path, body, "改正NICT法がプチ炎上")
    texts = [b.text for b in p.page.blocks]
    assert len(texts) == 11 and texts[5] == "なにこれ。国が一軒ずつドアを開けるのか"
    assert texts[7].startswith("— 弁護士") and texts[0].startswith("フォロー")
    proba = np.array([0.1, 0.1, 0.1, 0.9, 0.9, 0.3, 0.05, 0.1, 0.2, 0.8, 0.1])
    kept = keep_embedded_posts(p, proba)
    # The embed's two lines after the article's first body block; not the frame, the
    # plain quote, a button classed like an embed, or the embed in the sidebar above.
    assert np.flatnonzero(kept != proba).tolist() == [5, 6]
    on = apply_rules(ModelConfig(), [p], [proba])[0]  # the switch, among the other rules
    off = apply_rules(ModelConfig.from_dict({"keep_embedded_posts": False}), [p], [proba])[0]
    assert np.flatnonzero((on >= 0.5) != (off >= 0.5)).tolist() == [5, 6]
    dropped = proba.copy()
    dropped[6] = 0.0  # a line a drop rule set to 0.0 stays dropped
    assert np.flatnonzero(keep_embedded_posts(p, dropped) != dropped).tolist() == [5]


def test_every_rule_is_declared_once_and_switched_by_its_name() -> None:
    from honbun.boilerplate.config import ModelConfig
    from honbun.boilerplate.rules import RULE_NAMES, RULES

    assert len(set(RULE_NAMES)) == len(RULES)
    assert all((r.text is None) != (r.page is None) for r in RULES)  # one kind each
    assert ModelConfig().rules == dict.fromkeys(RULE_NAMES, True)
    off = ModelConfig.from_dict({"rules": {"min_body": False}, "drop_captions": False}).rules
    assert [k for k, v in off.items() if not v] == ["drop_captions", "min_body"]
    with pytest.raises(ValueError, match="unknown rule 'drop_everything'"):
        ModelConfig.from_dict({"rules": {"drop_everything": True}})
