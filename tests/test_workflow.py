"""The training workflow end to end on a tiny config: train, save, score, track, compare,
promote, reproduce. One tracked training (plus a re-run and a variant) per session."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest

from honbun.experiment.config import load_experiment

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests/fixtures/tiny.toml"
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))

pytestmark = pytest.mark.slow


def test_training_writes_model_card_report_and_metrics(trained: dict) -> None:
    model_dir = Path(trained["first"]["model"])
    for name in ("model.joblib", "card.json", "card.md", "config.toml"):
        assert (model_dir / name).is_file(), name
    leftovers = [p for p in model_dir.parent.iterdir() if p.name.startswith(".")]
    assert [p.name for p in leftovers] == [".tiny.lock"]  # no temp dirs; the lock stays
    card = json.loads((model_dir / "card.json").read_text())
    assert card["labels"]["topics"] == ["deployment", "alliance", "sanctions", "training"]
    assert card["versions"]["dictionary"] == "unidic-lite"
    assert len(card["data"]["sha256"]) == 64
    # Fitting each final model on all pages is timed (the 2-minute budget).
    assert card["timings"]["boilerplate_fit_s"] > 0
    assert card["timings"]["text_model_fit_s"] > 0
    run_dir = Path(trained["first"]["run_dir"])
    assert not any(p.name.endswith(".partial") for p in run_dir.parent.iterdir())
    for name in ("config.toml", "metrics.json", "data_manifest.json", "boilerplate_comparison.md",
                 "boilerplate_errors.jsonl", "boilerplate_pr.png", "topics_report.md",
                 "topics_pr.png", "topics_learning_curve.png"):  # fmt: skip
        assert (run_dir / name).is_file(), name
    manifest = json.loads((run_dir / "data_manifest.json").read_text())
    assert any(m["path"].startswith("seeds/") for m in manifest)
    assert all(len(m["sha256"]) == 64 for m in manifest)
    m = trained["first"]["metrics"]
    for key in ("boilerplate_char3_f1", "boilerplate_block_f1", "topics.macro_f1",
                "topics.lexicon_macro_f1", "bp.rule.char3_f1_macro"):  # fmt: skip
        assert 0.0 <= m[key] <= 1.0, key
    table = (run_dir / "boilerplate_comparison.md").read_text()
    assert "honbun-stacked" in table and "all-body" in table and "rule" in table


def test_same_config_and_data_give_identical_metrics_and_predictions(trained: dict) -> None:
    import honbun

    a, b = trained["first"], trained["again"]
    assert a["metrics"] == b["metrics"]
    assert a["data_sha256"] == b["data_sha256"]
    ma, mb = honbun.load_model(a["model"]), honbun.load_model(b["model"])
    for seed in SEEDS:
        assert ma.score(seed) == mb.score(seed)


def test_score_result_schema_and_clean_seed_articles(model) -> None:
    import jsonschema

    from honbun.scoring.results import RESULT_SCHEMA

    res = model.score(SEEDS[0])
    jsonschema.validate(res, RESULT_SCHEMA)
    assert res["body_text"].splitlines()[0] == res["title"]
    assert res["title"].startswith("北朝鮮派兵、NATOが確認")
    body = res["body_text"]
    for chrome in (
        "人気ランキング",
        "メールマガジン",
        "ニューズウィーク日本版メンバーシップ登録",
        "最新記事",
    ):
        assert chrome not in body
    assert "ルッテ事務総長は28日" in body
    for b in res["blocks"]:
        assert res["body_text"].count(b["text"]) >= (1 if b["label"] == "body" else 0)
        assert (b["role"] in ("title", "subheading", "lead", "paragraph")) == (b["label"] == "body")
    # sentences are body-only and carry a probability for every topic
    body_blocks = {b["index"] for b in res["blocks"] if b["label"] == "body"}
    assert res["sentences"] and all(s["block"] in body_blocks for s in res["sentences"])
    assert all(
        set(s["topics"]) == {"deployment", "alliance", "sanctions", "training"}
        for s in res["sentences"]
    )
    assert "deployment" in res["labels"]


def test_explain_names_terms_behind_labels(model) -> None:
    res = model.score(SEEDS[0], explain=True)
    tagged = [s for s in res["sentences"] if s["labels"]]
    assert tagged
    for s in tagged:
        assert set(s["explanation"]) == set(s["labels"])
    assert any(terms for s in tagged for terms in s["explanation"].values())


def test_score_many_in_parallel_keeps_order_and_equals_sequential(model, tmp_path: Path) -> None:
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    pages = [*SEEDS, str(bad), ROOT / "data/raw/pages/htmldate-ja/article.auone.jp-tax.html"]
    seq = list(model.score_many(pages, jobs=1))
    par = list(model.score_many(pages, jobs=2))
    assert seq == par
    assert [r["source"] for r in par] == [str(p) for p in pages]
    assert "error" in par[2] and "empty" in par[2]["error"]
    # chunks are scored together, yet each page gets what scoring it alone gives
    alone = [model.score(p) for k, p in enumerate(pages) if k != 2]
    assert [r for k, r in enumerate(seq) if k != 2] == alone


def test_score_with_site_context_counts_each_sites_pages(
    trained: dict, model, tmp_path: Path, capsys, monkeypatch
) -> None:
    from honbun.boilerplate.export import BlockScorer
    from honbun.cli import main

    raw = (ROOT / "data/raw/pages/htmldate-ja/article.auone.jp-tax.html").read_bytes()
    pages = []
    for k in range(3):  # one page of a site, twice; and the same page on another site
        host = b"other.example.jp" if k == 2 else b"news.example.jp"
        canonical = b"<link rel='canonical' href='https://" + host + b"/%d'>" % k
        path = tmp_path / f"p{k}.html"
        path.write_bytes(raw.replace(b"<head>", b"<head>" + canonical, 1))
        pages.append(path)
    alone = model.score(pages[2])
    missing = tmp_path / "missing.html"
    inputs = [*pages, missing]
    ctx_model = model.with_site_context(inputs)
    assert ctx_model.context.pages == {"news.example.jp": 2, "other.example.jp": 1}
    want = list(ctx_model.score_many(inputs))
    # From here on, a block model run without the context fails its pages: the worker
    # processes (forked, so they inherit this patch) must get the context too.
    original = BlockScorer.predict_proba

    def needs_context(self, pages, alone=False, context=None):
        assert context is not None and context.pages["news.example.jp"] == 2
        return original(self, pages, alone, context)

    monkeypatch.setattr(BlockScorer, "predict_proba", needs_context)
    out = tmp_path / "out.jsonl"
    args = ["score", *map(str, inputs), "--model", trained["first"]["model"], "-o", str(out)]
    assert main([*args, "--site-context", "--jobs", "2"]) == 1  # the missing page fails alone
    assert f"{missing}" in capsys.readouterr().err
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert got == want
    assert ["error" in r for r in got] == [False, False, False, True]
    # Copies on one site score alike; a page alone on its site scores as it does alone.
    assert got[0]["blocks"] == got[1]["blocks"] and got[2]["blocks"] == alone["blocks"]


def test_a_page_that_fails_in_the_models_step_fails_alone(model, monkeypatch) -> None:
    real = type(model).score_prepared

    def failing(self, prepared, explain=False):
        if any(p.page.source == str(SEEDS[1]) for p in prepared):
            raise RuntimeError("model step failed")
        return real(self, prepared, explain)

    monkeypatch.setattr(type(model), "score_prepared", failing)
    out = list(model.score_many([SEEDS[0], SEEDS[1], SEEDS[0]], jobs=1))
    assert "error" in out[1] and "model step failed" in out[1]["error"]
    assert out[1]["source"] == str(SEEDS[1])
    assert "error" not in out[0] and out[0] == out[2]


def test_score_cli_streams_jsonl_text_markdown_and_errors(
    trained: dict, tmp_path: Path, capsys
) -> None:
    from honbun.cli import main

    model_dir = trained["first"]["model"]
    out = tmp_path / "out.jsonl"
    missing = tmp_path / "missing.html"
    rc = main(
        [
            "score",
            *map(str, SEEDS),
            str(missing),
            "--model",
            model_dir,
            "-o",
            str(out),
            "--jobs",
            "2",
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert f"{missing}" in err and "1 input(s) failed" in err
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["source"] for r in rows] == [*map(str, SEEDS), str(missing)]
    assert "error" in rows[-1]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    for fmt, marker in (("text", "=== "), ("markdown", "# 北朝鮮派兵")):
        assert main(["score", str(SEEDS[0]), "--model", model_dir, "--format", fmt]) == 0
        assert marker in capsys.readouterr().out


def test_bundle_refuses_other_labels_and_versions(trained: dict, tmp_path: Path) -> None:
    from honbun.labels import load_labels
    from honbun.scoring.bundle import ModelLoadError, load_bundle

    src = Path(trained["first"]["model"])
    labels = tmp_path / "labels.toml"
    text = (ROOT / "data/labels.toml").read_text("utf-8")
    labels.write_text(text + '\n[topics.cyber]\ndescription = "cyber attacks"\n', encoding="utf-8")
    with pytest.raises(ModelLoadError, match="different label config"):
        load_bundle(src, load_labels(labels))
    copy = tmp_path / "old"
    shutil.copytree(src, copy)
    card = json.loads((copy / "card.json").read_text())
    card["versions"]["scikit-learn"] = "0.24.2"
    (copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match=r"scikit-learn 0\.24\.2"):
        load_bundle(copy)


def test_interrupted_save_keeps_the_previous_model(
    trained: dict, tmp_path: Path, monkeypatch
) -> None:
    import joblib

    from honbun.scoring.bundle import load_bundle

    root = tmp_path / "models"
    shutil.copytree(Path(trained["first"]["model"]), root / "tiny")
    bundle = load_bundle(root / "tiny")
    before = (root / "tiny" / "model.joblib").read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", boom)
    with pytest.raises(KeyboardInterrupt):
        bundle.save(root, "name = 'tiny'\n")
    assert (root / "tiny" / "model.joblib").read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["tiny"]


def test_interrupted_training_leaves_no_run_folder(tmp_path: Path, monkeypatch) -> None:
    from honbun.experiment import train

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train_topics", boom)  # after the boilerplate model
    monkeypatch.setattr(train, "train_boilerplate", lambda *a, **k: {})
    with pytest.raises(KeyboardInterrupt):
        train.run(load_experiment(TINY), tmp_path / "models", tmp_path / "runs", track=False)
    assert list((tmp_path / "runs" / "tiny").iterdir()) == []
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_mlflow_run_has_params_metrics_tags_artifacts_and_registered_model(trained: dict) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    run = client.get_run(trained["first"]["run_id"])
    assert run.data.params["boilerplate.model"] == "stacked"
    assert run.data.params["seed"] == "13"
    assert math.isclose(
        run.data.metrics["boilerplate_char3_f1"],
        trained["first"]["metrics"]["boilerplate_char3_f1"],
    )
    tags = run.data.tags
    assert tags["config_name"] == "tiny" and len(tags["data_sha256"]) == 64
    assert tags["git_dirty"] in ("true", "false") and tags["git_commit"]
    assert tags["version.dictionary"] == "unidic-lite"
    arts = {a.path for a in client.list_artifacts(run.info.run_id, "report")}
    assert {"report/config.toml", "report/data_manifest.json", "report/metrics.json"} <= arts
    versions = client.search_model_versions("name = 'honbun-tiny'")
    assert {v.run_id for v in versions} >= {trained["first"]["run_id"], trained["again"]["run_id"]}
    again = client.get_run(trained["again"]["run_id"])
    assert again.data.tags["data_changed_since_last_run"] == "false"


def test_runs_list_and_compare_show_the_setting_that_differs(trained: dict) -> None:
    from honbun.experiment import tracking

    ids = [r["run_id"] for r in tracking.list_runs(50)]
    assert trained["first"]["run_id"] in ids and trained["other"]["run_id"] in ids
    table = tracking.compare_runs([trained["first"]["run_id"], trained["other"]["run_id"]])
    params = table.split("metrics:")[0]
    assert "| boilerplate.threshold | 0.5 | 0.4 |" in params
    assert "| seed |" not in params
    assert ("boilerplate_char3_f1" in table and "(+" in table) or "(-" in table


def test_promote_sets_champion_and_refuses_a_worse_run(trained: dict) -> None:
    from mlflow.tracking import MlflowClient

    from honbun.experiment import tracking

    first, other = trained["first"], trained["other"]
    m1, m2 = first["metrics"]["boilerplate_char3_f1"], other["metrics"]["boilerplate_char3_f1"]
    better, worse = (first, other) if m1 >= m2 else (other, first)
    assert "now @champion" in tracking.promote(better["run_id"])
    client = MlflowClient()
    assert client.get_model_version_by_alias("honbun-tiny", "champion").run_id == better["run_id"]
    if m1 != m2:
        with pytest.raises(SystemExit, match="refused"):
            tracking.promote(worse["run_id"])
    tracking.promote(worse["run_id"], force=True)
    assert client.get_model_version_by_alias("honbun-tiny", "champion").run_id == worse["run_id"]
    tracking.promote(better["run_id"], force=True)  # leave the better one as champion


def test_model_loads_from_mlflow_uri(trained: dict) -> None:
    import honbun

    m = honbun.load_model(f"runs:/{trained['first']['run_id']}/model")
    assert m.score(SEEDS[1])["title"].startswith("北朝鮮が訓練のため軍人をロシアに派遣")


def _site_copies() -> tuple[list[dict], list]:
    """One page as it would come from two pages of one site and one page of another."""
    from honbun.read.files import page_from_bytes

    raw = (ROOT / "data/raw/pages/htmldate-ja/article.auone.jp-tax.html").read_text("utf-8")
    rows = []
    for k, host in enumerate(["news.example.jp", "news.example.jp", "other.example.jp"]):
        canonical = f"<link rel='canonical' href='https://{host}/{k}'>"
        rows.append({"doc_id": f"p{k}", "format": "html",
                     "content": raw.replace("<head>", "<head>" + canonical, 1)})  # fmt: skip
    pages = [page_from_bytes(r["content"].encode(), r["doc_id"], r["doc_id"], "html") for r in rows]
    return rows, pages


def test_pyfunc_scores_a_request_with_its_site_context(trained: dict, model, monkeypatch) -> None:
    import mlflow.pyfunc
    import pandas as pd

    from honbun.boilerplate.export import BlockScorer

    pyfunc = mlflow.pyfunc.load_model(f"runs:/{trained['first']['run_id']}/model")
    rows, pages = _site_copies()
    frame = pd.DataFrame(rows)
    alone = list(model.score_many(pages))
    together = list(model.with_site_context(pages).score_many(pages))
    # The tiny model saw one page per site, so repetition moves no score of it: record
    # which site context reaches the block model instead.
    seen = []
    original = BlockScorer.predict_proba

    def recording(self, pages, alone=False, context=None):
        seen.append(None if context is None else dict(context.pages))
        return original(self, pages, alone, context)

    monkeypatch.setattr(BlockScorer, "predict_proba", recording)
    assert pyfunc.predict(frame) == alone
    assert seen and all(c is None for c in seen)
    seen.clear()
    assert pyfunc.predict(frame, params={"site_context": True}) == together
    assert seen and all(c == {"news.example.jp": 2, "other.example.jp": 1} for c in seen)


def test_mlflow_serving_answers_invocations_with_the_scoring_json(trained: dict, model) -> None:
    import sys
    import urllib.request

    from conftest import free_port, start_server, stop_server
    from honbun.experiment import tracking
    from honbun.read.files import page_from_bytes

    tracking.promote(trained["first"]["run_id"], force=True)
    port = free_port()
    mlflow_bin = str(Path(sys.executable).parent / "mlflow")
    cmd = [mlflow_bin, "models", "serve", "-m", "models:/honbun-tiny@champion",
           "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    # mlflow starts its server as `bash -c "exec uvicorn ..."`, so the venv's bin must be on
    # PATH even when the venv is not activated (as under `make test` / CI).
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    proc, base = start_server(cmd, port, Path(trained["first"]["run_dir"]) / "serve.log", env)
    try:
        content = SEEDS[0].read_text("utf-8")
        body = {"dataframe_split": {"columns": ["doc_id", "format", "content"],
                                    "data": [["seed0", "text", content], ["bad", "html", ""]]}}  # fmt: skip
        req = urllib.request.Request(
            f"{base}/invocations", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(req, timeout=60) as r:
            answer = json.loads(r.read())
        got = answer["predictions"]
        want = model.score(page_from_bytes(content.encode(), "seed0", "seed0", "text"))
        assert got[0] == json.loads(json.dumps(want))
        assert "error" in got[1]
        # With `"params": {"site_context": true}` the request's pages make a site context.
        rows, pages = _site_copies()
        body = {"dataframe_records": rows, "params": {"site_context": True}}
        req = urllib.request.Request(
            f"{base}/invocations", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(req, timeout=60) as r:
            got = json.loads(r.read())["predictions"]
        want = list(model.with_site_context(pages).score_many(pages))
        assert got == json.loads(json.dumps(want))
    finally:
        stop_server(proc)


def test_pyfunc_gives_error_records_for_rows_that_are_not_pages(trained: dict) -> None:
    import mlflow.pyfunc
    import pandas as pd

    pyfunc = mlflow.pyfunc.load_model(f"runs:/{trained['first']['run_id']}/model")
    text = SEEDS[0].read_text("utf-8")
    rows = [{"doc_id": "null", "format": "text", "content": None},
            {"doc_id": "pdf", "format": "pdf", "content": text},
            {"doc_id": "good", "format": None, "content": text}]  # fmt: skip
    got = pyfunc.predict(pd.DataFrame(rows))
    assert [r["doc_id"] for r in got] == ["null", "pdf", "good"]
    assert got[0]["error"] == "no content (null)"
    assert "unknown format 'pdf'" in got[1]["error"]
    assert "error" not in got[2] and got[2]["title"].startswith("北朝鮮派兵")
    # A number as content (MLflow's schema check lets it through): an error record too.
    numbers = pd.DataFrame([{"doc_id": "n", "format": "text", "content": 42}, rows[2]])
    got = pyfunc.predict(numbers)
    assert "must be text, not int" in got[0]["error"] and "error" not in got[1]
