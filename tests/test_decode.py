"""Bytes → text: BOMs, legacy Japanese encodings, declarations early and late, mismatches."""

from __future__ import annotations

import random
import re

import pytest

from conftest import PAGES, SEED_FILES, manifest_entries
from honbun.read.decode import DecodeError, declared_charset, decode_bytes
from honbun.read.files import page_from_bytes

# 髙 (IBM extension) and ① (NEC special character) exist in CP932 but not in plain Shift_JIS.
SJIS_TEXT = "髙橋さんは①番目に東京へ行った。日本語の記事本文です。"
# ① is in JIS X 0213 (EUC-JIS-2004 / ISO-2022-JP-2004); 髙 is not.
EUC_TEXT = "①番目に東京へ行った。日本語の記事本文です。"
PLAIN_TEXT = "東京へ行った。日本語の記事本文です。"
MOJIBAKE = re.compile("[縺繧譁螟驕ã]")  # what UTF-8 Japanese looks like read as SJIS/Latin-1


def html(body: str, charset: str | None = None, head_extra: str = "") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<html><head>{head_extra}{meta}<title>題</title></head><body><p>{body}</p></body></html>"
    )


def test_utf8_without_bom() -> None:
    d = decode_bytes(SJIS_TEXT.encode("utf-8"))
    assert (d.text, d.encoding, d.replaced) == (SJIS_TEXT, "utf-8", 0)


def test_utf8_with_bom_strips_the_bom() -> None:
    d = decode_bytes(b"\xef\xbb\xbf" + SJIS_TEXT.encode("utf-8"))
    assert d.text == SJIS_TEXT
    assert not d.text.startswith("\ufeff")
    assert d.encoding == "utf-8"


def test_utf16_bom() -> None:
    d = decode_bytes("\ufeff".encode("utf-16-le") + PLAIN_TEXT.encode("utf-16-le"))
    assert d.text == PLAIN_TEXT


@pytest.mark.parametrize(
    ("codec", "charset", "text", "expected_codec"),
    [
        ("cp932", "Shift_JIS", SJIS_TEXT, "cp932"),
        ("cp932", "Windows-31J", SJIS_TEXT, "cp932"),
        ("shift_jis", "shift_jis", PLAIN_TEXT, "cp932"),
        ("euc_jis_2004", "EUC-JP", EUC_TEXT, "euc_jis_2004"),
        ("euc_jp", "euc-jp", PLAIN_TEXT, "euc_jis_2004"),
        ("iso2022_jp_2004", "ISO-2022-JP", EUC_TEXT, "iso2022_jp_2004"),
        ("iso2022_jp", "iso-2022-jp", PLAIN_TEXT, "iso2022_jp_2004"),
    ],
)
@pytest.mark.parametrize("declare", [True, False], ids=["meta", "no-meta"])
def test_legacy_japanese_html(
    codec: str, charset: str, text: str, expected_codec: str, declare: bool
) -> None:
    data = html(text, charset if declare else None).encode(codec)
    d = decode_bytes(data)
    assert text in d.text
    assert d.replaced == 0
    assert d.encoding == expected_codec
    assert d.declared == (charset.lower() if declare else None)
    page = page_from_bytes(data, "page.html")
    assert [b.text for b in page.blocks] == [text]
    assert page.meta["title"] == "題"
    assert page.meta["encoding"] == expected_codec


@pytest.mark.parametrize(
    ("codec", "text"),
    [
        ("cp932", SJIS_TEXT),
        ("euc_jis_2004", EUC_TEXT),
        ("iso2022_jp_2004", EUC_TEXT),
    ],
)
def test_legacy_japanese_plain_text_is_detected(codec: str, text: str) -> None:
    body = "\n".join([text, "二行目の本文。", "三行目の本文。"])
    d = decode_bytes(body.encode(codec))
    assert d.text == body
    page = page_from_bytes(body.encode(codec), "dump.txt")
    assert [b.text for b in page.blocks] == [text, "二行目の本文。", "三行目の本文。"]


@pytest.mark.parametrize("codec", ["cp932", "euc_jis_2004", pytest.param("iso2022_jp_2004")])
def test_seed_page_in_legacy_encoding_loads_like_utf8(codec: str) -> None:
    # U+2022 BULLET has no CP932 / EUC-JP code; a legacy page would use 「・」.
    text = SEED_FILES[0].read_text("utf-8").replace("\u2022", "・")
    expected = [b.text for b in page_from_bytes(text.encode("utf-8"), "seed.txt").blocks]
    assert len(expected) > 100
    page = page_from_bytes(text.encode(codec), "seed.txt")
    assert page.meta["encoding"] == codec
    assert [b.text for b in page.blocks] == expected


@pytest.mark.parametrize(
    ("decl", "expected"),
    [
        ('<meta charset="Shift_JIS">', "shift_jis"),
        ("<meta charset=euc-jp>", "euc-jp"),
        ('<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=x-sjis">', "x-sjis"),
        ("<meta http-equiv='content-type' content='text/html;charset=ISO-2022-JP'>", "iso-2022-jp"),
    ],
)
def test_declared_charset_forms(decl: str, expected: str) -> None:
    assert declared_charset(f"<html><head>{decl}</head><body></body></html>".encode()) == expected


def test_declared_charset_xml_declaration() -> None:
    data = b'<?xml version="1.0" encoding="EUC-JP"?><html><head></head><body></body></html>'
    assert declared_charset(data) == "euc-jp"


def test_declared_charset_absent_and_only_in_head() -> None:
    assert declared_charset(b"<html><head><title>x</title></head><body>y</body></html>") is None
    # A charset inside the body (an embedded snippet) is not the page's declaration.
    body_meta = b'<html><head></head><body><meta charset="euc-jp"></body></html>'
    assert declared_charset(body_meta) is None


@pytest.mark.parametrize(("codec", "charset"), [("euc_jis_2004", "euc-jp"), ("cp932", "shift_jis")])
def test_meta_charset_declared_late_in_a_long_head(codec: str, charset: str) -> None:
    filler = "".join(
        f'<meta property="og:x{i}" content="{"a" * 90}">\n<script>var v{i} = "{i}";</script>\n'
        for i in range(100)
    )
    assert len(filler) > 10_000
    text = EUC_TEXT if codec.startswith("euc") else SJIS_TEXT
    data = html(text, charset, head_extra=filler).encode(codec)
    assert data.find(charset.encode()) > 10_000
    assert declared_charset(data) == charset
    d = decode_bytes(data)
    assert d.declared == charset
    assert text in d.text and d.replaced == 0


def test_real_page_with_a_late_declaration() -> None:
    """koron-000003 declares UTF-8 only after 44 KB of head (after its <title>)."""
    data = (PAGES / "koron-java-extractarticle" / "000003.html").read_bytes()
    assert data.lower().find(b"charset") > 40_000
    assert declared_charset(data) == "utf-8"


@pytest.mark.parametrize("charset", ["Shift_JIS", "EUC-JP"])
def test_declared_legacy_but_bytes_are_utf8(charset: str) -> None:
    data = html(SJIS_TEXT, charset).encode("utf-8")
    d = decode_bytes(data)
    assert d.encoding == "utf-8"
    assert d.declared == charset.lower()
    assert SJIS_TEXT in d.text
    page = page_from_bytes(data, "page.html")
    assert page.blocks[0].text == SJIS_TEXT
    assert page.meta["encoding_declared"] == charset.lower()


@pytest.mark.parametrize(
    "entry",
    [e for e in manifest_entries() if "MISMATCH" in (e.get("encoding_note") or "")],
    ids=lambda e: e["id"],
)
def test_real_mismatched_pages_have_no_mojibake(entry: dict) -> None:
    data = (PAGES / entry["path"]).read_bytes()
    page = page_from_bytes(data, str(PAGES / entry["path"]))
    assert page.meta["encoding"] == "utf-8"
    assert page.meta["encoding_declared"] == entry["encoding_declared"].lower()
    assert len(re.findall("[\u3040-\u309f]", page.text)) > 100  # plenty of hiragana
    assert len(MOJIBAKE.findall(page.text)) < 5


def test_ascii_page_with_hex_references() -> None:
    data = (
        b'<html><head><meta charset="Shift_JIS"></head><body>'
        b"<p>&#x65E5;&#x672C;&#x8A9E;&#x306E;&#x8A18;&#x4E8B;&#12290;</p></body></html>"
    )
    assert data.isascii()
    page = page_from_bytes(data, "refs.html")
    assert [b.text for b in page.blocks] == ["日本語の記事。"]


@pytest.mark.parametrize(
    "entry",
    [e for e in manifest_entries() if "pure ASCII" in (e.get("encoding_note") or "")][:4],
    ids=lambda e: e["id"],
)
def test_real_pure_ascii_pages_decode_to_japanese(entry: dict) -> None:
    data = (PAGES / entry["path"]).read_bytes()
    assert data.isascii()
    page = page_from_bytes(data, entry["path"])
    assert len(re.findall("[\u3040-\u309f]", page.text)) > 100
    assert "&#x" not in page.text


def test_bom_followed_by_garbage_is_a_decode_error() -> None:
    rnd = random.Random(7)
    data = b"\xef\xbb\xbf" + bytes(rnd.randrange(0x80, 0x100) for _ in range(4000))
    with pytest.raises(DecodeError, match="undecodable"):
        decode_bytes(data)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_bytes_are_a_decode_error(seed: int) -> None:
    rnd = random.Random(seed)
    data = bytes(rnd.randrange(0x80, 0x100) for _ in range(3000))
    with pytest.raises(DecodeError):
        decode_bytes(data)


def test_legacy_page_with_two_broken_bytes_still_decodes() -> None:
    good = ("日本語の記事本文です。" * 800).encode("cp932")
    broken = b"\x81\x7f"  # a lead byte with an invalid trail byte
    data = good[:100] + broken + good[100:9000] + broken + good[9000:]
    d = decode_bytes(data)
    assert d.encoding == "cp932"
    assert d.replaced == 2


def test_legacy_page_with_one_broken_byte_decodes() -> None:
    good = ("日本語の記事本文です。" * 800).encode("cp932")
    data = good[:100] + b"\x81\x7f" + good[100:]
    d = decode_bytes(data)
    assert d.encoding == "cp932"
    assert d.replaced == 1
    assert d.text.count("日本語の記事本文です。") >= 799


@pytest.mark.parametrize("charset", [None, "utf-8", "Shift_JIS"])
@pytest.mark.parametrize("damage", ["stray byte", "cut mid-character"])
@pytest.mark.parametrize("words", ["日本語の記事本文です。", "東京", "ロシア北朝鮮", "ニュース"])
def test_utf8_page_with_one_bad_byte_stays_utf8(
    charset: str | None, damage: str, words: str
) -> None:
    # Almost any bytes "decode" as CP932 without a bad character, so a scraped UTF-8 page
    # with a stray byte, or cut off inside a character, must not come back as CP932
    # mojibake, even when it has little Japanese and that little has no hiragana.
    good = html(("Reuters wire copy in English. " * 40 + words) * 10, charset).encode("utf-8")
    if damage == "stray byte":
        at = good.index(words.encode(), len(good) // 2)  # between two characters
        data = good[:at] + b"\xff" + good[at:]
    else:
        data = good[: good.rindex(words.encode()) + len(words.encode()) - 1]
    d = decode_bytes(data)
    assert d.encoding == "utf-8"
    assert d.replaced == 1
    assert not MOJIBAKE.search(d.text)
    assert d.text.count(words) == (10 if damage == "stray byte" else 9)


def test_real_utf8_pages_with_a_stray_byte_lose_only_that_byte() -> None:
    # A guard on real pages, many of them ASCII with a few UTF-8 characters (their Japanese
    # spelled as &#x…; references): a stray byte costs one character, never the rest of
    # the page. (The rule before plausibility() passed this too; the test above it failed.)
    checked = 0
    for entry in manifest_entries():
        data = (PAGES / entry["path"]).read_bytes()
        clean = decode_bytes(data)
        if clean.encoding != "utf-8":
            continue
        at = len(data) // 2
        while at < len(data) and 0x80 <= data[at] < 0xC0:  # not inside a character
            at += 1
        damaged = decode_bytes(data[:at] + b"\xff" + data[at:])
        # One character more (U+FFFD, or what a declared legacy codec makes of 0xFF),
        # and every other character as before.
        pairs = zip(damaged.text, clean.text + "\0", strict=False)
        i = next(k for k, (a, b) in enumerate(pairs) if a != b)
        assert damaged.text[:i] + damaged.text[i + 1 :] == clean.text, entry["path"]
        checked += 1
    assert checked >= 60
