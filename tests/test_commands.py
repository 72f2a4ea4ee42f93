"""Every command and flag of the README's command table, run end to end on the session's
tiny model (see conftest's ``trained``), so a documented command cannot break silently.

The last test checks that each option of each subcommand was run here: a new flag must
come with a run of it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, PAGES, REPO, SEED_FILES, manifest_entries
from honbun.cli import build_parser

pytestmark = pytest.mark.slow

RUN: list[list[str]] = []  # every argv run in this module, for the last test
HTML = PAGES / "htmldate-ja/article.auone.jp-tax.html"
SEED_ANN = DATA / "annotations/seeds" / f"{SEED_FILES[0].stem}.jsonl"


@pytest.fixture
def honbun(cli):
    """``cli``, remembering what was run."""

    def run(*args: str) -> tuple[int, str, str]:
        RUN.append(list(args))
        return cli(*args)

    return run


@pytest.fixture(scope="module")
def model_dir(trained: dict) -> str:
    return trained["first"]["model"]


def test_segment(honbun, tmp_path: Path) -> None:
    out_file = tmp_path / "segments.jsonl"
    rc, _, _ = honbun("segment", str(SEED_FILES[0]), str(HTML), "-o", str(out_file))
    rows = [json.loads(x) for x in out_file.read_text("utf-8").splitlines()]
    assert rc == 0 and [r["format"] for r in rows] == ["text", "html"]
    assert rows[0]["blocks"] and rows[0]["sentences"]


def test_directories_with_glob_and_verbose(honbun, model_dir: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED_FILES[0], folder / "a.txt")
    shutil.copy(HTML, folder / "b.html")
    (folder / "notes.md").write_text("# notes", encoding="utf-8")
    rc, out, err = honbun("segment", str(folder), "--glob", "*.txt", "-v")
    assert rc == 0 and len(out.splitlines()) == 1 and "skipped" in err and "b.html" in err
    rc, out, err = honbun("score", str(folder), "--model", model_dir, "--glob", "*.html",
                          "--verbose")  # fmt: skip
    assert rc == 0 and json.loads(out)["format"] == "html" and "a.txt" in err


def test_score_review_page_and_parquet(honbun, model_dir: str, tmp_path: Path) -> None:
    rc, out, _ = honbun("score", str(SEED_FILES[0]), "--model", model_dir, "--format", "html")
    assert rc == 0 and out.lstrip().lower().startswith("<!doctype html") and "北朝鮮" in out
    table = tmp_path / "out.parquet"
    rc, _, _ = honbun("score", str(SEED_FILES[0]), "--model", model_dir, "-o", str(table))
    assert rc == 0 and table.read_bytes()[:4] == b"PAR1"


@pytest.mark.parametrize("fmt", ["jsonl", "text", "markdown"])
def test_score_formats(honbun, model_dir: str, fmt: str) -> None:
    rc, out, _ = honbun("score", str(SEED_FILES[0]), "--model", model_dir, "--format", fmt)
    assert rc == 0
    if fmt == "jsonl":
        assert json.loads(out)["title"].startswith("北朝鮮派兵")
    else:
        assert ("# 北朝鮮派兵" if fmt == "markdown" else "=== ") in out


def test_score_jobs_output_site_context_explain_labels(honbun, model_dir: str, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    args = ["score", *map(str, SEED_FILES), str(HTML), "--model", model_dir, "-o", str(out)]
    assert honbun(*args, "--jobs", "2")[0] == 0
    plain = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["source"] for r in plain] == [*map(str, SEED_FILES), str(HTML)]
    assert (
        honbun(*args, "--site-context", "--explain", "--labels", str(DATA / "labels.toml"))[0] == 0
    )
    rich = [json.loads(x) for x in out.read_text().splitlines()]
    assert any("explanation" in s for r in rich for s in r["sentences"])
    other = tmp_path / "labels.toml"
    other.write_text(
        (DATA / "labels.toml").read_text("utf-8") + '\n[topics.cyber]\ndescription = "x"\n'
    )
    rc, _, err = honbun(*args, "--labels", str(other))
    assert rc == 2 and "label config" in err


def test_score_fail_fast_stops_at_the_first_bad_page(honbun, model_dir: str, tmp_path) -> None:
    missing = tmp_path / "missing.html"
    out = tmp_path / "out.jsonl"
    rc, _, err = honbun("score", str(missing), str(SEED_FILES[0]), "--model", model_dir,
                        "--fail-fast", "-o", str(out))  # fmt: skip
    assert rc == 1 and "--fail-fast: stopped" in err and str(missing) in err
    assert not out.exists() or not out.read_text()  # nothing scored after the stop


def test_score_with_a_registry_uri(honbun, trained: dict) -> None:
    from honbun.experiment import tracking

    tracking.promote(trained["first"]["run_id"], force=True)
    rc, out, _ = honbun("score", str(SEED_FILES[1]), "--model", "models:/honbun-tiny@champion")
    assert rc == 0 and json.loads(out)["model"] == "tiny"


def test_train_without_tracking(honbun, tmp_path: Path) -> None:
    # The session's trainings (conftest) cover the models; here the command itself, on
    # the tiny config's topic model alone (seconds).
    text = (REPO / "tests/fixtures/tiny.toml").read_text("utf-8")
    text = text.replace("[boilerplate]\nenabled = true", "[boilerplate]\nenabled = false")
    text = text.replace("learning_curve = [0.5, 1.0]", "learning_curve = []")
    config = tmp_path / "topics-only.toml"
    config.write_text(text, encoding="utf-8")
    rc, out, _ = honbun("train", "--config", str(config), "--models", str(tmp_path / "m"),
                        "--runs", str(tmp_path / "r"), "--no-track")  # fmt: skip
    assert rc == 0 and "mlflow run" not in out and "topics.macro_f1" in out
    assert (tmp_path / "m" / "tiny" / "scoring.pkl").is_file()
    (report,) = (tmp_path / "r" / "tiny").iterdir()
    assert (report / "metrics.json").is_file()


def test_evaluate_a_saved_model(honbun, model_dir: str, tmp_path: Path) -> None:
    annotations = tmp_path / "annotations"
    shutil.copytree(DATA / "annotations" / "seeds", annotations / "seeds")
    rc, out, _ = honbun("evaluate", "--model", model_dir, "--annotations", str(annotations),
                        "--labels", str(DATA / "labels.toml"))  # fmt: skip
    assert rc == 0
    report = json.loads(out)
    assert report["boilerplate"]["pages"] == 2  # the seed dumps
    assert 0 < report["boilerplate"]["char3_f1_macro"] <= 1
    assert report["topics"]["sentences"] > 0 and set(report["topics"]["f1"]) == {
        "deployment", "alliance", "sanctions", "training",
    }  # fmt: skip
    # An extractor on the same HTML pages (here one page of the unseen-site set).
    unseen = sorted((DATA / "annotations" / "unseen").glob("*.jsonl"))[0]
    (annotations / "unseen").mkdir()
    shutil.copy(unseen, annotations / "unseen" / unseen.name)
    rc, out, _ = honbun("evaluate", "--model", model_dir, "--annotations",
                        str(annotations / "unseen"), "--baselines", "trafilatura-precision")  # fmt: skip
    bp = json.loads(out)["boilerplate"]
    assert rc == 0 and bp["pages"] == 1 and 0 < bp["trafilatura-precision_char3_f1_macro"] <= 1
    rc, _, err = honbun("evaluate", "--model", model_dir, "--baselines", "justext")
    assert rc == 2 and "unknown baseline(s) justext" in err


def test_runs_compare_and_promote(honbun, trained: dict) -> None:
    first, other = trained["first"]["run_id"], trained["other"]["run_id"]
    rc, out, _ = honbun("runs", "--limit", "5")
    assert rc == 0 and first[:12] in out
    rc, out, _ = honbun("runs", "compare", first[:8], other[:8])
    assert rc == 0 and "| boilerplate.threshold | 0.5 | 0.4 |" in out
    rc, out, _ = honbun("promote", other, "--force")
    assert rc == 0 and "now @champion" in out
    rc, out, _ = honbun("promote", first, "--force")
    assert rc == 0 and "now @champion" in out


def test_data_init_from_a_manifest(honbun, mini_repo: Path) -> None:
    entry = next(e for e in manifest_entries() if e["id"] == "koron-000001")
    pages = mini_repo / "pages"
    (pages / Path(entry["path"]).parent).mkdir(parents=True)
    shutil.copy(PAGES / entry["path"], pages / entry["path"])
    (pages / "manifest.jsonl").write_text(json.dumps(entry, ensure_ascii=False) + "\n")
    rc, out, _ = honbun("data", "init", "--manifest", str(pages / "manifest.jsonl"),
                        "--out", "data/annotations/new")  # fmt: skip
    assert rc == 0 and "created 1 " in out
    assert (mini_repo / "data/annotations/new/koron-000001.jsonl").is_file()


def test_data_init_articles(honbun, mini_repo: Path) -> None:
    source = DATA / "raw/security-news/articles.jsonl"
    rows = source.read_text("utf-8").splitlines()[:5]
    articles = mini_repo / "articles.jsonl"
    articles.write_text("\n".join(rows) + "\n", encoding="utf-8")
    first = json.loads(rows[0])
    key = next(
        k for k, v in first.items() if isinstance(v, str) and k not in ("id", "title", "text")
    )
    rc, out, _ = honbun("data", "init-articles", str(articles), "--out", "data/annotations/art",
                        "--select", f"{key}={first[key]}", "--sample", "1", "--seed", "3")  # fmt: skip
    assert rc == 0 and "created 1 " in out


def test_data_sample_livedoor(honbun, mini_repo: Path) -> None:
    rc, out, _ = honbun("data", "sample-livedoor", "--archive",
                        str(DATA / "raw/livedoor/ldcc-20140209.tar.gz"),
                        "--out", "data/annotations/ld", "-n", "3", "--seed", "5")  # fmt: skip
    assert rc == 0 and out.startswith("sampled ")
    assert list((mini_repo / "data/annotations/ld").glob("*.jsonl"))


def test_data_export_import_agree_validate_migrate_stats(honbun, mini_repo: Path) -> None:
    ann = str(mini_repo / "data/annotations/seeds" / SEED_ANN.name)
    blocks, topics, blank = (mini_repo / n for n in ("b.tsv", "t.tsv", "blank.tsv"))
    assert honbun("data", "export", ann, "-o", str(blocks))[0] == 0
    assert honbun("data", "export", ann, "--what", "topics", "-o", str(topics))[0] == 0
    assert honbun("data", "export", ann, "--what", "blocks", "--blank", "-o", str(blank))[0] == 0
    rc, _, err = honbun("data", "import", str(blocks), "--reviewer", "tester", "--notes", "ok")
    assert rc == 0 and "imported" in err
    assert honbun("data", "import", str(topics))[0] == 0
    rc, out, _ = honbun("data", "agree", str(blocks))  # the gold against itself
    assert rc == 0 and "kappa 1.000" in out
    rc, out, _ = honbun("data", "agree", str(topics))  # a topic sheet: kappa per label
    assert rc == 0 and "| deployment |" in out and "Cohen's kappa" in out
    assert honbun("data", "validate", ann, "--labels", "data/labels.toml")[0] == 0
    rc, out, _ = honbun("data", "migrate", ann)
    assert rc == 0 and "0 need review" in out
    rc, out, _ = honbun("data", "stats", "--labels", "data/labels.toml", "--json")
    assert rc == 0 and json.loads(out)


def test_data_suggest_then_import(honbun, mini_repo: Path) -> None:
    """The annotation loop for a label with too few gold sentences to learn: the sheet
    puts the sentences its lexicon fires on first, at most two per document, and comes
    back with data import."""
    from honbun.features.lexicon import Lexicon
    from honbun.labels import load_labels

    rows = (DATA / "raw/security-news/articles.jsonl").read_text("utf-8").splitlines()[:8]
    (mini_repo / "articles.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert (
        honbun("data", "init-articles", "articles.jsonl", "--out", "data/annotations/nhk")[0] == 0
    )
    sheet = mini_repo / "suggested.tsv"
    rc, _, err = honbun("data", "suggest", "--label", "sanctions", "--pool", "data/annotations/nhk",
                        "-n", "6", "-o", str(sheet), "--seed", "3", "--labels", "data/labels.toml")  # fmt: skip
    assert rc == 0 and "wrote 6 sentences" in err
    lines = [x.split("\t") for x in sheet.read_text("utf-8").splitlines() if not x.startswith("#")]
    docs = [x[0] for x in lines]
    assert len(lines) == 6 and max(docs.count(d) for d in docs) <= 2
    lexicon = Lexicon.from_config(load_labels("data/labels.toml"))
    fired = ["sanctions" in lexicon.labels(x[5]) for x in lines]
    from honbun.gold.suggest import pool_candidates

    hits: dict[str, int] = {}  # per document, lexicon hits a batch may take (two at most)
    for c in pool_candidates(["data/annotations/nhk"]):
        if "sanctions" in lexicon.labels(c.sentence.text):
            hits[c.doc.doc_id] = min(2, hits.get(c.doc.doc_id, 0) + 1)
    assert sum(fired) == min(6, sum(hits.values()))  # the lexicon's hits come first
    for x in lines:  # the annotator's answers
        x[4] = "sanctions" if "制裁" in x[5] else ""
    sheet.write_text("# what: topics\n" + "\n".join("\t".join(x) for x in lines) + "\n", "utf-8")
    rc, _, err = honbun("data", "import", str(sheet))
    assert rc == 0 and "imported" in err
    rc, _, err = honbun("data", "suggest", "--label", "cyber", "--pool", "data/annotations/nhk",
                        "-o", str(sheet))  # fmt: skip
    assert rc == 2 and "unknown topic 'cyber'" in err


def test_score_body_only_tags_every_line(honbun, model_dir: str, tmp_path: Path) -> None:
    text = tmp_path / "article.txt"
    text.write_text("ロシアと北朝鮮の合同軍事演習\n詳しくはこちら\n北朝鮮がロシアに部隊を派遣した。\n",
                    encoding="utf-8")  # fmt: skip
    rc, out, _ = honbun("score", str(text), "--model", model_dir, "--body-only")
    res = json.loads(out)
    assert rc == 0 and {b["label"] for b in res["blocks"]} == {"body"}
    assert len(res["sentences"]) == 3 and all("topics" in s for s in res["sentences"])


def test_score_spark_one_short_case(honbun, model_dir: str, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    pages = tmp_path / "pages.jsonl"
    pages.write_text(json.dumps({"doc_id": "s0", "content": SEED_FILES[0].read_text("utf-8")},
                                ensure_ascii=False) + "\n")  # fmt: skip
    out = tmp_path / "out.jsonl"
    rc, _, err = honbun("score-spark", str(pages), str(out), "--model", model_dir,
                        "--partitions", "1", "--input-format", "jsonl", "--master", "local[1]",
                        "--explain", "--site-context", "--overwrite")  # fmt: skip
    assert rc == 0, err
    assert json.loads(out.read_text())["doc_id"] == "s0"


def test_serve(model_dir: str, tmp_path: Path) -> None:
    import urllib.request

    from conftest import stop_server
    from test_serve import start_honbun

    args = ["--workers", "1", "--timeout", "30", "--max-body-mb", "2", "--queue", "1",
            "--labels", str(DATA / "labels.toml"), "--host", "127.0.0.1"]  # fmt: skip
    RUN.append(
        ["serve", "--model", model_dir, "--port", "(free)", *args]
    )  # as start_honbun runs it
    proc, base = start_honbun(model_dir, tmp_path / "serve.log", *args)
    try:
        body = {"dataframe_records": [{"doc_id": "s0", "content": SEED_FILES[0].read_text()}]}
        req = urllib.request.Request(f"{base}/invocations", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=60) as r:
            assert json.loads(r.read())["predictions"][0]["title"].startswith("北朝鮮派兵")
    finally:
        stop_server(proc)


def test_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "honbun"
    run = subprocess.run([str(script), "segment", str(SEED_FILES[0]), "--no-sentences"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    RUN.append(["segment", "--no-sentences"])
    assert run.returncode == 0 and json.loads(run.stdout)["blocks"]


def _options() -> dict[str, list[tuple[str, ...]]]:
    """Each subcommand (``data init`` …) and its options (each with its aliases)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    found: dict[str, list[tuple[str, ...]]] = {}
    for name, p in sub.choices.items():
        nested = [a for a in p._actions if a.dest == "data_command"]
        items = nested[0].choices.items() if nested else [("", p)]
        for action, q in items:
            found[f"{name} {action}".strip()] = [
                tuple(a.option_strings) for a in q._actions
                if a.option_strings and "--help" not in a.option_strings
            ]  # fmt: skip
    return found


def test_every_command_and_option_was_run_here() -> None:
    if len(RUN) < 20:
        pytest.skip("run with the whole module")
    missing = []
    for command, options in _options().items():
        words = command.split()
        runs = [r for r in RUN if r[: len(words)] == words]
        if not runs:
            missing.append(command)
        used = {w for r in runs for w in r}
        missing += [f"{command} {'/'.join(o)}" for o in options if not used & set(o)]
    assert not missing, missing
