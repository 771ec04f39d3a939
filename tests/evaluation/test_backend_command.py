"""`manage.py supporter_reply`: one JSON object out, or a CommandError naming what is wrong."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from evaluation.backends.sources import forget_indexes
from evaluation.models import SupporterBackend
from tests.evaluation.test_backend_retrieval import (
    BREAKUP,
    EXAMS,
    FIRED,
    JOB,
    LANDLORD,
    import_records,
)
from tests.evaluation.test_backends import reference_module

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _source(tmp_path: Path) -> Iterator[None]:
    forget_indexes()
    import_records(tmp_path, [JOB, BREAKUP, EXAMS], "source")
    for mode in ("joint", "oracle", "random"):
        SupporterBackend.objects.create(name=f"retrieval-{mode}", kind="retrieval", mode=mode)
    yield
    forget_indexes()


def dialog_file(tmp_path: Path, *records: dict[str, Any], name: str = "dialog.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    return path


def cut(record: dict[str, Any], upto: int) -> dict[str, Any]:
    return {**record, "dialog": record["dialog"][:upto]}


def run(*args: str) -> tuple[dict[str, Any], str]:
    out = StringIO()
    call_command("supporter_reply", *args, stdout=out)
    text = out.getvalue()
    return json.loads(text), text


def fails(*args: str) -> str:
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("supporter_reply", *args, stdout=out)
    assert out.getvalue() == ""
    return str(excinfo.value)


def test_it_prints_the_reply_of_a_retrieval_backend(tmp_path: Path) -> None:
    path = dialog_file(tmp_path, cut(JOB, 2))

    result, text = run("--backend", "retrieval-joint", "--dialog", str(path))

    assert set(result) == {"backend", "strategy", "text", "seconds"}
    assert result["backend"] == "retrieval-joint"
    assert (result["strategy"], result["text"]) == ("Reflection of feelings", FIRED)
    assert isinstance(result["seconds"], float) and 0 <= result["seconds"] < 5
    assert text.count("\n") <= 1


def test_it_answers_even_after_a_supporter_turn(tmp_path: Path) -> None:
    path = dialog_file(tmp_path, cut(JOB, 3))
    result, _ = run("--backend", "retrieval-joint", "--dialog", str(path))
    assert result["text"] != FIRED  # already said in the dialog


def test_an_oracle_backend_needs_a_strategy(tmp_path: Path) -> None:
    path = dialog_file(tmp_path, cut(JOB, 2))

    message = fails("--backend", "retrieval-oracle", "--dialog", str(path))
    result, _ = run(
        "--backend",
        "retrieval-oracle",
        "--dialog",
        str(path),
        "--strategy",
        "Providing Suggestions",
    )

    assert "bad_request" in message and "--strategy" in message
    assert (result["strategy"], result["text"]) == ("Providing Suggestions", LANDLORD)


def test_it_asks_an_http_backend(tmp_path: Path) -> None:
    server = reference_module().make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address[:2]
        SupporterBackend.objects.create(name="lab", kind="http", url=f"http://{host}:{port}/reply")
        path = dialog_file(tmp_path, cut(BREAKUP, 3))
        result, _ = run("--backend", "lab", "--dialog", str(path))
    finally:
        server.shutdown()
        server.server_close()
    assert result["strategy"] == "Reflection of feelings"
    assert "lonely" in result["text"]


def test_it_names_the_backend_error_code(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    SupporterBackend.objects.create(name="gone", kind="http", url=f"http://127.0.0.1:{port}/")
    message = fails("--backend", "gone", "--dialog", str(dialog_file(tmp_path, JOB)))
    assert message.startswith("backend gone: unreachable")


def test_a_file_of_several_conversations_needs_a_line(tmp_path: Path) -> None:
    path = dialog_file(tmp_path, cut(JOB, 2), cut(EXAMS, 1))

    message = fails("--backend", "retrieval-joint", "--dialog", str(path))
    result, _ = run("--backend", "retrieval-joint", "--dialog", str(path), "--line", "2")

    assert "holds 2 conversations" in message and "--line" in message
    assert result["strategy"] == "Restatement or Paraphrasing"
    assert "line 3" in fails("--backend", "retrieval-joint", "--dialog", str(path), "--line", "3")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("", "holds no conversation"),
        (json.dumps({**JOB, "dialog": [{"text": "hi", "speaker": "bot"}]}), "dialog[0].speaker"),
        (json.dumps({**JOB, "situation": None}), "situation"),
        (json.dumps({**JOB, "dialog": [{"text": "hi", "speaker": "sys"}]}), "dialog[0].strategy"),
    ],
)
def test_a_bad_file_is_named_with_its_field(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    message = fails("--backend", "retrieval-joint", "--dialog", str(path))
    assert str(path) in message and expected in message


def test_a_missing_file_and_an_unknown_backend_are_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    assert str(missing) in fails("--backend", "retrieval-joint", "--dialog", str(missing))
    path = dialog_file(tmp_path, JOB)
    assert "no supporter backend named 'nobody'" in fails(
        "--backend", "nobody", "--dialog", str(path)
    )
