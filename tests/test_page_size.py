"""Scoring is linear in a page's size: the steps that were quadratic give what they gave,
a page of 200,000 blocks scores within the per-page time limit, and the per-page limits
(blocks, bytes, time, for ``honbun segment`` too) refuse what is beyond them.

Speed and memory figures per page size: ``benchmarks/bench_page_size.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import lxml.html
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honbun.errors import PageError
from honbun.features.blocks import ancestor_chains
from honbun.features.design import span_features, stack_features
from honbun.read import files
from honbun.read.page import Block, DomContext
from honbun.scoring import batch

BIG_PAGE_BLOCKS = 200_000


# ------------------------------------------------ the linear steps give what they gave
@st.composite
def html_trees(draw: st.DrawFn, depth: int = 0) -> str:
    """HTML with many same-tag siblings at every level, each <p> holding a unique text."""
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["p", "p", "div", "span", "li", "br", "text"]))
        n = draw(st.integers(0, 10**9))
        if kind == "p":
            parts.append(f"<p>段落{n}</p>")
        elif kind == "text":
            parts.append(f"地の文{n}")
        elif kind == "br":
            parts.append("<br>")
        elif depth < 4:
            parts.append(f"<{kind}>{draw(html_trees(depth + 1))}</{kind}>")
    return "".join(parts)


@settings(max_examples=60, deadline=None)
@given(html_trees())
def test_block_xpaths_are_the_ones_libxml2_gives(fragment: str) -> None:
    """The walk numbers XPath steps itself (getpath scanned every sibling of every
    step: quadratic on a flat page); each block's XPath must name its own element."""
    text = f"<html><body>{fragment}<div><p>末尾</p></div></body></html>"
    page = files.page_from_bytes(text.encode(), "t.html")
    tree = lxml.html.document_fromstring(text).getroottree()
    for b in page.blocks:
        found = tree.xpath(b.dom.xpath)
        assert len(found) == 1, b.dom.xpath
        assert tree.getpath(found[0]) == b.dom.xpath
        if b.kind == "p":
            assert found[0].text_content().strip() == b.text


_XPATHS = st.lists(st.sampled_from(["", "/", "a", "/a", "/b[2]", "/html", "/div[10]"]), max_size=7)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), _XPATHS.map("".join)), min_size=1, max_size=20))
def test_ancestor_ids_name_the_same_ancestors_as_their_xpaths(xpaths: list[str | None]) -> None:
    def dom(xp: str) -> DomContext:
        return DomContext("p", "", (), 0.0, 0, frozenset(), xp)

    blocks = [
        Block(i, "x", 0, 1, "p", dom=None if x is None else dom(x)) for i, x in enumerate(xpaths)
    ]
    chains, key_len = ancestor_chains(blocks)
    named: dict[int, str] = {}
    for b, chain in zip(blocks, chains, strict=True):
        expected = b.dom.ancestors() if b.dom is not None else []
        assert len(chain) == len(expected)
        for a, name in zip(chain, expected, strict=True):
            assert named.setdefault(a, name) == name  # one id, one XPath
            assert key_len[a] == len(name)
    assert len(set(named.values())) == len(named)  # one XPath, one id


_PROBA = st.lists(st.floats(0, 1), min_size=1, max_size=60).map(np.array)


@settings(max_examples=200, deadline=None)
@given(_PROBA)
def test_distance_to_likely_body_equals_the_pairwise_minimum(proba: np.ndarray) -> None:
    out = span_features(proba)
    n = len(proba)
    high = np.flatnonzero(proba >= 0.5)
    for i in range(n):
        expected = min((abs(i - h) for h in high), default=n)
        assert out[i, 3] == np.log1p(expected)


@settings(max_examples=100, deadline=None)
@given(_PROBA)
def test_window_maxima_equal_the_maxima_of_slices(proba: np.ndarray) -> None:
    class Page:  # stack_features reads the DOM of the page's first block: none here
        n = len(proba)
        page = type("P", (), {"blocks": [Block(0, "x", 0, 1, "line")]})()
        lengths = np.ones(len(proba))

    s1 = np.column_stack([proba, 1 - proba])
    out = stack_features(Page(), s1)  # type: ignore[arg-type]
    n, k = s1.shape
    col = k * (1 + 2 * 4)  # after s1 and the 4 neighbour offsets (prev, next)
    for w in (2, 5, 10):
        col += k  # the window mean
        want = np.array([s1[max(0, i - w) : i + w + 1].max(axis=0) for i in range(n)])
        assert np.array_equal(out[:, col : col + k], want)
        col += k


# --------------------------------------------------------------------- a huge page
def big_page(path: Path, blocks: int) -> Path:
    """A flat page of ``blocks`` paragraphs of one template (one group, one container)."""
    path.write_text("<html><body>" + "<p>・</p>" * blocks + "</body></html>", "utf-8")
    return path


@pytest.mark.slow
def test_a_200000_block_page_scores_within_the_time_limit(model_dir, tmp_path: Path) -> None:
    """Before: quadratic steps (XPaths, template groups, a blocks × body-blocks matrix) made
    20,000 blocks take 53 s and 1.45 GB; 200,000 hit PAGE_TIMEOUT_S. Run in a process of
    its own to read its peak memory."""
    page = big_page(tmp_path / "big.html", BIG_PAGE_BLOCKS)
    out = tmp_path / "big.jsonl"
    code = (
        "import resource, sys; from honbun.cli import main; "
        f"rc = main(['score', {str(page)!r}, '--model', {model_dir!r}, '-o', {str(out)!r}]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr); "
        "sys.exit(rc)"
    )
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    took = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text("utf-8"))
    assert "error" not in result
    assert len(result["blocks"]) == BIG_PAGE_BLOCKS
    peak_mb = int(proc.stderr.strip().splitlines()[-1])
    assert peak_mb < 3000, f"peak RSS {peak_mb} MB"  # about 1.3 GB; the old code: > 10 GB
    print(f"200,000 blocks: {took:.1f} s, peak RSS {peak_mb} MB")


# ----------------------------------------------------------------- per-page limits
def test_a_page_with_more_blocks_than_the_limit_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(files, "MAX_PAGE_BLOCKS", 100)
    ok = files.page_from_bytes(("<p>x</p>" * 100).encode(), "ok.html")
    assert len(ok.blocks) == 100
    for name, data in [
        ("many.html", ("<p>x</p>" * 101).encode()),
        ("many.txt", ("x\n\n" * 101).encode()),
    ]:
        with pytest.raises(PageError) as exc:
            files.page_from_bytes(data, name)
        assert str(exc.value) == f"{name}: too many blocks: more than 100 (limit 100 per page)"
    page = files.page_from_bytes(("x\n" * 101).encode(), "given.txt", fmt="html")  # one block
    page.blocks *= 2  # a Page a caller built: the model refuses it too
    monkeypatch.setattr(files, "MAX_PAGE_BLOCKS", 1)
    with pytest.raises(PageError, match=r"given\.txt: too many blocks"):
        files.check_size(page)


def test_segment_has_the_per_page_time_limit(cli, tmp_path: Path, monkeypatch) -> None:
    slow, fast = tmp_path / "slow.txt", tmp_path / "fast.txt"
    slow.write_text("遅いページ\n", "utf-8")
    fast.write_text("速いページ\n", "utf-8")
    parse = files.parse_text

    def stalls(text, doc_id, source, *args, **kwargs):
        if doc_id == "slow":
            time.sleep(5)
        return parse(text, doc_id, source, *args, **kwargs)

    monkeypatch.setattr(files, "parse_text", stalls)
    monkeypatch.setattr(batch, "PAGE_TIMEOUT_S", 1)
    rc, out, err = cli("segment", str(slow), str(fast))
    assert rc == 1
    assert [json.loads(line)["doc_id"] for line in out.splitlines()] == ["fast"]
    assert err.splitlines()[0] == f"honbun: error: {slow}: PageTimeout: timed out after 1 s"
