"""Annotation tools: ``honbun data validate / stats / export / import`` on real and corrupted data."""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

import pytest

import honbun.gold.store
import honbun.read.files
from conftest import DATA, REPO, cached_load_page
from honbun.gold.stats import stats
from honbun.gold.store import iter_annotation_files, read_doc, sha256_file
from honbun.labels import load_labels

SEED_DOC = "000_8bf9058727bca4c6"
SEED_ANN = Path("data/annotations/seeds") / f"{SEED_DOC}.jsonl"


# --------------------------------------------------------------------------- helpers


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def write_records(path: Path, recs: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")


def line_of(path: Path, pred) -> int:
    """1-based line number of the first record matching ``pred``."""
    for n, rec in enumerate(records(path), 1):
        if pred(rec):
            return n
    raise AssertionError("no such record")


def block_labels(path: Path) -> dict[int, tuple[str, str]]:
    return {b.index: (b.label, b.role) for b in read_doc(path).blocks.values()}


def tsv_rows(path: Path) -> list[list[str]]:
    return [
        x.split("\t") for x in path.read_text("utf-8").splitlines() if x and not x.startswith("#")
    ]


def write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text("\n".join(header + ["\t".join(r) for r in rows]) + "\n", "utf-8")


def tsv_header(path: Path) -> list[str]:
    return [x for x in path.read_text("utf-8").splitlines() if x.startswith("#")]


# --------------------------------------------------------------------------- validate


def test_validate_passes_on_all_shipped_annotations(cli, monkeypatch) -> None:
    """The regression test: every shipped annotation matches today's segmentation."""
    monkeypatch.chdir(REPO)
    # The 349 livedoor files all point into one 8.7 MB tarball; hash it once, not 349 times.
    monkeypatch.setattr(honbun.gold.store, "sha256_file", functools.lru_cache(sha256_file))
    # The development pages are parsed once per session (shared with test_loaders).
    monkeypatch.setattr(honbun.read.files, "load_page", cached_load_page)
    files = iter_annotation_files()
    assert len(files) > 400
    rc, _, err = cli("data", "validate")
    assert err.splitlines() == [f"{len(files)} annotation files, 0 with errors"], err[:3000]
    assert rc == 0


def test_validate_passes_on_the_seed_copy(cli, mini_repo) -> None:
    rc, _, err = cli("data", "validate")
    assert (rc, err) == (0, "2 annotation files, 0 with errors\n")


def _corrupt_lines(path: Path, edit) -> None:
    lines = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), "utf-8")


@pytest.mark.parametrize(
    ("name", "edit", "line", "message"),
    [
        (
            "broken-json",
            lambda ls: [*ls[:4], '{"type": "block", "index": \n', *ls[5:]],
            5,
            "invalid JSON",
        ),
        ("missing-header", lambda ls: ls[1:], 1, "the first record must be the doc header"),
        ("duplicate-block", lambda ls: [*ls[:4], ls[3], *ls[4:]], 5, "duplicate block 2"),
        (
            "unknown-type",
            lambda ls: [*ls[:2], '{"type": "para"}\n', *ls[2:]],
            3,
            "unknown record type",
        ),
        (
            "missing-field",
            lambda ls: [*ls[:2], '{"type": "block", "index": 99}\n', *ls[2:]],
            3,
            "fields wrong",
        ),
    ],
)
def test_validate_reports_schema_errors_with_file_and_line(
    cli, mini_repo, name, edit, line, message
) -> None:
    bad = mini_repo / "bad.jsonl"
    bad.write_text((mini_repo / SEED_ANN).read_text("utf-8"), "utf-8")
    _corrupt_lines(bad, edit)
    rc, _, err = cli("data", "validate", str(bad))
    assert rc == 1
    first, summary = err.splitlines()
    assert first.startswith(f"honbun: error: {bad}:{line}: "), first
    assert message in first
    assert summary == "1 annotation files, 1 with errors"


def _edit_block(index: int, **changes):
    def edit(recs: list[dict]) -> None:
        for r in recs:
            if r["type"] == "block" and r["index"] == index:
                r.update(changes)

    return edit


def _edit_sentence(recs: list[dict]) -> None:
    sent = next(r for r in recs if r["type"] == "sentence" and r["topics"])
    sent["topics"] = [*sent["topics"], "weather"]


SEMANTIC_CASES = [
    ("unknown-role", _edit_block(0, role="menu"), "block 0: unknown role 'menu'"),
    (
        "role-label-mismatch",
        _edit_block(0, label="body"),
        "block 0: role 'navigation' implies 'boilerplate', not 'body'",
    ),
    (
        "changed-hash",
        _edit_block(3, hash="0123456789abcdef"),
        "block 3 changed (offsets or text hash differ)",
    ),
    (
        "changed-offsets",
        _edit_block(3, start=48, end=68),
        "block 3 changed (offsets or text hash differ)",
    ),
    ("unknown-topic", _edit_sentence, "unknown topics ['weather']"),
]


@pytest.mark.parametrize(
    ("name", "edit", "message"), SEMANTIC_CASES, ids=[c[0] for c in SEMANTIC_CASES]
)
def test_validate_reports_label_errors(cli, mini_repo, name, edit, message) -> None:
    bad = mini_repo / "data" / "annotations" / "seeds" / f"{SEED_DOC}.jsonl"
    recs = records(bad)
    edit(recs)
    write_records(bad, recs)
    rc, _, err = cli("data", "validate", str(bad))
    assert rc == 1
    lines = err.splitlines()
    assert lines[-1] == "1 annotation files, 1 with errors"
    assert any(x.startswith(f"honbun: error: {bad}") and message in x for x in lines[:-1]), err


def test_validate_label_errors_name_the_line(cli, mini_repo) -> None:
    bad = mini_repo / SEED_ANN
    recs = records(bad)
    _edit_block(0, role="menu")(recs)
    write_records(bad, recs)
    line = line_of(bad, lambda r: r["type"] == "block" and r["index"] == 0)
    _, _, err = cli("data", "validate", str(bad))
    assert f"{bad}:{line}: " in err


def test_validate_reports_a_wrongly_typed_field(cli, mini_repo) -> None:
    bad = mini_repo / SEED_ANN
    recs = records(bad)
    _edit_block(3, start="3")(recs)
    write_records(bad, recs)
    rc, _, err = cli("data", "validate", str(bad))
    assert rc == 1
    assert f"{bad}:" in err


def test_validate_detects_a_changed_page_file(cli, mini_repo) -> None:
    seed = mini_repo / "seeds" / f"{SEED_DOC}.txt"
    seed.write_text(seed.read_text("utf-8") + "追記された行\n", "utf-8")
    rc, _, err = cli("data", "validate", str(SEED_ANN))
    assert rc == 1
    assert f"{SEED_ANN}: seeds/{SEED_DOC}.txt changed since it was annotated (sha256)" in err


def test_validate_detects_changed_segmentation(cli, mini_repo) -> None:
    ann = mini_repo / SEED_ANN
    recs = records(ann)
    recs[0]["sha256"] = None  # skip the file check to reach the segmentation check
    recs[0]["n_blocks"] += 1
    write_records(ann, recs)
    rc, _, err = cli("data", "validate", str(SEED_ANN))
    assert rc == 1
    assert "segmentation changed: 115 blocks now, 116 when annotated" in err


def test_validate_detects_duplicate_doc_ids(cli, mini_repo) -> None:
    copy = mini_repo / "data" / "annotations" / "seeds" / "copy.jsonl"
    copy.write_text((mini_repo / SEED_ANN).read_text("utf-8"), "utf-8")
    rc, _, err = cli("data", "validate")
    assert rc == 1
    assert f"doc_id {SEED_DOC} also in" in err
    assert err.splitlines()[-1] == "3 annotation files, 1 with errors"


def test_validate_keeps_going_after_a_bad_file(cli, mini_repo) -> None:
    bad = mini_repo / "bad.jsonl"
    bad.write_text("not json\n", "utf-8")
    good = [str(p) for p in sorted((mini_repo / "data" / "annotations").rglob("*.jsonl"))]
    rc, _, err = cli("data", "validate", str(bad), *good)
    assert rc == 1
    assert err.splitlines() == [
        f"honbun: error: {bad}:1: invalid JSON: Expecting value",
        "3 annotation files, 1 with errors",
    ]


# --------------------------------------------------------------------------- stats


def _count_records(files: list[Path]) -> Counter[str]:
    c: Counter[str] = Counter()
    for f in files:
        for line in f.read_text("utf-8").splitlines():
            if line.strip():
                c[json.loads(line)["type"]] += 1
    return c


def _check_stats_add_up(st: dict, counts: Counter[str], n_files: int) -> None:
    n_blocks = counts["block"]
    assert n_blocks > 0
    assert sum(st["blocks_by_label"].values()) == n_blocks
    assert sum(st["blocks_by_role"].values()) == n_blocks
    assert sum(st["blocks_by_source"].values()) == n_blocks
    assert sum(st["blocks_by_publisher"].values()) == n_blocks
    assert st["sentences"] == counts["sentence"]
    assert sum(st["documents"].values()) == counts["doc"] == n_files
    labels = load_labels(DATA / "labels.toml")
    assert set(st["blocks_by_label"]) <= set(labels.block_labels)
    assert set(st["blocks_by_role"]) <= set(labels.roles)
    by_label_from_roles: Counter[str] = Counter()
    for role, n in st["blocks_by_role"].items():
        by_label_from_roles[labels.roles[role]] += n
    assert by_label_from_roles == Counter(st["blocks_by_label"])
    by_label_from_sources: Counter[str] = Counter()
    for key, n in st["blocks_by_source"].items():
        by_label_from_sources[key.rsplit("\t", 1)[1]] += n
    assert by_label_from_sources == Counter(st["blocks_by_label"])
    assert set(st["sentences_by_topic"]) <= {*labels.topic_names, "(none)"}


def test_stats_add_up_on_the_shipped_annotations() -> None:
    files = iter_annotation_files(DATA / "annotations")
    st = stats(load_labels(DATA / "labels.toml"), files)
    _check_stats_add_up(st, _count_records(files), len(files))


def test_stats_cli_json(cli, mini_repo) -> None:
    rc, out, _ = cli("data", "stats", "--json")
    assert rc == 0
    files = iter_annotation_files()
    _check_stats_add_up(json.loads(out), _count_records(files), len(files))


def test_stats_cli_text(cli, mini_repo) -> None:
    rc, out, _ = cli("data", "stats")
    assert rc == 0
    assert "## blocks_by_label" in out and "## sentences: " in out


# --------------------------------------------------------------------------- export / import


@pytest.fixture
def exported(cli, mini_repo) -> Path:
    tsv = mini_repo / "blocks.tsv"
    rc, out, _ = cli("data", "export", str(SEED_ANN), "-o", str(tsv))
    assert (rc, out) == (0, "")
    return tsv


def test_export_blocks_tsv(exported: Path, mini_repo) -> None:
    header = tsv_header(exported)
    assert header[:4] == [
        f"# annotation: {SEED_ANN}",
        "# what: blocks",
        f"# doc_id: {SEED_DOC}",
        f"# source: seeds/{SEED_DOC}.txt",
    ]
    rows = tsv_rows(exported)
    labels = block_labels(mini_repo / SEED_ANN)
    assert len(rows) == len(labels) == 115
    for idx, label, role, text in rows:
        assert labels[int(idx)] == (label, role)
        assert text
    lines = [
        x.strip() for x in (mini_repo / "seeds" / f"{SEED_DOC}.txt").read_text("utf-8").split("\n")
    ]
    assert [r[3] for r in rows] == [x for x in lines if x]


def test_export_to_stdout(cli, mini_repo) -> None:
    rc, out, _ = cli("data", "export", SEED_DOC)  # a doc id works as well as a path
    assert rc == 0
    assert out.startswith(f"# annotation: {SEED_ANN}\n# what: blocks\n")


def test_export_import_round_trip_changes_nothing(cli, exported: Path, mini_repo) -> None:
    ann = mini_repo / SEED_ANN
    before = ann.read_bytes()
    rc, _, err = cli("data", "import", str(exported))
    assert rc == 0, err
    assert f"imported {exported}: 1 document(s)" in err
    assert ann.read_bytes() == before
    assert sorted(p.name for p in ann.parent.iterdir()) == sorted(
        p.name for p in (REPO / "data" / "annotations" / "seeds").iterdir()
    )  # no temp file left


def test_import_changes_exactly_the_edited_rows(cli, exported: Path, mini_repo) -> None:
    ann = mini_repo / SEED_ANN
    before = block_labels(ann)
    header, rows = tsv_header(exported), tsv_rows(exported)
    assert rows[0][1:3] == ["boilerplate", "navigation"]
    assert rows[4][1:3] == ["boilerplate", "caption"]
    rows[0][1:3] = ["boilerplate", "other"]
    rows[4][1:3] = ["body", "paragraph"]
    write_tsv(exported, header, rows)
    rc, _, err = cli("data", "import", str(exported), "--reviewer", "tester", "--notes", "fixed 2")
    assert rc == 0, err
    after = block_labels(ann)
    changed = {i for i in before if before[i] != after[i]}
    assert changed == {0, 4}
    assert after[0] == ("boilerplate", "other") and after[4] == ("body", "paragraph")
    header_rec = records(ann)[0]
    assert header_rec["review"]["status"] == "reviewed"
    assert header_rec["review"]["reviewer"] == "tester"
    assert header_rec["review"]["notes"] == "fixed 2"
    # Sentence records are untouched and the file still validates.
    assert [r for r in records(ann) if r["type"] == "sentence"] == [
        r for r in records(REPO / SEED_ANN) if r["type"] == "sentence"
    ]
    assert cli("data", "validate", str(SEED_ANN))[0] == 0


def test_import_of_a_partial_tsv_keeps_the_other_rows(cli, exported: Path, mini_repo) -> None:
    ann = mini_repo / SEED_ANN
    before = block_labels(ann)
    header, rows = tsv_header(exported), tsv_rows(exported)
    rows = [rows[1]]
    rows[0][1:3] = ["boilerplate", "navigation"]
    write_tsv(exported, header, rows)
    assert cli("data", "import", str(exported))[0] == 0
    after = block_labels(ann)
    assert after == {**before, 1: ("boilerplate", "navigation")}


def _edit_row(index: int, col: int, value: str):
    def edit(rows: list[list[str]]) -> None:
        rows[index][col] = value

    return edit


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        (
            "edited-text",
            _edit_row(6, 3, "書き換えた本文。"),
            "text differs from block 6; re-export the page",
        ),
        ("bad-role", _edit_row(0, 2, "menu"), "unknown role 'menu'"),
        (
            "role-label-mismatch",
            _edit_row(2, 1, "boilerplate"),
            "role 'title' implies 'body', not 'boilerplate'",
        ),
        ("no-such-block", _edit_row(0, 0, "999"), "no block 999"),
    ],
)
def test_import_refuses_bad_rows_and_writes_nothing(
    cli, exported: Path, mini_repo, name, edit, message
) -> None:
    ann = mini_repo / SEED_ANN
    before = ann.read_bytes()
    header, rows = tsv_header(exported), tsv_rows(exported)
    rows[1][1:3] = ["boilerplate", "other"]  # a valid edit that must not be applied either
    edit(rows)
    write_tsv(exported, header, rows)
    rc, _, err = cli("data", "import", str(exported), "--reviewer", "tester")
    assert rc == 1
    assert message in err
    assert f"honbun: nothing imported from {exported} (1 errors)" in err
    assert ann.read_bytes() == before


def test_import_error_names_the_tsv_line(cli, exported: Path, mini_repo) -> None:
    header, rows = tsv_header(exported), tsv_rows(exported)
    rows[0][2] = "menu"
    write_tsv(exported, header, rows)
    _, _, err = cli("data", "import", str(exported))
    assert f"honbun: error: {exported}:{len(header) + 1}: unknown role 'menu'" in err


@pytest.fixture
def exported_topics(cli, mini_repo) -> Path:
    tsv = mini_repo / "topics.tsv"
    rc, _, _ = cli("data", "export", "--what", "topics", SEED_DOC, "-o", str(tsv))
    assert rc == 0
    return tsv


def test_topic_export_import_round_trip(cli, exported_topics: Path, mini_repo) -> None:
    ann = mini_repo / SEED_ANN
    before = ann.read_bytes()
    rows = tsv_rows(exported_topics)
    sentences = {(r.start, r.end): r.topics for r in read_doc(ann).sentences.values()}
    assert len(rows) == len(sentences)
    for doc_id, _blk, start, end, topics, _text in rows:
        assert doc_id == SEED_DOC
        assert sorted(filter(None, topics.split(","))) == sentences[(int(start), int(end))]
    rc, _, err = cli("data", "import", str(exported_topics))
    assert rc == 0, err
    assert ann.read_bytes() == before


def test_topic_import_changes_the_edited_sentence(cli, exported_topics: Path, mini_repo) -> None:
    ann = mini_repo / SEED_ANN
    header, rows = tsv_header(exported_topics), tsv_rows(exported_topics)
    target = next(r for r in rows if r[4] == "deployment")
    target[4] = "deployment,sanctions"
    write_tsv(exported_topics, header, rows)
    before = {k: s.topics for k, s in read_doc(ann).sentences.items()}
    assert cli("data", "import", str(exported_topics))[0] == 0
    after = {k: s.topics for k, s in read_doc(ann).sentences.items()}
    key = (int(target[2]), int(target[3]))
    assert after[key] == ["deployment", "sanctions"]
    assert {k for k in before if before[k] != after[k]} == {key}


@pytest.mark.parametrize(
    ("name", "column", "value", "message"),
    [
        ("unknown-topic", 4, "deployment,weather", "unknown topics ['weather']"),
        ("edited-text", 5, "書き換えた文。", "not a current sentence of the page; re-export it"),
    ],
)
def test_topic_import_refuses_and_writes_nothing(
    cli, exported_topics, mini_repo, name, column, value, message
) -> None:
    ann = mini_repo / SEED_ANN
    before = ann.read_bytes()
    header, rows = tsv_header(exported_topics), tsv_rows(exported_topics)
    rows[0][4] = ""  # a valid edit that must not be applied either
    rows[1][column] = value
    write_tsv(exported_topics, header, rows)
    rc, _, err = cli("data", "import", str(exported_topics))
    assert rc == 1
    assert message in err
    assert "nothing imported" in err
    assert ann.read_bytes() == before


def test_import_without_a_header_is_refused(cli, mini_repo) -> None:
    tsv = mini_repo / "plain.tsv"
    tsv.write_text("0\tboilerplate\tother\t最新記事\n", "utf-8")
    rc, _, err = cli("data", "import", str(tsv))
    assert rc == 1
    assert "no '# what:' header" in err


# --------------------------------------------------------------------------- agreement


@pytest.fixture
def blank(cli, mini_repo) -> Path:
    tsv = mini_repo / "second.tsv"
    assert cli("data", "export", "--blank", SEED_DOC, "-o", str(tsv))[0] == 0
    return tsv


def test_blank_export_hides_the_gold(blank: Path) -> None:
    rows = tsv_rows(blank)
    assert len(rows) == 115
    assert {(r[1], r[2]) for r in rows} == {("", "")}
    assert tsv_header(blank)[0] == f"# annotation: {SEED_ANN}"


def test_agree_scores_a_second_annotation(cli, blank: Path, mini_repo) -> None:
    gold = block_labels(mini_repo / SEED_ANN)
    header, rows = tsv_header(blank), tsv_rows(blank)
    for r in rows:
        r[1:3] = gold[int(r[0])]
    body = [i for i, (label, _) in gold.items() if label == "body"]
    rows[body[-1]][1:3] = ["boilerplate", "related-links"]  # a label disagreement
    assert rows[0][1:3] == ["boilerplate", "navigation"]
    rows[0][1:3] = ["boilerplate", "other"]  # a role-only disagreement
    write_tsv(blank, header, rows)
    # A sheet with a block left out is reported by name and skipped; the other is scored.
    partial = mini_repo / "partial.tsv"
    write_tsv(partial, header, rows[:-1])
    rc, out, err = cli("data", "agree", str(partial), str(blank))
    assert rc == 1
    assert f"honbun: error: {partial}: the second annotation leaves 1 of 115 blocks out" in err
    n_body = len(body)
    assert f"| {SEED_DOC} | 115 | {n_body} | {n_body - 1} | 1 | " in out
    assert f"same role {113 / 115:.3f}" in out
    assert f"- {SEED_DOC} block {body[-1]}: gold paragraph, second related-links" in out
    assert "Cohen's kappa 1.000" not in out


def test_agree_refuses_an_unfilled_sheet(cli, blank: Path) -> None:
    rc, out, err = cli("data", "agree", str(blank))
    assert rc == 1
    assert f"honbun: error: {blank}:" in err and "unknown role ''" in err
    assert out == ""  # no table, no summary


def test_cohen_kappa_matches_scikit_learn() -> None:
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    from honbun.gold.agreement import cohen_kappa

    rng = np.random.default_rng(13)
    for _ in range(5):
        a = rng.integers(0, 2, 200)
        b = np.where(rng.random(200) < 0.8, a, 1 - a)
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa(np.ones(4, int), np.ones(4, int)) == 1.0
