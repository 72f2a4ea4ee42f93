"""`honbun serve`: MLflow's /invocations protocol, JSON errors, a request size limit
(413) and a time limit that stops the work (504, the worker killed and replaced).

One server (the session's tiny model, 2 workers, a 3 s time limit, a 4 MiB body limit)
on a free loopback port for the module; stopped at its end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import PAGES, SEED_FILES, free_port, start_server, stop_server

pytestmark = pytest.mark.slow

TIMEOUT_S = 3
MAX_BODY = 4 * 1024 * 1024  # the slow page below is about 2 MB


def start_honbun(model: str, log: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """``honbun serve`` on a free loopback port; return it and its URL once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "honbun.cli", "serve", "--model", model, "--port", str(port),
           *extra]  # fmt: skip
    return start_server(cmd, port, log)


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> str:
    """$HONBUN_TEST_MODEL, else the session's tiny model (conftest's ``trained``)."""
    if os.environ.get("HONBUN_TEST_MODEL"):
        return os.environ["HONBUN_TEST_MODEL"]
    return str(request.getfixturevalue("trained")["first"]["model"])


@pytest.fixture(scope="module")
def model(served: str):
    import honbun

    return honbun.load_model(served)


@pytest.fixture(scope="module")
def server(served: str, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    proc, base = start_honbun(
        served, log, "--workers", "2", "--timeout", str(TIMEOUT_S),
        "--max-body-mb", str(MAX_BODY / 1024 / 1024), "--queue", "4",
    )  # fmt: skip
    yield base
    stop_server(proc)
    assert proc.returncode in (0, 143, -signal.SIGTERM), log.read_text()[-2000:]


def call(base: str, body: bytes | dict, path: str = "/invocations", method: str = "POST",
         content_type: str = "application/json") -> tuple[int, dict]:  # fmt: skip
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(f"{base}{path}", data=data if method == "POST" else None,
                                 method=method, headers={"Content-Type": content_type})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def health(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/health", timeout=10) as r:
        return json.loads(r.read())


def test_invocations_answer_what_honbun_score_gives(server: str, model) -> None:
    from honbun.read.files import page_from_content

    text = SEED_FILES[0].read_text("utf-8")
    html = (PAGES / "htmldate-ja/article.auone.jp-tax.html").read_text("utf-8")
    want = [model.score(page_from_content(c, d, d, f))
            for d, f, c in (("s0", "text", text), ("h1", "html", html))]  # fmt: skip
    want = json.loads(json.dumps(want))
    split = {"dataframe_split": {"columns": ["doc_id", "format", "content"],
                                 "data": [["s0", "text", text], ["h1", "html", html]]}}  # fmt: skip
    assert call(server, split) == (200, {"predictions": want})
    records = {"dataframe_records": [{"doc_id": "s0", "format": "text", "content": text},
                                     {"doc_id": "h1", "content": html}]}  # fmt: skip
    assert call(server, records) == (200, {"predictions": want})
    # The request's pages as a site context, as `honbun score --site-context`.
    pages = [
        page_from_content(c, d, d, f) for d, f, c in (("s0", "text", text), ("h1", "html", html))
    ]
    together = json.loads(json.dumps(list(model.with_site_context(pages).score_many(pages))))
    assert call(server, {**split, "params": {"site_context": True}}) == (
        200, {"predictions": together},
    )  # fmt: skip
    # Article text already: every block body, as `honbun score --body-only`.
    plain = json.loads(json.dumps(model.score(pages[0], body_only=True)))
    status, answer = call(server, {"dataframe_records": [{"doc_id": "s0", "format": "text",
                                   "content": text}], "params": {"body_only": True}})  # fmt: skip
    assert status == 200 and answer["predictions"] == [plain]
    assert {b["label"] for b in plain["blocks"]} == {"body"}


def test_rows_that_are_not_pages_get_error_records(server: str) -> None:
    text = SEED_FILES[0].read_text("utf-8")
    rows = [{"doc_id": "null", "format": "text", "content": None},
            {"doc_id": "pdf", "format": "pdf", "content": text},
            {"doc_id": "number", "content": 42},
            {"doc_id": "missing"},
            {"doc_id": "good", "format": "text", "content": text}]  # fmt: skip
    status, answer = call(server, {"dataframe_records": rows})
    assert status == 200
    got = answer["predictions"]
    assert [r["doc_id"] for r in got] == ["null", "pdf", "number", "missing", "good"]
    assert "null" in got[0]["error"] and got[3]["error"] == got[0]["error"]
    assert "unknown format 'pdf'" in got[1]["error"]
    assert "must be text, not int" in got[2]["error"]
    assert "error" not in got[4] and got[4]["body_text"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"dataframe_split": ', "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"instances": [1]}', "unknown field(s) instances"),
        (b'{"dataframe_split": {"columns": ["doc_id"], "data": [["a"]]}}', "no content column"),
        (b'{"dataframe_split": {"columns": ["content"], "data": [["a", "b"]]}}', "data[0]"),
        (b'{"dataframe_records": [1]}', "dataframe_records[0]"),
        (b'{"dataframe_records": [], "params": {"site_context": "yes"}}', "must be bool"),
        (b'{"dataframe_records": [], "params": {"explain": true}}', "unknown param(s) explain"),
    ],
)
def test_bad_requests_get_400_with_a_json_error(server: str, body: bytes, message: str) -> None:
    status, answer = call(server, body)
    assert status == 400 and answer["error_code"] == "BAD_REQUEST"
    assert message in answer["message"]


def test_other_errors_are_json_too(server: str) -> None:
    status, answer = call(server, b"{}", content_type="text/plain")
    assert (status, answer["error_code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert call(server, b"", path="/invocations", method="GET")[0] == 405
    status, answer = call(server, b"", path="/nowhere", method="GET")
    assert (status, answer["error_code"]) == (404, "NOT_FOUND")


def _raw(base: str, head: bytes, body: bytes = b"", then: bytes = b"") -> bytes:
    """Send ``head`` (+ ``body``), read the answer, then try to send ``then``."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_body_over_the_limit_gets_413_before_it_is_sent(server: str) -> None:
    # As curl does for large bodies: headers with `Expect: 100-continue`, then wait. The
    # server answers 413 at once, never asking for the body.
    head = (b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1))  # fmt: skip
    answer = _raw(server, head)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"REQUEST_TOO_LARGE" in answer or b"content-length" in answer.lower()


def test_a_chunked_body_over_the_limit_gets_413(server: str) -> None:
    head = (b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
    chunk = b"x" * 65536
    body = b"".join(
        b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY // len(chunk) + 2)
    )
    answer = _raw(server, head, body + b"0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_a_body_at_the_limit_is_read(server: str) -> None:
    pad = b'{"dataframe_records": [], "pad": "'
    body = pad + b"x" * (MAX_BODY - len(pad) - 2) + b'"}'
    assert len(body) == MAX_BODY
    status, answer = call(server, body)
    assert status == 400 and "unknown field(s) pad" in answer["message"]  # read, then refused


def slow_page(paragraphs: int = 20_000) -> str:
    """Many paragraphs of one page: far more work than the time limit allows."""
    para = "<p>ロシアに派兵された北朝鮮軍部隊がクルスク地域に配備された。{}</p>\n"
    return "<html><body>" + "".join(para.format(k) for k in range(paragraphs)) + "</body></html>"


def test_a_request_over_the_time_limit_stops_its_worker(server: str) -> None:
    before = {w["pid"] for w in health(server)["workers"]}
    assert len(before) == 2
    rows = [{"doc_id": "slow", "format": "html", "content": slow_page()}]
    status, answer = call(server, {"dataframe_records": rows})
    assert (status, answer["error_code"]) == (504, "TIMEOUT")
    assert f"more than {TIMEOUT_S} s" in answer["message"]
    # The worker that had the page is gone (killed, not left scoring), and a new one is
    # started in its place.
    state = health(server)
    assert state["timeouts"] >= 1 and state["restarts"] >= 1
    gone = before - {w["pid"] for w in state["workers"]}
    assert len(gone) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(gone.pop(), 0)
    deadline = time.monotonic() + 120
    while len(health(server)["workers"]) < 2:
        assert time.monotonic() < deadline, "no replacement worker in 120 s"
        time.sleep(0.2)
    text = SEED_FILES[1].read_text("utf-8")
    status, answer = call(server, {"dataframe_records": [{"doc_id": "s1", "content": text}]})
    assert status == 200 and "error" not in answer["predictions"][0]


def test_ping_and_health(server: str, model) -> None:
    with urllib.request.urlopen(f"{server}/ping", timeout=10) as r:
        assert r.status == 200
    state = health(server)
    assert state["status"] == "ok" and state["model"] == model.name
    assert state["timeout_s"] == TIMEOUT_S and state["max_body"] == MAX_BODY


def test_serve_refuses_a_missing_model(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    run = subprocess.run(
        [sys.executable, "-m", "honbun.cli", "serve", "--model", str(missing),
         "--port", str(free_port())],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert f"{missing}: no such model directory" in run.stderr
