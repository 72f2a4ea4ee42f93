"""Hostile inputs through every way in: ``honbun score``, the Python API and Spark.

Each input gets a result or a one-line error naming it, the others are still scored,
memory stays bounded (peak RSS of the scoring process) and no output is left half
written. Property-based tests feed random HTML to the loader and random Unicode to the
sentence splitter and the tokenizer. The page of 200,000 blocks is in test_page_size.py.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from honbun.errors import PageError
from honbun.read.files import MAX_PAGE_BYTES, page_from_bytes
from honbun.read.sentences import SPACES, split_text
from honbun.read.tokens import tokenize

GOOD = "<html><head><title>記事</title></head><body><p>北朝鮮がロシアに部隊を派遣した。</p>"
GOOD += "<p>政府は追加の制裁を検討している。</p></body></html>"
MANY_BLOCKS = 20_000  # many blocks, quickly (200,000: test_page_size.py)
MAX_RSS_MB = 1500  # generous: the largest input here needs about 500 MB


def hostile_inputs() -> dict[str, tuple[bytes, bool]]:
    """File name -> (content, whether it has a result; else an error names it)."""
    rnd = random.Random(28)
    good = GOOD.encode()
    sjis = GOOD.replace("<head>", "<head><meta charset='utf-8'>").encode("cp932")
    return {
        "good.html": (good, True),
        "binary.html": (
            b"\x89PNG\r\n\x1a\n" + bytes(rnd.randrange(256) for _ in range(4000)),
            False,
        ),
        "truncated-char.txt": ("途中で切れた本文です。".encode()[:-2], True),  # mid-character
        "truncated-tag.html": (good[: good.index(b"</p>") + 2], True),  # mid-tag, no </html>
        "invalid.txt": (bytes(rnd.randrange(128, 256) for _ in range(4000)), False),
        "stray-nul.html": (good.replace("部隊".encode(), "部\x00隊".encode()), True),
        "nul-run.txt": (b"text\x00" * 400, False),
        "deep.html": (
            b"<html><body>" + b"<div>" * 50_000 + "深い".encode() + b"</body></html>",
            True,
        ),
        "many-blocks.html": (("<p>段落です。</p>" * MANY_BLOCKS).encode(), True),
        "ten-mb-line.txt": (("長" * (10 * 2**20 // 3 + 1)).encode(), False),  # > MAX_PAGE_BYTES
        "long-line.txt": (b"x" * 200_000, False),  # one line of 200,000 characters
        "empty.txt": (b"", False),
        "whitespace.html": (b" \r\n\t\n  ", False),
        "sjis-says-utf8.html": (sjis, True),  # the bytes win over a wrong declaration
        "utf8-says-sjis.html": (good.replace(b"<head>", b"<head><meta charset=shift_jis>"), True),
        "utf16.txt": ("本文です。\n".encode("utf-16"), True),  # NUL bytes, but text
    }


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    for name, (data, _) in hostile_inputs().items():
        (d / name).write_bytes(data)
    return d


def _paths(d: Path) -> list[str]:
    return [str(d / name) for name in hostile_inputs()]


def _check(results: list[dict], paths: list[str]) -> None:
    """One result per input, in order: a result where expected, else an error naming it."""
    assert [r["source"] for r in results] == paths
    for r, (name, (_, ok)) in zip(results, hostile_inputs().items(), strict=True):
        if ok:
            assert "error" not in r, (name, r.get("error"))
            assert r["blocks"], name
        else:
            assert "error" in r, name
            assert "\n" not in r["error"] and len(r["error"]) < 200, r["error"]


def test_a_few_known_answers() -> None:
    inputs = hostile_inputs()
    assert len(inputs["ten-mb-line.txt"][0]) > MAX_PAGE_BYTES
    page = page_from_bytes(*inputs["sjis-says-utf8.html"][:1], "s.html")
    assert page.blocks[0].text == "北朝鮮がロシアに部隊を派遣した。"
    assert page_from_bytes(inputs["deep.html"][0], "d.html").blocks[0].text == "深い"
    assert page_from_bytes(inputs["stray-nul.html"][0], "n.html").text.count("部隊") == 1


def _run_score(args: list[str]) -> tuple[subprocess.Popen, str]:
    """``honbun score`` in a process of its own that prints its peak RSS (MB) last."""
    code = (
        "import resource, sys; from honbun.cli import main; rc = main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr); "
        "sys.exit(rc)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "score", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, code


@pytest.mark.slow
def test_honbun_score(hostile_dir: Path, model_dir: str, tmp_path: Path) -> None:
    paths = _paths(hostile_dir)
    out = tmp_path / "out" / "scored.jsonl"
    proc, _ = _run_score([*paths, "--model", model_dir, "-o", str(out)])
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stderr[-3000:]
    assert stdout == ""
    results = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    _check(results, paths)
    lines = stderr.splitlines()
    failed = [p for p, (_, ok) in zip(paths, hostile_inputs().values(), strict=True) if not ok]
    assert [line.split(": ")[2] for line in lines[: len(failed)]] == failed  # one line each
    assert all(len(line) < 300 for line in lines[: len(failed)])
    assert lines[len(failed)] == f"honbun: {len(failed)} input(s) failed"
    assert int(lines[-1]) < MAX_RSS_MB, f"peak RSS {lines[-1]} MB"
    assert [p.name for p in out.parent.iterdir()] == ["scored.jsonl"]  # no temp file


@pytest.mark.slow
def test_an_interrupted_score_leaves_the_old_output(hostile_dir, model_dir, tmp_path) -> None:
    """SIGTERM while scoring: the output is the old file (or, done already, the new one),
    never half of the new one, and no temp file stays."""
    out = tmp_path / "scored.jsonl"
    out.write_text("old\n", "utf-8")
    proc, _ = _run_score([*_paths(hostile_dir), "--model", model_dir, "-o", str(out)])
    time.sleep(3)  # loading the model and scoring the first pages
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    text = out.read_text("utf-8")
    if proc.returncode == 143:
        assert text == "old\n"
        assert "honbun: terminated" in stderr
    else:  # it had finished: the whole new output
        assert len(text.splitlines()) == len(hostile_inputs())
    assert [p.name for p in tmp_path.iterdir()] == ["scored.jsonl"]


@pytest.mark.slow
def test_python_api(hostile_dir: Path, model_dir: str) -> None:
    import honbun

    paths = _paths(hostile_dir)
    _check(list(honbun.load_model(model_dir).score_many(paths)), paths)


@pytest.mark.slow
def test_spark_local_mode(spark, model_dir: str) -> None:
    """One DataFrame of the hostile inputs (as bytes; the big ones left to the tests above)."""
    from honbun.serve import spark as hs

    big = {"many-blocks.html", "ten-mb-line.txt", "deep.html"}
    rows = [(name, data) for name, (data, _) in hostile_inputs().items() if name not in big]
    df = spark.createDataFrame(rows, "doc_id string, content binary")
    got = {
        r["doc_id"]: json.loads(r["result"]) for r in hs.score_dataframe(df, model_dir).collect()
    }
    assert sorted(got) == sorted(name for name, _ in rows)
    for name, (_, ok) in hostile_inputs().items():
        if name in big:
            continue
        assert ("error" not in got[name]) == ok, (name, got[name].get("error"))
        if not ok:
            assert "\n" not in got[name]["error"]


# ------------------------------------------------------------------ property tests
_TAGS = ["p", "div", "span", "a", "br", "li", "ul", "h1", "pre", "script", "table", "td", "nav"]
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=30,
)
_FRAGMENT = st.lists(
    st.one_of(
        _TEXT,
        st.sampled_from(_TAGS).map(lambda t: f"<{t}>"),
        st.sampled_from(_TAGS).map(lambda t: f"</{t}>"),
        st.sampled_from(["<p class='a b'>", "<div hidden>", "<span style='display:none'>",
                         "<!-- c -->", "&amp;", "&#x3042;", "&bogus;", "<", ">", "<br/>",
                         "<![CDATA[x]]>", "\n", "\u3000", "<img src=x>"]),
    ),
    max_size=40,
).map("".join)  # fmt: skip


def _check_offsets(page) -> None:
    assert [b.index for b in page.blocks] == list(range(len(page.blocks)))
    end = -1
    for b in page.blocks:
        assert b.text and page.text[b.start : b.end] == b.text
        assert b.start > end
        end = b.end
    for s in page.sentences:
        block = page.blocks[s.block]
        assert block.start <= s.start < s.end <= block.end
        assert page.text[s.start : s.end] == s.text
    for b in page.blocks:
        said = "".join(s.text for s in page.sentences if s.block == b.index)
        assert "".join(said.split()) == "".join(b.text.split())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FRAGMENT)
def test_the_html_loader_on_random_fragments(fragment: str) -> None:
    try:
        page = page_from_bytes(f"<html><body>{fragment}</body></html>".encode(), "r.html")
    except PageError as exc:
        assert "empty" in str(exc) or "binary" in str(exc), str(exc)  # control characters
        return
    _check_offsets(page)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_the_text_loader_on_random_unicode(text: str) -> None:
    try:
        page = page_from_bytes(text.encode(), "r.txt")
    except PageError as exc:
        assert "empty" in str(exc) or "binary" in str(exc), str(exc)
        return
    _check_offsets(page)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300))
def test_the_sentence_splitter_on_random_unicode(text: str) -> None:
    spans = split_text(text)
    end = 0
    for s, e in spans:
        assert end <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip(SPACES)
        end = e
    inside = set().union(*(range(s, e) for s, e in spans))
    assert all(c in SPACES for i, c in enumerate(text) if i not in inside)  # all but spaces


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=100))
def test_the_tokenizer_on_random_unicode(text: str) -> None:
    pos = 0
    for token in tokenize(text):
        assert token.surface, text
        found = text.find(token.surface, pos)
        assert found >= 0, (text, token.surface)
        pos = found + len(token.surface)


def test_hostile_inputs_are_what_they_say(hostile_dir: Path) -> None:
    assert sorted(os.listdir(hostile_dir)) == sorted(hostile_inputs())
