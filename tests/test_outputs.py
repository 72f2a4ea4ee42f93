"""What ``honbun score`` writes besides JSON Lines: the review page (checked in a real
browser, headless Chromium) and Parquet (read back with DuckDB); and a crawl (WARC) of the
development pages scoring to what the loose files score to."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import SEED_FILES
from honbun.scoring.outputs import output_format
from honbun.scoring.review import OPEN_PAGES, ReviewSink
from warcs import manifest_pages, write_crawl

pytestmark = pytest.mark.slow  # a model is trained (or reused) for these

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
)  # fmt: skip
IDS = ("doc_id", "source", "url", "date")  # what differs between a crawl's page and a file's


@pytest.fixture(scope="module")
def scored(model_dir: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seeds and a missing file scored with --explain as JSON Lines, a review page and
    Parquet."""
    from honbun.cli import main

    d = tmp_path_factory.mktemp("outputs")
    inputs = [*(str(f) for f in SEED_FILES), str(d / "missing.txt")]
    out = {"jsonl": d / "seeds.jsonl", "html": d / "review.html", "parquet": d / "seeds.parquet"}
    for path in out.values():
        assert main(["score", *inputs, "--model", model_dir, "--explain", "-o", str(path)]) == 1
    return out


def _results(scored: dict[str, Path]) -> list[dict]:
    return [json.loads(line) for line in scored["jsonl"].read_text("utf-8").splitlines()]


# ------------------------------------------------------------------------------- Parquet


def test_parquet_has_a_row_per_page_with_the_json_results(scored: dict[str, Path]) -> None:
    import pyarrow.parquet as pq

    rows = pq.read_table(scored["parquet"]).to_pylist()
    results = _results(scored)
    assert [r["doc_id"] for r in rows] == [r["doc_id"] for r in results]
    for row, res in zip(rows, results, strict=True):
        if "error" in res:
            assert row["error"] == res["error"] and row["blocks"] is None
            continue
        assert row["error"] is None and row["date"] is None and row["url"] is None
        for key in ("source", "format", "model", "title", "body_text", "labels", "topics"):
            assert row[key] == res[key], key
        blocks = [{**b, "rule": b.get("rule")} for b in res["blocks"]]
        assert row["blocks"] == blocks
        assert [s["text"] for s in row["sentences"]] == [s["text"] for s in res["sentences"]]
        assert [s["topics"] for s in row["sentences"]] == [s["topics"] for s in res["sentences"]]
        for s, r in zip(row["sentences"], res["sentences"], strict=True):
            assert {k: [[t["term"], t["weight"]] for t in v] for k, v in s["explanation"]} == (
                r["explanation"]
            )


def test_duckdb_reads_the_parquet(scored: dict[str, Path]) -> None:
    duckdb = pytest.importorskip("duckdb")
    results = [r for r in _results(scored) if "error" not in r]
    label = results[0]["labels"][0]
    got = duckdb.sql(
        f"SELECT count(*), sum(len(blocks)), max(topics.{label}) FROM '{scored['parquet']}' "
        f"WHERE list_contains(labels, '{label}')"
    ).fetchall()[0]
    tagged = [r for r in results if label in r["labels"]]
    assert got == (
        len(tagged), sum(len(r["blocks"]) for r in tagged), max(r["topics"][label] for r in tagged),
    )  # fmt: skip


def test_a_failed_parquet_write_leaves_no_file(model_dir, tmp_path, monkeypatch) -> None:
    from honbun.cli import main
    from honbun.scoring import parquet

    def broken(res: dict) -> dict:
        raise RuntimeError("disk full")

    monkeypatch.setattr(parquet, "parquet_row", broken)
    out = tmp_path / "results.parquet"
    with pytest.raises(RuntimeError, match="disk full"):
        main(["score", str(SEED_FILES[0]), "--model", model_dir, "-o", str(out)])
    assert list(tmp_path.iterdir()) == []


def test_parquet_needs_an_output_file_and_the_suffix_picks_the_format(cli, model_dir) -> None:
    rc, out, err = cli("score", str(SEED_FILES[0]), "--model", model_dir, "--format", "parquet")
    assert rc == 2 and out == "" and "--format parquet needs -o FILE" in err
    assert output_format(None, "r.parquet") == "parquet"
    assert output_format(None, "r.HTML") == "html"
    assert output_format(None, "r.jsonl") == output_format(None, None) == "jsonl"
    assert output_format("jsonl", "r.parquet") == "jsonl"


# ---------------------------------------------------------------------------- review page


def test_the_review_page_is_self_contained(scored: dict[str, Path]) -> None:
    page = scored["html"].read_text("utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import|url\(", page)
    assert "Noto Sans CJK JP" in page and "Hiragino" in page and '<html lang="ja">' in page
    for res in _results(scored):
        if "error" in res:
            assert res["error"] in page
        else:
            assert res["title"] in page


def test_the_review_page_shows_the_explanation_terms(scored: dict[str, Path]) -> None:
    page = scored["html"].read_text("utf-8")
    res = next(r for r in _results(scored) if r.get("sentences"))
    tagged = next(s for s in res["sentences"] if s["labels"])
    term = tagged["explanation"][tagged["labels"][0]][0][0]
    assert f'title="terms behind {tagged["labels"][0]}"' in page
    assert term.replace("&", "&amp;").replace("<", "&lt;") in page


def test_a_thousand_pages_are_one_file_with_most_pages_collapsed(
    scored: dict[str, Path], tmp_path: Path
) -> None:
    results = [r for r in _results(scored) if "error" not in r]
    out = tmp_path / "big.html"
    with ReviewSink(str(out), ["deployment", "alliance", "sanctions", "training"]) as sink:
        for k in range(1000):
            sink.write({**results[k % len(results)], "doc_id": f"page-{k}"})
    page = out.read_text("utf-8")
    assert page.count('<details class="page"') == 1000
    assert len(re.findall(r'<details class="page"[^>]*\bopen>', page)) == OPEN_PAGES
    assert page.count('<script type="text/html" class="later">') == 1000 - OPEN_PAGES
    assert page.count("</script>") == 1000 - OPEN_PAGES + 1  # and the page's own script
    assert page.rstrip().endswith("</html>") and "1000 page(s)" in page


def test_a_collapsed_page_gets_its_blocks_when_opened_in_chromium(
    scored: dict[str, Path], tmp_path: Path
) -> None:
    results = [r for r in _results(scored) if "error" not in r]
    out = tmp_path / "many.html"
    with ReviewSink(str(out), list(results[0]["topics"])) as sink:
        for k in range(OPEN_PAGES + 2):
            sink.write({**results[k % len(results)], "doc_id": f"page-{k}"})
    lazy = _render(out, tmp_path)["lazy"]
    n_blocks = len(results[(OPEN_PAGES + 1) % len(results)]["blocks"])
    assert lazy == {"closed": True, "before": 0, "after": n_blocks, "waiting": 0}


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "headless Chromium not found (looked for chromium, chromium-browser, google-chrome): "
        "install it with `apt-get install -y chromium` (Debian/Ubuntu) to run the review page's "
        "browser test"
    )


# Run in the page after load: what the browser made of it, as JSON in a <pre>.
PROBE = """
<script>
(function () {
  var all = document.querySelectorAll('details.page'), last = all[all.length - 1];
  var lazy = {closed: !last.open, before: last.querySelectorAll('.block').length};
  last.open = true;  // a collapsed page gets its blocks when opened (a 'toggle' handler)
  setTimeout(measure, 200);
  function measure() {
  lazy.after = last.querySelectorAll('.block').length;
  lazy.waiting = last.querySelectorAll('script.later').length;
  function box(el) { var r = el.getBoundingClientRect(); return {w: r.width, h: r.height}; }
  function style(el) { var s = getComputedStyle(el);
    return {border: s.borderLeftStyle, borderColor: s.borderLeftColor, color: s.color,
            bg: s.backgroundColor, display: s.display}; }
  var pages = [].map.call(document.querySelectorAll('details.page'), function (p) {
    function first(sel) { var el = p.querySelector(sel); return el ? el : null; }
    var body = first('.block.body'), bp = first('.block.boilerplate');
    var tagged = first('.s.tagged'), tag = tagged ? tagged.nextElementSibling : null;
    return {
      open: p.open, title: p.querySelector('.ptitle').innerText, box: box(p),
      body: body && {style: style(body), box: box(body), text: body.innerText},
      boilerplate: bp && {style: style(bp), box: box(bp), text: bp.innerText},
      tagged: tagged && {labels: tagged.getAttribute('data-labels'), box: box(tagged),
                         bg: getComputedStyle(tagged).backgroundColor},
      tag: tag && {text: tag.innerText, bg: getComputedStyle(tag).backgroundColor, box: box(tag)},
      topics: [].map.call(p.querySelectorAll('table.topics tbody tr'), function (r) {
        return r.innerText; })
    };
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({pages: pages, lazy: lazy,
    resources: performance.getEntriesByType('resource').length,
    count: document.getElementById('count').innerText});
  document.body.appendChild(out);
  }
})();
</script>
"""


def _render(page: Path, tmp_path: Path) -> dict:
    """Open ``page`` in headless Chromium; return what :data:`PROBE` measured."""
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text("utf-8").replace("</body>", PROBE + "</body>"), "utf-8")
    proc = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,2000", "--virtual-time-budget=5000", "--dump-dom",
         probed.as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "LANG": "C.UTF-8"},
    )  # fmt: skip
    m = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"no probe output from Chromium (exit {proc.returncode}): {proc.stderr[-2000:]}"
    import html

    return json.loads(html.unescape(m.group(1)))


def test_the_review_page_renders_in_chromium(scored: dict[str, Path], tmp_path: Path) -> None:
    got = _render(scored["html"], tmp_path)
    results = _results(scored)
    assert got["resources"] == 0  # nothing fetched
    assert got["count"] == f"{len(results)} / {len(results)} pages shown"  # the script ran
    assert got["lazy"]["closed"] is False  # every page open: none waits
    for page, res in zip(got["pages"], results, strict=True):
        assert page["open"] and page["box"]["h"] > 0
        if "error" in res:
            assert page["body"] is None
            continue
        assert page["title"] == res["title"]
        body, bp = page["body"], page["boilerplate"]
        assert body["box"]["h"] > 0 and bp["box"]["h"] > 0  # both kinds laid out
        assert (body["style"]["border"], bp["style"]["border"]) == ("solid", "dashed")
        assert body["style"]["borderColor"] != bp["style"]["borderColor"]
        assert body["style"]["color"] != bp["style"]["color"]
        assert body["text"].startswith("body · ") and bp["text"].startswith("boilerplate · ")
        # a tagged sentence is highlighted and its tag shows the label and probability
        tagged, tag = page["tagged"], page["tag"]
        label = tagged["labels"].split()[0]
        sentence = next(s for s in res["sentences"] if s["labels"] and s["labels"][0] == label)
        assert tag["text"] == f"{label} {sentence['topics'][label]:.2f}"
        assert tagged["box"]["w"] > 0 and tag["box"]["w"] > 0
        assert tagged["bg"] not in ("rgba(0, 0, 0, 0)", body["style"]["bg"])
        assert tag["bg"] != "rgba(0, 0, 0, 0)"
        assert len(page["topics"]) == len(res["topics"])
        assert any(row.startswith(label) for row in page["topics"])


# ----------------------------------------------------------------------------------- WARC


def test_a_crawl_of_the_pages_scores_as_the_loose_files(model_dir, tmp_path, cli) -> None:
    """Page for page, a crawl of the 92 pages scores as the files do. A crawl also knows
    each page's address: a page without a canonical link then has a site (the address's
    host, the key training counted its site's pages under) where the file has none, so
    those pages are compared with their file scored knowing that address too."""
    import honbun
    from honbun.read.files import load_page

    crawl = write_crawl(tmp_path / "crawl.warc.gz")
    entries = manifest_pages()
    rc, out, err = cli("score", str(crawl), "--model", model_dir, "--jobs", "2")
    assert rc == 0, err
    assert "WARC: 92 page(s), 0 broken record(s), 97 record(s) skipped" in err
    from_crawl = [json.loads(line) for line in out.splitlines()]
    rc, out, err = cli("score", *(str(e["path"]) for e in entries), "--model", model_dir, "--jobs", "2")  # fmt: skip
    assert rc == 0, err
    from_files = [json.loads(line) for line in out.splitlines()]
    assert [r["doc_id"] for r in from_crawl] == [e["url"] for e in entries]
    assert all(r["date"] == "2024-10-29T00:47:00Z" for r in from_crawl)
    no_canonical = [k for k, r in enumerate(from_files) if "url" not in r]
    assert len(no_canonical) == 12
    model = honbun.load_model(model_dir)
    for k in no_canonical:
        page = load_page(entries[k]["path"])
        page.meta["url"] = entries[k]["url"]
        from_files[k] = model.score(page)

    def same(a: dict, b: dict) -> bool:
        return {k: v for k, v in a.items() if k not in IDS} == {
            k: v for k, v in b.items() if k not in IDS
        }

    differ = [e["id"] for e, a, b in zip(entries, from_crawl, from_files, strict=True)
              if not same(a, b)]  # fmt: skip
    assert differ == []


def test_a_broken_crawl_record_is_an_error_record_and_the_rest_is_scored(
    model_dir, tmp_path, cli
) -> None:
    crawl = write_crawl(tmp_path / "cut.warc", gzipped=False, pages=manifest_pages()[:3])
    data = crawl.read_bytes()
    crawl.write_bytes(data[: len(data) - 400])
    rc, out, err = cli("score", str(crawl), "--model", model_dir, "--jobs", "2", "-o", "-")
    results = [json.loads(line) for line in out.splitlines()]
    assert rc == 1 and len(results) == 3
    assert "error" not in results[0] and "error" not in results[1]
    assert results[2]["source"] == str(crawl)
    assert re.fullmatch(r"record at offset \d+: https?://\S+, truncated: .*", results[2]["error"])
    assert results[2]["doc_id"] == manifest_pages()[2]["url"]
    assert f"honbun: error: {crawl}: record at offset" in err
    assert "WARC: 2 page(s), 1 broken record(s)" in err
