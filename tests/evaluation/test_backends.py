"""The contract's values, and the HTTP backend against real servers.

The reference server (scripts/reference_supporter.py) runs for real in a thread; pytest-httpserver
plays the servers that misbehave (bad JSON, 503, too slow, an unknown strategy).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from evaluation.backends import (
    CONTRACT,
    BackendError,
    Reply,
    SupporterRequest,
    Turn,
    validate_reply,
)
from evaluation.backends.http import HttpBackend

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reference_supporter.py"
SURVEY = {
    "experience_type": "Current Experience",
    "emotion_type": "anxiety",
    "problem_type": "job crisis",
    "situation": "I might lose my job.",
    "initial_emotion_intensity": 4,
}


def reference_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference_supporter", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def reference() -> Iterator[Any]:
    """Start the reference server on a free port; yield a function making more of them."""
    servers = []

    def start(**options: Any) -> str:
        server = reference_module().make_server("127.0.0.1", 0, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        host, port = server.server_address[:2]
        return f"http://{host}:{port}/reply"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def a_request(*texts: str, strategy: str | None = None) -> SupporterRequest:
    """Seeker first, then alternating; supporter turns carry a Question."""
    turns = tuple(
        Turn("seeker", text) if i % 2 == 0 else Turn("supporter", text, "Question")
        for i, text in enumerate(texts)
    )
    return SupporterRequest(survey=SURVEY, dialog=turns, strategy=strategy, conversation="c-1")


def code_of(excinfo: pytest.ExceptionInfo[BackendError]) -> str:
    return excinfo.value.code


# --- the request and the reply ---------------------------------------------------------------


def test_it_round_trips_a_request_through_json() -> None:
    request = a_request("I am scared.", "What scares you?", "Losing my job.", strategy="Question")
    body = request.to_json()

    assert body["contract"] == CONTRACT
    assert body["dialog"][1] == {
        "speaker": "supporter",
        "text": "What scares you?",
        "strategy": "Question",
    }
    assert body["dialog"][0]["strategy"] is None
    assert SupporterRequest.from_json(json.loads(json.dumps(body))) == request


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(contract="esc-supporter/2"), "contract"),
        (lambda b: b.update(conversation=7), "conversation"),
        (lambda b: b.update(survey=[]), "survey"),
        (lambda b: b["survey"].pop("situation"), "survey.situation"),
        (
            lambda b: b["survey"].update(initial_emotion_intensity="4"),
            "survey.initial_emotion_intensity",
        ),
        (
            lambda b: b["survey"].update(initial_emotion_intensity=True),
            "survey.initial_emotion_intensity",
        ),
        (lambda b: b.update(dialog={}), "dialog"),
        (lambda b: b["dialog"].append("hi"), "dialog[1]"),
        (lambda b: b["dialog"][0].update(speaker="bot"), "dialog[0].speaker"),
        (lambda b: b["dialog"][0].update(text=None), "dialog[0].text"),
        (lambda b: b["dialog"][0].update(strategy="Question"), "dialog[0].strategy"),
        (lambda b: b.update(strategy="Questions"), "strategy"),
    ],
)
def test_it_names_the_field_of_a_bad_request(change: Any, field: str) -> None:
    body = a_request("My secret worry.").to_json()
    change(body)

    with pytest.raises(BackendError) as excinfo:
        SupporterRequest.from_json(body)

    assert code_of(excinfo) == "bad_request"
    assert excinfo.value.message.startswith(field + ":") or field in excinfo.value.message
    assert "My secret worry" not in str(excinfo.value)


def test_it_reads_a_jsonl_record_up_to_a_cut() -> None:
    record = {
        **{
            key: SURVEY[key]
            for key in ("experience_type", "emotion_type", "problem_type", "situation")
        },
        "survey_score": {"seeker": {"initial_emotion_intensity": "4"}, "supporter": {}},
        "dialog": [
            {"text": "Hello, how are you?", "speaker": "sys", "strategy": "Question"},
            {"text": "Not great.", "speaker": "usr"},
            {"text": "I am sorry.", "speaker": "sys", "strategy": "Affirmation and Reassurance"},
        ],
    }

    request = SupporterRequest.from_jsonl_record(record, upto=2)

    assert request.survey == SURVEY
    assert request.dialog == (
        Turn("supporter", "Hello, how are you?", "Question"),
        Turn("seeker", "Not great."),
    )
    record["dialog"][0]["strategy"] = "Chit-chat"
    with pytest.raises(BackendError, match=r"dialog\[0\]\.strategy"):
        SupporterRequest.from_jsonl_record(record)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "object"),
        ({"text": "Hi"}, "strategy"),
        ({"strategy": "Question"}, "text"),
        ({"strategy": "Empathy", "text": "Hi"}, "strategy"),
        ({"strategy": "Question", "text": 5}, "text"),
        ({"strategy": "Question", "text": "   \n"}, "text"),
        ({"strategy": "Question", "text": "x" * 2001}, "text"),
    ],
)
def test_it_refuses_a_bad_reply(data: Any, field: str) -> None:
    with pytest.raises(BackendError, match=field) as excinfo:
        validate_reply(data)
    assert code_of(excinfo) == "bad_reply"


def test_it_strips_a_reply_and_ignores_other_keys() -> None:
    reply = validate_reply({"strategy": "Others", "text": f"  {'x' * 2000}\n", "score": 0.9})
    assert reply == Reply("Others", "x" * 2000)


# --- HTTP against the reference server ------------------------------------------------------


def test_it_gets_a_real_reply_from_the_reference_server(reference: Any) -> None:
    backend = HttpBackend(reference(), timeout_seconds=5)

    reply = backend.reply(a_request("I feel so lonely since my friend moved away."))

    assert reply.strategy == "Reflection of feelings"
    assert "lonely" in reply.text


def test_the_reference_server_follows_the_requested_strategy(reference: Any) -> None:
    backend = HttpBackend(reference(), timeout_seconds=5)
    reply = backend.reply(a_request("Hi.", strategy="Providing Suggestions"))
    assert reply.strategy == "Providing Suggestions"


def test_the_reference_server_fails_first_then_answers(reference: Any) -> None:
    backend = HttpBackend(reference(fail_first=2), timeout_seconds=5)
    for _ in range(2):
        with pytest.raises(BackendError) as excinfo:
            backend.reply(a_request("Hi."))
        assert code_of(excinfo) == "bad_status"
        assert "500" in excinfo.value.message
    assert backend.reply(a_request("Hi.")).strategy == "Question"


def test_the_reference_server_answers_400_to_a_bad_request(reference: Any) -> None:
    import urllib.error
    import urllib.request

    body = json.dumps({"contract": CONTRACT, "survey": {}, "dialog": []}).encode()
    post = urllib.request.Request(
        reference(), data=body, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(post, timeout=5)
    assert excinfo.value.code == 400
    assert json.loads(excinfo.value.read())["error"].startswith("survey")


def test_a_slow_reference_server_times_out(reference: Any) -> None:
    backend = HttpBackend(reference(delay=1.0), timeout_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(BackendError) as excinfo:
        backend.reply(a_request("Hi."))
    assert code_of(excinfo) == "timeout"
    assert time.monotonic() - started < 0.9


def test_the_reference_server_runs_from_the_command_line() -> None:
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert f":{port}" in process.stdout.readline()
        reply = HttpBackend(f"http://127.0.0.1:{port}/", timeout_seconds=5).reply(a_request())
        assert reply.strategy == "Question"
    finally:
        process.terminate()
        process.wait(timeout=5)


# --- HTTP against servers that misbehave -----------------------------------------------------


def post_to(httpserver: HTTPServer, timeout: float = 2) -> HttpBackend:
    return HttpBackend(httpserver.url_for("/reply"), timeout_seconds=timeout)


def test_it_sends_the_contract_body(httpserver: HTTPServer) -> None:
    request = a_request("Hello there.")
    httpserver.expect_request("/reply", method="POST", json=request.to_json()).respond_with_json(
        {"strategy": "Question", "text": "How are you?", "confidence": 1}
    )
    assert post_to(httpserver).reply(request) == Reply("Question", "How are you?")


@pytest.mark.parametrize(
    ("respond", "code"),
    [
        (lambda r: r.respond_with_data("not json {", content_type="application/json"), "bad_json"),
        (lambda r: r.respond_with_data(b"\xff\xfe", content_type="application/json"), "bad_json"),
        (lambda r: r.respond_with_json({"error": "overloaded"}, status=503), "bad_status"),
        (lambda r: r.respond_with_json({"strategy": "Empathy", "text": "There."}), "bad_reply"),
        (lambda r: r.respond_with_json({"strategy": "Question", "text": ""}), "bad_reply"),
        (lambda r: r.respond_with_json(["Question", "Hi"]), "bad_reply"),
        (lambda r: r.respond_with_data("x" * 300_000), "bad_reply"),
        (lambda r: r.respond_with_data("", status=302, headers={"Location": "/"}), "bad_status"),
    ],
)
def test_it_maps_each_failure_to_its_code(httpserver: HTTPServer, respond: Any, code: str) -> None:
    respond(httpserver.expect_request("/reply"))
    with pytest.raises(BackendError) as excinfo:
        post_to(httpserver).reply(a_request("My private words."))
    assert code_of(excinfo) == code
    assert "My private words" not in str(excinfo.value)


def test_a_slow_server_times_out_within_the_budget(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response(json.dumps({"strategy": "Question", "text": "Hi"}), 200)

    httpserver.expect_request("/reply").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(BackendError) as excinfo:
        post_to(httpserver, timeout=0.3).reply(a_request())
    assert code_of(excinfo) == "timeout"
    assert time.monotonic() - started < 0.9


def test_a_trickling_server_times_out_for_the_whole_attempt() -> None:
    """Each byte comes within the socket's wait, but the whole answer takes too long."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
            )
            connection.sendall(head)
            for byte in b'{"strategy": "Question", "text": "Hi!!"}':
                time.sleep(0.05)
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    with pytest.raises(BackendError) as excinfo:
        HttpBackend(f"http://127.0.0.1:{port}/", timeout_seconds=0.5).reply(a_request())
    assert code_of(excinfo) == "timeout"
    assert time.monotonic() - started < 1.0
    thread.join(timeout=5)
    listener.close()


def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BackendError) as excinfo:
        HttpBackend(f"http://127.0.0.1:{port}/", timeout_seconds=2).reply(a_request())
    assert code_of(excinfo) == "unreachable"


@pytest.mark.parametrize("url", ["ftp://example.org/", "http://", "http://example.org:99999/", ""])
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(BackendError) as excinfo:
        HttpBackend(url, timeout_seconds=2)
    assert code_of(excinfo) == "bad_request"
