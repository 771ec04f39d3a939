"""The embedded default runs the periodic jobs itself (issue 10, item 5).

`make run` starts one uvicorn process on SQLite with the in-memory channel layer and eager
Celery, and nothing else. The server starts an APScheduler on its own loop with the entries of
CELERY_BEAT_SCHEDULE (esc_platform/scheduler.py), so a finished conversation is judged and
released, and an abandoned chat is ended — and its open page told — with no worker or beat.

The server tests start uvicorn the way the Makefile's `run` recipe does (its variables and
options, read from the Makefile), on a free port, against a fresh SQLite file with short
intervals; data is made by manage.py commands against the same file.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from websockets.asyncio.client import connect
from websockets.typing import Origin

from devtools.manage import run_manage
from devtools.server import ServerProcess, free_port, start, uvicorn_command
from esc_platform import scheduler
from tests.quality.factories import esconv_record

ROOT = Path(__file__).resolve().parents[2]
QUALITY_INTERVAL = 10  # QUALITY_CONTROL_INTERVAL_SECONDS: the settings' minimum
SWEEP_INTERVAL = 1  # CHAT_END_ABANDONED_SECONDS and CHAT_RELEASE_STALE_WAITING_SECONDS
ABANDON_AFTER = 4  # the chat run's abandon_after_seconds
# The server must not reach for anything the embedded default does not have.
NOT_EMBEDDED = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


# --- the schedule: one source of truth ----------------------------------------------------------


def test_the_embedded_jobs_are_the_beat_schedule(settings: Any) -> None:
    jobs = {job.name: (job.task, job.seconds) for job in scheduler.periodic_jobs()}
    assert jobs == {
        name: (entry["task"], float(entry["schedule"]))
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    assert jobs["chat-release-stale-waiting"] == ("chat.tasks.release_stale_waiting_workers", 30)
    assert jobs["chat-end-abandoned"] == ("chat.tasks.end_abandoned_conversations", 60)
    assert jobs["quality-control"] == (
        "quality.run_quality_control",
        settings.QUALITY_CONTROL_INTERVAL_SECONDS,
    )


def test_the_intervals_come_from_the_environment() -> None:
    code = (
        "import django; django.setup(); from esc_platform.scheduler import periodic_jobs; "
        "print(sorted((j.name, j.seconds) for j in periodic_jobs()))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "esc_platform.settings",
        "CHAT_RELEASE_STALE_WAITING_SECONDS": "7",
        "CHAT_END_ABANDONED_SECONDS": "8",
        "QUALITY_CONTROL_INTERVAL_SECONDS": "90",
        "SESSION_CLEANUP_SECONDS": "600",
        "ANALYTICS_REFRESH_SECONDS": "120",
        "CROWD_SITE_SYNC_SECONDS": "45",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "[('analytics-refresh-reports', 120.0), ('chat-end-abandoned', 8.0), "
        "('chat-release-stale-waiting', 7.0), ('crowd-clear-expired-sessions', 600.0), "
        "('crowd-sites-sync', 45.0), ('quality-control', 90.0)]"
    )


def _inner_app() -> Any:
    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})

    return application


def test_the_application_is_untouched_without_the_variable_or_with_a_broker() -> None:
    inner = _inner_app()
    with override_settings(EMBEDDED_SCHEDULER=False, CELERY_BROKER_URL=None):
        assert scheduler.with_embedded_scheduler(inner) is inner
    with override_settings(EMBEDDED_SCHEDULER=True, CELERY_BROKER_URL="redis://127.0.0.1/1"):
        assert scheduler.with_embedded_scheduler(inner) is inner
    with override_settings(EMBEDDED_SCHEDULER=True, CELERY_BROKER_URL=None):
        wrapped = scheduler.with_embedded_scheduler(inner)
    assert isinstance(wrapped, scheduler.EmbeddedScheduler)
    assert scheduler._scheduler is None  # wrapping starts nothing: a server must run it


def test_it_starts_at_lifespan_startup_with_every_job_and_stops_at_shutdown() -> None:
    async def lifespan() -> tuple[list[str], list[tuple[str, float]], bool]:
        with override_settings(EMBEDDED_SCHEDULER=True, CELERY_BROKER_URL=None):
            wrapped = scheduler.with_embedded_scheduler(_inner_app())
        incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: list[str] = []
        jobs: list[tuple[str, float]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message["type"])
            if message["type"] == "lifespan.startup.complete":
                running = scheduler._scheduler
                assert running is not None and running.running
                jobs.extend(
                    sorted((j.id, j.trigger.interval.total_seconds()) for j in running.get_jobs())
                )
                await incoming.put({"type": "lifespan.shutdown"})

        await incoming.put({"type": "lifespan.startup"})
        await wrapped({"type": "lifespan"}, incoming.get, send)
        await asyncio.sleep(0)  # the scheduler shuts down on its loop
        return sent, jobs, scheduler._scheduler is None

    sent, jobs, stopped = asyncio.run(lifespan())
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert jobs == sorted((job.name, job.seconds) for job in scheduler.periodic_jobs())
    assert stopped


def test_with_lifespan_off_it_starts_at_the_first_connection() -> None:
    async def first_request() -> bool:
        with override_settings(EMBEDDED_SCHEDULER=True, CELERY_BROKER_URL=None):
            wrapped = scheduler.with_embedded_scheduler(_inner_app())
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        try:
            await wrapped({"type": "http", "path": "/healthz"}, receive, send)
            return scheduler._scheduler is not None and scheduler._scheduler.running
        finally:
            scheduler.stop()
            await asyncio.sleep(0)

    assert asyncio.run(first_request())


def test_a_manage_py_command_never_starts_it() -> None:
    code = (
        "import esc_platform.asgi as a, esc_platform.scheduler as s; "
        "assert isinstance(a.application, s.EmbeddedScheduler); "
        "print('running' if s._scheduler else 'off')"
    )
    env = {k: v for k, v in os.environ.items() if k not in NOT_EMBEDDED}
    env["EMBEDDED_SCHEDULER"] = "1"
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "off"


# --- the server, as `make run` starts it --------------------------------------------------------


def make_run_recipe() -> tuple[dict[str, str], list[str]]:
    """The variables and uvicorn options of the Makefile's `run` recipe (host/port left out)."""
    lines = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].splitlines()
    recipe = next(line for line in lines if "uvicorn" in line and "asgi:application" in line)
    words = shlex.split(recipe.strip().lstrip("@"))
    uvicorn = next(i for i, word in enumerate(words) if word.endswith("uvicorn"))
    variables = dict(word.split("=", 1) for word in words[:uvicorn])
    application = words.index("esc_platform.asgi:application")
    options, rest = [], iter(words[application + 1 :])
    for word in rest:
        if word in {"--host", "--port"}:
            next(rest)
            continue
        options.append(word)
    return variables, options


@dataclass
class EmbeddedServer:
    process: ServerProcess
    env: dict[str, str]
    releases: Path
    folder: Path

    def manage(self, *args: str) -> str:
        """Run a manage.py command against the server's database; its output."""
        return run_manage(*args, env=self.env, timeout=60)

    def shell(self, code: str) -> str:
        """Run `code` in manage.py shell against the server's database; its last output line."""
        return self.manage("shell", "--no-imports", "-c", code).strip().splitlines()[-1]

    def wait_for(self, condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.process.poll() is not None:
                pytest.fail(f"the server exited:\n{self.process.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{what}: not within {timeout} s; server log:\n{self.process.log_tail()}"
                )
            time.sleep(0.2)


def test_make_run_turns_the_scheduler_on() -> None:
    variables, options = make_run_recipe()
    assert variables.get("EMBEDDED_SCHEDULER") == "1"
    assert "--workers" not in options  # one process: the in-memory layer and one scheduler
    assert options[options.index("--lifespan") + 1] != "off"  # it starts at lifespan startup


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    folder = tmp_path_factory.mktemp("embedded")
    variables, options = make_run_recipe()
    env = {k: v for k, v in os.environ.items() if k not in NOT_EMBEDDED}
    env.update(variables)
    env.update(
        {
            "SQLITE_PATH": str(folder / "run.sqlite3"),
            "ESCONV_EXPORT_DIR": str(folder / "releases"),
            "QUALITY_CONTROL_INTERVAL_SECONDS": str(QUALITY_INTERVAL),
            "CHAT_END_ABANDONED_SECONDS": str(SWEEP_INTERVAL),
            "CHAT_RELEASE_STALE_WAITING_SECONDS": str(SWEEP_INTERVAL),
            "PYTHONUNBUFFERED": "1",
        }
    )
    run_manage("migrate", "--noinput", env=env, timeout=120)
    port = free_port()
    server = start(uvicorn_command(port, *options), port=port, env=env)
    try:
        server.wait_until_ready("/healthz", timeout=30)
        yield EmbeddedServer(server, env, folder / "releases", folder)
    finally:
        server.stop()


def test_a_finished_conversation_is_judged_and_released_with_nothing_else_started(
    embedded_server: EmbeddedServer,
) -> None:
    situation = "I was let go after ten years and do not know what to tell my family."
    data = embedded_server.folder / "finished.json"
    data.write_text(json.dumps([esconv_record(situation)]), encoding="utf-8")
    embedded_server.manage("import_esconv", str(data), "--status", "pending")
    imported_at = time.monotonic()

    def released() -> bool:
        return any(embedded_server.releases.glob("esconv-release-*.json"))

    embedded_server.wait_for(released, QUALITY_INTERVAL + 10, "a release file")
    assert time.monotonic() - imported_at <= QUALITY_INTERVAL + 5
    (release,) = embedded_server.releases.glob("esconv-release-*.json")
    assert [record["situation"] for record in json.loads(release.read_text())] == [situation]
    assert not list(embedded_server.releases.glob("*.tmp"))
    status = embedded_server.shell(
        "from chat.models import Conversation; "
        f"print(Conversation.objects.get(situation={situation!r}).quality_status)"
    )
    assert status == "approved"
    assert "embedded scheduler started" in embedded_server.process.log_tail(200)


ABANDONED_CHAT = """
import json
from django.contrib.sessions.backends.db import SessionStore
from chat import matching
from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from crowd.selectors import SESSION_KEY
from crowd.services import enter_waiting_room, give_consent
from surveys.models import PreChatSurvey

run = CollectionRun.objects.create(name="sweep", abandon_after_seconds=ABANDON_AFTER)


def worker(role, name, qualification):
    return give_consent(
        Worker.objects.create(
            run=run,
            role=role,
            provider=Worker.Provider.PROLIFIC,
            external_id=name,
            qualification=qualification,
        )
    )


seeker = worker(vocabulary.SEEKER, "sweep-seeker", Worker.Qualification.NOT_APPLICABLE)
PreChatSurvey.objects.create(
    worker=seeker,
    run=run,
    problem_type="job crisis",
    emotion_type="anxiety",
    initial_emotion_intensity=4,
    situation="I lost my job last week and I keep worrying about paying the rent.",
    experience_type="Current Experience",
)
enter_waiting_room(seeker)
enter_waiting_room(
    worker(vocabulary.SUPPORTER, "sweep-supporter", Worker.Qualification.QUALIFIED)
)
matching.match_waiting_workers(run)  # unless the server's sweep matched them first
conversation = Conversation.objects.get(seeker=seeker)
session = SessionStore()
session[SESSION_KEY] = seeker.pk
session.create()
print(json.dumps({"conversation": conversation.pk, "cookie": f"sessionid={session.session_key}"}))
"""


async def _frames_until_ended(url: str, cookie: str, timeout: float) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    headers = {"Cookie": cookie}
    origin = Origin(url.split("/ws/")[0].replace("ws://", "http://"))  # the server's own
    async with connect(url, origin=origin, additional_headers=headers) as ws:
        async with asyncio.timeout(timeout):
            while not frames or frames[-1]["type"] != "ended":
                frames.append(json.loads(await ws.recv()))
    return frames


def test_an_abandoned_chat_s_open_page_gets_its_ended_frame_from_the_sweep(
    embedded_server: EmbeddedServer,
) -> None:
    code = ABANDONED_CHAT.replace("ABANDON_AFTER", str(ABANDON_AFTER))
    made = json.loads(embedded_server.shell(code))
    url = f"ws://127.0.0.1:{embedded_server.process.port}/ws/chat/{made['conversation']}/"

    frames = asyncio.run(_frames_until_ended(url, made["cookie"], ABANDON_AFTER + 10))

    assert frames[0]["type"] == "hello", frames  # connected while the chat was still open
    assert frames[-1]["type"] == "ended" and frames[-1]["reason"] == "abandoned", frames
    state = embedded_server.shell(
        "from chat.models import Conversation; "
        f"c = Conversation.objects.get(pk={made['conversation']}); print(c.state, c.end_reason)"
    )
    assert state.split() == ["ended", "abandoned"]
