"""Tokenisation: fugashi over unidic-lite, chosen explicitly; one tagger per process."""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
from pathlib import Path

import pytest
import unidic_lite

from honbun.read.tokens import CHAR_TYPES, Token, dictionary_info, tagger, tokenize


def test_tagger_uses_unidic_lite_explicitly() -> None:
    info = dictionary_info()
    assert info["tokenizer"] == "fugashi"
    assert info["dictionary"] == "unidic-lite"
    assert info["dictionary_file"] == "sys.dic"
    assert info["dictionary_charset"].lower().replace("-", "") == "utf8"
    (entry,) = tagger().dictionary_info
    dic = Path(entry["filename"]).resolve()
    assert dic.is_relative_to(Path(unidic_lite.DICDIR).resolve())
    assert dic.exists()


def test_dictionary_info_records_versions() -> None:
    info = dictionary_info()
    assert info["dictionary_version"] == importlib.metadata.version("unidic-lite")
    assert info["fugashi_version"] == importlib.metadata.version("fugashi")


def test_one_cached_tagger() -> None:
    assert tagger() is tagger()


def test_tokens_of_a_sentence() -> None:
    tokens = tokenize("東京都に行った。")
    assert "".join(t.surface for t in tokens) == "東京都に行った。"
    assert [t.surface for t in tokens] == ["東京", "都", "に", "行っ", "た", "。"]
    by_surface = {t.surface: t for t in tokens}
    assert by_surface["行っ"].lemma == "行く"
    assert by_surface["行っ"].pos1 == "動詞"
    assert by_surface["東京"].pos1 == "名詞" and by_surface["東京"].pos2 == "固有名詞"
    assert by_surface["。"].pos1 == "補助記号" and by_surface["。"].pos2 == "句点"
    assert by_surface["東京"].char_type == "KANJI"
    assert by_surface["に"].char_type == "HIRAGANA"
    assert by_surface["。"].char_type == "SYMBOL"


def test_char_types() -> None:
    types = {t.surface: t.char_type for t in tokenize("テストでABCと123を")}
    assert types["テスト"] == "KATAKANA"
    assert types["ABC"] == "ALPHA"
    assert types["123"] == "NUMERIC"


def test_lemma_falls_back_to_surface_for_unknown_words() -> None:
    word = "Xqzzyv"
    (raw,) = tagger()(word)
    assert raw.is_unk and raw.feature.lemma in (None, "*", "")
    (tok,) = tokenize(word)
    assert tok.lemma == word == tok.surface
    assert tok.pos1 and tok.pos2 and tok.char_type == "ALPHA"


def test_every_token_has_its_fields_filled() -> None:
    text = "北大西洋条約機構(NATO)のルッテ事務総長は28日、髙橋氏と①番の件で会談した。"
    tokens = tokenize(text)
    assert "".join(t.surface for t in tokens) == text
    for t in tokens:
        assert isinstance(t, Token)
        assert t.surface and t.lemma and t.pos1 and t.pos2
        assert t.char_type in CHAR_TYPES


def test_empty_text() -> None:
    assert tokenize("") == []


def _tokenize_in_child(text: str) -> tuple[int, list[Token], str]:
    return os.getpid(), tokenize(text), dictionary_info()["dictionary"]


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_child_process_can_tokenize(method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} not available")
    tagger()  # the parent has a tagger already: the child must not depend on inheriting it
    with multiprocessing.get_context(method).Pool(1) as pool:
        pid, tokens, dic = pool.apply(_tokenize_in_child, ("東京都に行った。",))
    assert pid != os.getpid()
    assert [t.surface for t in tokens] == ["東京", "都", "に", "行っ", "た", "。"]
    assert tokens == tokenize("東京都に行った。")  # Tokens pickle back unchanged
    assert dic == "unidic-lite"
