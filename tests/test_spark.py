"""Tests for honbun.serve.spark: Spark scoring gives exactly what ``honbun score`` gives.

Skipped without PySpark or Java. Spark runs in local mode (two cores, no UI, loopback).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from honbun.cli import spark as spark_cli
from honbun.read.files import page_from_content
from honbun.serve import spark as hs

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "data" / "raw" / "pages"
HTML_PAGES = [  # (doc_id, file, format given to Spark; None = sniff)
    ("koron-000001", "koron-java-extractarticle/000001.html", "html"),
    ("htmldate-yomiuri", "htmldate-ja/yomiuri.co.jp-gaza.html", "html"),
    ("nhk-k10014405081000", "nhk-easy-crawler/k10014405081000.html", None),
    (
        "aeb-85439e26",
        "scrapinghub-aeb-ja/85439e26c41c75901820d01a13e8cea7836abb58635ea3986f71a163ab0311d3.html",
        None,
    ),
]


def _needs_spark() -> None:
    pytest.importorskip("pyspark")
    pytest.importorskip("pyarrow")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java: no java on PATH")


def _usable(path: Path) -> bool:
    """The model loads and scores a seed page with this checkout's code (not a stale build)."""
    import honbun

    if not (path / "model.joblib").exists():
        return False
    try:
        res = honbun.load_model(str(path)).score(sorted((ROOT / "seeds").glob("*.txt"))[0])
    except Exception:
        return False
    return "error" not in res


@pytest.fixture(scope="session")
def model_dir(request: pytest.FixtureRequest) -> str:
    """$HONBUN_TEST_MODEL, else models/default, else models/smoke, else (all missing or stale)
    the session's tiny model (conftest's ``trained``: trained once for all the tests)."""
    if os.environ.get("HONBUN_TEST_MODEL"):
        return os.environ["HONBUN_TEST_MODEL"]
    for name in ("default", "smoke"):
        if _usable(ROOT / "models" / name):
            return str(ROOT / "models" / name)
    return str(request.getfixturevalue("trained")["first"]["model"])


@pytest.fixture(scope="session")
def spark():
    _needs_spark()
    from pyspark.sql import SparkSession

    env = pytest.MonkeyPatch()
    env.setenv("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", sys.executable))
    env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("honbun-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2")  # several batches
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    env.undo()


@pytest.fixture(scope="session")
def page_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str | None, Path]]:
    """(doc_id, format, file): seeds, decoded HTML pages rewritten as UTF-8, an empty page."""
    from honbun.read.decode import decode_bytes

    d = tmp_path_factory.mktemp("pages")
    rows: list[tuple[str, str | None, Path]] = []
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        f = d / seed.name
        f.write_bytes(seed.read_bytes())
        rows.append((seed.stem, "text", f))
    for doc_id, rel, fmt in HTML_PAGES:
        text = decode_bytes((PAGES / rel).read_bytes()).text
        f = d / f"{doc_id}{'.html' if fmt else '.page'}"  # .page: `honbun score` sniffs too
        f.write_text(text, encoding="utf-8")
        rows.append((doc_id, fmt, f))
    empty = d / "empty-page.txt"
    empty.write_bytes(b"")
    rows.append(("empty-page", "text", empty))
    return rows


@pytest.fixture(scope="session")
def cli_results(model_dir, page_files, tmp_path_factory) -> dict[str, str]:
    """doc_id -> the line `honbun score` writes for that page file."""
    from honbun.cli import main

    out = tmp_path_factory.mktemp("cli") / "scored.jsonl"
    main(["score", *(str(f) for _, _, f in page_files), "--model", model_dir, "-o", str(out)])
    lines = out.read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["doc_id"]: line for line in lines}


def test_spark_equals_honbun_score(spark, model_dir, page_files, cli_results):
    rows = [
        {"doc_id": i, "format": fmt, "content": f.read_text("utf-8"), "source": str(f)}
        for i, fmt, f in page_files
    ]
    df = spark.createDataFrame(rows, "doc_id string, format string, content string, source string")
    out = hs.score_dataframe(df, model_dir, partitions=2).collect()

    assert [r.doc_id for r in out] == sorted(i for i, _, _ in page_files)
    assert set(cli_results) == {r.doc_id for r in out}
    for r in out:
        assert json.loads(r.result) == json.loads(cli_results[r.doc_id]), r.doc_id
        assert r.result == cli_results[r.doc_id]  # byte for byte: same serialisation too
    bad = json.loads(next(r.result for r in out if r.doc_id == "empty-page"))
    assert bad["error"] == "empty file" and bad["format"] == "unknown"
    good = [json.loads(r.result) for r in out if r.doc_id != "empty-page"]
    assert all("error" not in g and g["blocks"] for g in good)
    assert {g["format"] for g in good} == {"text", "html"}


def test_score_spark_command_end_to_end(
    spark, model_dir, page_files, cli_results, tmp_path, capsys
):
    pages = [(i, fmt, f.read_text("utf-8")) for i, fmt, f in page_files]
    pages.append(("null-content", None, None))
    lines = [
        json.dumps({"doc_id": i, "format": fmt, "content": c}, ensure_ascii=False)
        for i, fmt, c in pages
    ]
    lines.insert(3, '{"doc_id": "broken", "content": ')  # a malformed record
    src = tmp_path / "pages.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")

    out = tmp_path / "out" / "scored.jsonl"
    rc = spark_cli.main([str(src), str(out), "--model", model_dir])
    assert rc == 1  # like `honbun score`: some inputs failed
    assert "3 input(s) failed" in capsys.readouterr().err
    assert out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["scored.jsonl"]  # no temp dir left

    got = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    ids = [g["doc_id"] for g in got]
    assert ids == sorted(ids) and len(got) == len(pages) + 1
    by_id = {g["doc_id"]: g for g in got}
    for doc_id, _, _ in pages[:-1]:  # without a source column, source is the doc_id
        expected = {**json.loads(cli_results[doc_id]), "source": doc_id}
        assert by_id[doc_id] == expected, doc_id
    assert by_id["empty-page"]["error"] == "empty file"
    assert by_id["null-content"]["error"] == "no content (null)"
    assert sum(g.get("error", "").startswith("malformed JSON Lines record") for g in got) == 1

    # A directory OUTPUT gets part files (in doc_id order) and _SUCCESS; it is not overwritten.
    src.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    ids3 = [json.loads(line)["doc_id"] for line in lines[:3]]
    out_dir = tmp_path / "out-dir"
    assert spark_cli.main([str(src), str(out_dir), "--model", model_dir, "--partitions", "3"]) == 0
    assert (out_dir / "_SUCCESS").exists()
    text = "".join(p.read_text("utf-8") for p in sorted(out_dir.glob("part-*")))
    assert [json.loads(x) for x in text.splitlines()] == [by_id[i] for i in sorted(ids3)]
    assert spark_cli.main([str(src), str(out_dir), "--model", model_dir]) == 1
    assert "already exists" in capsys.readouterr().err


def _site_rows() -> list[dict]:
    """One HTML page as two pages of one site (once more as a duplicate row), the same
    page on another site, a text page (no site), a page with no site tag, an empty page."""
    from honbun.read.decode import decode_bytes

    raw = decode_bytes((PAGES / "htmldate-ja/article.auone.jp-tax.html").read_bytes()).text
    other = decode_bytes((PAGES / HTML_PAGES[1][1]).read_bytes()).text
    rows = []
    for k, host in enumerate(["news.example.jp", "news.example.jp", "other.example.jp"]):
        canonical = f"<link rel='canonical' href='https://{host}/{k}'>"
        html = raw.replace("<head>", "<head>" + canonical, 1)
        rows.append({"doc_id": f"p{k}", "format": "html", "content": html})
    rows.append(dict(rows[0]))  # the same input twice: it counts twice, as in honbun score
    canonical = "<link rel='canonical' href='https://news.example.jp/other'>"
    rows.append(
        {
            "doc_id": "p3",
            "format": None,
            "content": other.replace("<head>", "<head>" + canonical, 1),
        }
    )
    seed = sorted((ROOT / "seeds").glob("*.txt"))[0].read_text("utf-8")
    rows.append({"doc_id": "seed", "format": "text", "content": seed})
    rows.append({"doc_id": "empty", "format": "text", "content": ""})
    return rows


def test_site_context_counts_equal_the_local_ones(spark):
    from honbun.features.prepared import block_keys
    from honbun.features.repetition import SiteContext
    from honbun.read.files import page_from_bytes
    from honbun.read.sites import site_of

    rows = _site_rows()
    df = spark.createDataFrame(rows, "doc_id string, format string, content string")
    got = hs.with_site_context(hs._prepare(df)).collect()
    assert len(got) == len(rows)
    local = SiteContext()
    pages = {}
    for r in rows[:-1]:  # the empty page cannot be read
        page = page_from_bytes(r["content"].encode(), r["doc_id"], r["doc_id"], r["format"])
        local.add(page)
        pages[r["doc_id"]] = page
    assert local.pages == {"news.example.jp": 4, "other.example.jp": 1}
    for r in got:
        if r.doc_id in ("seed", "empty"):  # no site, or unreadable: scored alone
            assert r._site is None and r._key_counts is None
            continue
        page = pages[r.doc_id]
        assert r._site == site_of(page) and r._site_pages == local.pages[r._site]
        ctx = hs.page_context(page, r._site, dict(r._key_counts), r._site_pages)
        keys = set(block_keys(page))
        assert ctx.counts[r._site] == {k: local.counts[r._site][k] for k in keys}
        assert ctx.pages == {r._site: local.pages[r._site]}
    # p0's blocks are on p0, its duplicate row and p1; a few also on the site's other page
    p0 = next(r for r in got if r.doc_id == "p0")
    counts = list(dict(p0._key_counts).values())
    assert set(counts) == {3, 4} and counts.count(3) > counts.count(4)


def test_score_spark_with_site_context_equals_honbun_score_with_it(
    spark, model_dir, tmp_path, monkeypatch
):
    import honbun

    rows = _site_rows()
    files = []
    for k, r in enumerate(rows):
        f = (
            tmp_path
            / f"{k}-{r['doc_id']}.{'html' if r['format'] == 'html' else 'txt' if r['format'] else 'page'}"
        )
        f.write_text(r["content"] or "", encoding="utf-8")
        files.append(f)
    model = honbun.load_model(model_dir)
    want = [
        json.loads(hs.dumps({**res, "doc_id": r["doc_id"], "source": r["doc_id"]}))
        for r, res in zip(rows, model.with_site_context(files).score_many(files), strict=True)
    ]
    df = spark.createDataFrame(rows, "doc_id string, format string, content string")
    out = hs.score_dataframe(df, model_dir, partitions=2, site_context=True).collect()
    got = sorted((json.loads(r.result) for r in out), key=lambda g: g["doc_id"])
    want = sorted(want, key=lambda w: w["doc_id"])
    assert got == want
    # The command's --site-context: the same records, in doc_id order, in one file.
    src = tmp_path / "pages.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    scored = tmp_path / "scored.jsonl"
    assert spark_cli.main([str(src), str(scored), "--model", model_dir, "--site-context"]) == 1
    assert [json.loads(x) for x in scored.read_text("utf-8").splitlines()] == want


def test_score_record_scores_against_the_context_it_is_given(model_dir, monkeypatch):
    import honbun
    from honbun.boilerplate.export import BlockScorer
    from honbun.features.prepared import block_keys

    model = honbun.load_model(model_dir)
    r = _site_rows()[0]
    seen = []
    original = BlockScorer.predict_proba

    def recording(self, pages, alone=False, context=None):
        seen.append(None if context is None else (dict(context.pages), context.counts))
        return original(self, pages, alone, context)

    monkeypatch.setattr(BlockScorer, "predict_proba", recording)
    hs.score_record(model, "p0", r["content"], "html")
    assert seen == [None]
    page = page_from_content(r["content"], "p0", "p0", "html")
    counts = {hs.key_hash(k): 2 for k in set(block_keys(page))}
    seen.clear()
    hs.score_record(model, "p0", r["content"], "html", context=("news.example.jp", counts, 2))
    ((pages, per_site),) = seen
    assert pages == {"news.example.jp": 2}
    assert set(per_site["news.example.jp"].values()) == {2}


def test_one_model_per_python_worker(spark, model_dir):
    def models(batches):
        import os

        import pyarrow as pa

        for batch in batches:
            model = hs._worker_model(model_dir)
            yield pa.RecordBatch.from_pydict(
                {"pid": [os.getpid()] * batch.num_rows, "model": [id(model)] * batch.num_rows}
            )

    rows = spark.range(40).repartition(8).mapInArrow(models, "pid long, model long").collect()
    per_worker: dict[int, set[int]] = {}
    for r in rows:
        per_worker.setdefault(r.pid, set()).add(r.model)
    assert all(len(ids) == 1 for ids in per_worker.values()), per_worker  # 8 tasks, 1 load each


def test_failed_job_leaves_no_output(spark, tmp_path, capsys):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.joblib").write_bytes(b"not a model")
    src = tmp_path / "pages.jsonl"
    src.write_text('{"doc_id": "a", "format": "text", "content": "本文です。"}\n', "utf-8")
    out = tmp_path / "out" / "scored.jsonl"

    assert spark_cli.main([str(src), str(out), "--model", str(broken)]) == 1
    assert "honbun: error:" in capsys.readouterr().err
    assert not out.exists()
    assert list(out.parent.iterdir()) == []  # the temp dir was removed too

    assert spark_cli.main([str(src), str(out), "--model", str(tmp_path / "nope")]) == 2
    assert "no such model directory" in capsys.readouterr().err


def test_register_adds_score_spark():
    parser = argparse.ArgumentParser(prog="honbun")
    spark_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score-spark", "in.jsonl", "out", "--partitions", "4"])
    assert args.handler is spark_cli.run and args.partitions == 4 and args.model == "models/default"


def test_without_pyspark_says_install_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    assert spark_cli.main(["in.jsonl", "out.jsonl"]) == 2
    assert "pip install 'honbun[spark]'" in capsys.readouterr().err
