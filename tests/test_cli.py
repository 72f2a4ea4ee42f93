"""The command line: version, help for every subcommand, start-up cost, segment's output."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SEED_FILES
from honbun import __version__
from honbun.cli import build_parser, main

SUBCOMMANDS = [
    ["segment"],
    ["train"],
    ["score"],
    ["evaluate"],
    ["runs"],
    ["promote"],
    ["serve"],
    ["score-spark"],
    ["data"],
    ["data", "init"],
    ["data", "init-articles"],
    ["data", "sample-livedoor"],
    ["data", "export"],
    ["data", "import"],
    ["data", "agree"],
    ["data", "validate"],
    ["data", "migrate"],
    ["data", "stats"],
    ["data", "suggest"],
]


def _console_script() -> list[str]:
    script = Path(sys.executable).parent / "honbun"
    return [str(script)] if script.exists() else [sys.executable, "-m", "honbun.cli"]


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"honbun {__version__}"


def test_help(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("segment", "train", "score", "evaluate", "runs", "promote", "data"):
        assert name in out


def test_every_subcommand_is_covered_here() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted({c[0] for c in SUBCOMMANDS})
    data = next(a for a in sub.choices["data"]._actions if a.dest == "data_command")
    assert sorted(data.choices) == sorted(c[1] for c in SUBCOMMANDS if len(c) == 2)


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=" ".join)
def test_subcommand_help(command: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: honbun {' '.join(command)}")


def test_no_command_prints_help_and_fails(capsys) -> None:
    assert main([]) == 2
    assert "usage: honbun" in capsys.readouterr().out


def test_help_starts_fast() -> None:
    cmd = [*_console_script(), "--help"]
    subprocess.run(cmd, check=True, capture_output=True)  # warm the OS file cache
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        times.append(time.perf_counter() - t0)
        assert proc.returncode == 0 and "usage: honbun" in proc.stdout
    best = min(times)
    print(f"honbun --help start-up: {best:.3f} s (best of 3; target < 0.5 s)")
    assert best < 1.5


def test_cli_import_is_light() -> None:
    code = (
        "import sys, honbun.cli; honbun.cli.build_parser(); "
        "print('sklearn' in sys.modules, 'mlflow' in sys.modules, 'fugashi' in sys.modules, "
        "'lxml' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "False", "False", "False"]


def _check_segment_record(rec: dict, source_text: str | None = None) -> None:
    assert set(rec) == {"doc_id", "source", "format", "meta", "blocks", "sentences"}
    assert isinstance(rec["doc_id"], str) and isinstance(rec["source"], str)
    assert rec["format"] in {"text", "html", "livedoor"}
    assert isinstance(rec["meta"], dict) and "encoding" in rec["meta"]
    blocks = rec["blocks"]
    assert blocks
    for i, b in enumerate(blocks):
        assert {"index", "text", "start", "end", "kind"} <= set(b)
        assert b["index"] == i
        assert isinstance(b["text"], str) and b["text"]
        assert b["end"] - b["start"] == len(b["text"])
        if i:
            assert b["start"] > blocks[i - 1]["end"]
    covered = {i: "" for i in range(len(blocks))}
    for s in rec["sentences"]:
        assert set(s) == {"block", "start", "end", "text"}
        b = blocks[s["block"]]
        assert b["start"] <= s["start"] < s["end"] <= b["end"]
        assert b["text"][s["start"] - b["start"] : s["end"] - b["start"]] == s["text"]
        covered[s["block"]] += s["text"]
    # Sentences cover each block's text (apart from the spaces between them).
    for i, b in enumerate(blocks):
        assert covered[i].replace(" ", "").replace("\u3000", "") == b["text"].replace(
            " ", ""
        ).replace("\u3000", "")


def test_segment_seeds_output_schema(cli) -> None:
    rc, out, err = cli("segment", *map(str, SEED_FILES))
    assert (rc, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == len(SEED_FILES)
    for rec, path in zip(records, SEED_FILES, strict=True):
        assert rec["doc_id"] == path.stem
        assert rec["source"] == str(path)
        assert rec["format"] == "text"
        _check_segment_record(rec)
        lines = [x.strip() for x in path.read_text("utf-8").split("\n") if x.strip()]
        assert [b["text"] for b in rec["blocks"]] == lines
        assert all({"gap_before", "gap_after"} <= set(b) for b in rec["blocks"])
        assert len(rec["sentences"]) > len(rec["blocks"]) // 2


def test_segment_html_has_dom(cli, tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text(
        "<html><body><nav><a href=/>ホーム</a></nav><p>本文。二文目。</p></body></html>"
    )
    rc, out, _ = cli("segment", str(page))
    assert rc == 0
    (rec,) = [json.loads(line) for line in out.splitlines()]
    _check_segment_record(rec)
    assert rec["blocks"][0]["dom"]["regions"] == ["nav"]
    assert rec["blocks"][0]["dom"]["link_ratio"] == 1.0
    assert [s["text"] for s in rec["sentences"]] == ["ホーム", "本文。", "二文目。"]


def test_segment_no_sentences(cli) -> None:
    rc, out, _ = cli("segment", "--no-sentences", str(SEED_FILES[0]))
    assert rc == 0
    assert "sentences" not in json.loads(out)


def test_segment_reads_stdin(cli, monkeypatch) -> None:
    data = "一文目。二文目。\n\n次の行\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    rc, out, err = cli("segment", "-")
    assert (rc, err) == (0, "")
    (rec,) = [json.loads(line) for line in out.splitlines()]
    _check_segment_record(rec)
    assert (rec["doc_id"], rec["source"], rec["format"]) == ("stdin", "-", "text")
    assert [b["text"] for b in rec["blocks"]] == ["一文目。二文目。", "次の行"]
    assert [s["text"] for s in rec["sentences"]] == ["一文目。", "二文目。", "次の行"]


def test_segment_stdin_html_in_shift_jis(cli, monkeypatch) -> None:
    data = '<html><head><meta charset="Shift_JIS"></head><body><p>髙橋①です。</p></body></html>'
    raw = data.encode("cp932")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    rc, out, _ = cli("segment", "-")
    assert rc == 0
    rec = json.loads(out)
    assert rec["format"] == "html"
    assert rec["blocks"][0]["text"] == "髙橋①です。"
    assert rec["meta"]["encoding"] == "cp932"


def test_segment_output_is_utf8_json_not_escaped(cli) -> None:
    rc, out, _ = cli("segment", str(SEED_FILES[0]))
    assert rc == 0
    assert "\\u" not in out.splitlines()[0][:2000]


def test_segment_subprocess_end_to_end(tmp_path: Path) -> None:
    """The installed entry point, with a real pipe: stdout is JSON Lines, exit status 1."""
    proc = subprocess.run(
        [*_console_script(), "segment", str(SEED_FILES[0]), str(tmp_path / "nope.txt"), "-"],
        input="標準入力の文。".encode(),
        capture_output=True,
        cwd=REPO,
    )
    assert proc.returncode == 1
    docs = [json.loads(line)["doc_id"] for line in proc.stdout.decode().splitlines()]
    assert docs == [SEED_FILES[0].stem, "stdin"]
    assert proc.stderr.decode().splitlines() == [
        f"honbun: error: {tmp_path / 'nope.txt'}: no such file",
        "honbun: 1 input(s) failed",
    ]


def test_sigterm_stops_a_command_cleanly(tmp_path: Path) -> None:
    """SIGTERM unwinds like Ctrl-C: exit 143, one line, and no half-written output left."""
    import signal
    import time

    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(  # the seed is written to a temp file, then stdin blocks
        [*_console_script(), "segment", str(SEED_FILES[0]), "-", "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".out.jsonl.*.tmp")):  # the handler is set by then
            assert time.monotonic() < deadline, "no temp file appeared"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 143
    assert err.decode().splitlines() == ["honbun: terminated"]
    assert list(tmp_path.iterdir()) == []  # neither the temp file nor out.jsonl
