"""Quality control survives crashes (issue 10, item 4).

A worker killed in the middle of judging leaves nothing behind: its chunk's transaction rolls
back (and, on PostgreSQL, its row locks vanish with its session), so the next run — the requeued
task, at once — judges those conversations again, each ends with exactly one decision, and the
release holds every approved conversation. Only a run that judged everything it selected writes
a release; an empty approved set writes none; a killed writer's temporary files are removed.

The conversations are imported as pending ESConv records (chat.dataset.importing): many of them
in one call, whatever the test fixtures look like.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from chat.models import Conversation
from esc_platform.celery import app
from quality import judging, releases
from quality.errors import QualityError
from quality.job import IncompleteRun, run_quality_control
from quality.models import Decision, JudgingClaim, Release
from quality.releases import write_release
from quality.tasks import run_quality_control as run_quality_control_task
from tests.celery_support import CeleryWorker, database_environment, running_worker
from tests.quality.factories import esconv_record, import_records

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 10  # QUALITY_CONTROL_INTERVAL_SECONDS of the worker (the settings' minimum)

# Run before a job in a child process: its judging hangs ONCE, inside the transaction of chunk
# number HANG_AT_CHUNK (rows taken, nothing committed), after writing "PID BACKEND_PID" to
# HANG_MARK. Chunks are one conversation (QUALITY_CONTROL_CHUNK_SIZE=1) unless the env says.
HANG_ONCE = textwrap.dedent(
    """
    import os, sys, time
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esc_platform.settings")
    django.setup()
    from django.db import connection
    import quality.judging as judging

    _gather_facts = judging.gather_facts
    _calls = [0]

    def gather_facts(ids):
        _calls[0] += 1
        mark = os.environ["HANG_MARK"]
        if _calls[0] == int(os.environ["HANG_AT_CHUNK"]) and not os.path.exists(mark):
            backend = 0
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    backend = cursor.fetchone()[0]
            with open(mark + ".part", "w") as handle:
                handle.write(f"{os.getpid()} {backend}")
            os.replace(mark + ".part", mark)
            time.sleep(600)
        return _gather_facts(ids)

    judging.gather_facts = gather_facts
    """
)


# --- data ----------------------------------------------------------------------------------


def import_pending(count: int, *, review_every: int = 5) -> list[int]:
    """`count` pending imported conversations at every auto-approval threshold, but every
    `review_every`-th one word short on each seeker line (the criterion that must hold: it goes
    to review)."""
    tag = uuid.uuid4().hex[:8]
    records = [
        esconv_record(
            f"Crash-safety record {tag} {i}", seeker_lengths=[5 if i % review_every == 0 else 6] * 8
        )
        for i in range(1, count + 1)
    ]
    import_records(records, status="pending")
    return list(
        Conversation.objects.filter(situation__contains=tag)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def approved_situations() -> set[str]:
    return set(
        Conversation.objects.filter(quality_status="approved").values_list("situation", flat=True)
    )


def release_situations(release: Release) -> set[str]:
    return {record["situation"] for record in json.loads(Path(release.path).read_text())}


def assert_one_decision_each(ids: list[int]) -> None:
    assert not Conversation.objects.filter(pk__in=ids, quality_status="pending").exists()
    assert Decision.objects.filter(conversation_id__in=ids).count() == len(ids)
    assert Decision.objects.values("conversation").distinct().count() == len(ids)


def _parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def _backend_gone(backend: int) -> bool:
    if not backend:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
        return cursor.fetchone()[0] == 0


def _read_mark(mark: Path) -> tuple[int, int]:
    pid, backend = (int(part) for part in mark.read_text().split())
    return pid, backend


# --- a real Celery worker, killed mid-judging ------------------------------------------------


@pytest.fixture
def hanging_worker(transactional_db: None, tmp_path: Path) -> Iterator[CeleryWorker]:
    """A real worker, prefork pool of one child (the production pool), judging one per chunk.

    Its judging hangs once (HANG_ONCE, at the 4th chunk) until the test kills the pool child.
    tests/celery_support.py starts `-P solo`, where the task runs in the worker's own process;
    here the task's process is a pool child, as in production, so a SIGKILL loses the child and
    the worker decides what becomes of the task (CELERY_TASK_REJECT_ON_WORKER_LOST).
    """
    code = HANG_ONCE + "\nfrom celery.bin.celery import main\nsys.exit(main())\n"
    with running_worker(
        tmp_path,
        program=[sys.executable, "-c", code],
        pool=["-P", "prefork", "-c", "1"],
        ESCONV_EXPORT_DIR=str(tmp_path / "releases"),
        QUALITY_CONTROL_CHUNK_SIZE="1",
        QUALITY_CONTROL_INTERVAL_SECONDS=str(INTERVAL),
        HANG_MARK=str(tmp_path / "hanging"),
        HANG_AT_CHUNK="4",
    ) as worker:
        yield worker


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_pool_child_killed_mid_judging_is_rejudged_at_once_and_the_release_is_whole(
    exporter: None, hanging_worker: CeleryWorker, tmp_path: Path
) -> None:
    ids = import_pending(30)
    mark = tmp_path / "hanging"

    run_quality_control_task.delay()

    hanging_worker.wait_for(mark.exists, timeout=60)
    child, backend = _read_mark(mark)
    assert _parent_pid(child) == hanging_worker.process.pid, "not our worker's pool child"
    # Three chunks of one were committed; the fourth is inside its transaction, rows taken.
    assert Decision.objects.count() == 3
    os.kill(child, signal.SIGKILL)
    killed_at = time.monotonic()
    # PostgreSQL ends the dead child's session, and its row locks with it.
    _wait_until(lambda: _backend_gone(backend), 5, "the killed child's session ended")

    # The worker requeues the lost task (acks_late + reject_on_worker_lost); a new pool child
    # runs it and finishes the job well within one beat interval, not 10 minutes later.
    hanging_worker.wait_for(Release.objects.exists, timeout=INTERVAL)
    assert time.monotonic() - killed_at < INTERVAL
    assert_one_decision_each(ids)
    release = Release.objects.get()
    approved = approved_situations()
    assert len(approved) == 24
    assert release.count == 24
    assert release_situations(release) == approved
    log = hanging_worker.log()
    assert "WorkerLostError" in log or "SIGKILL" in log, log
    assert not list(Path(hanging_worker.env["ESCONV_EXPORT_DIR"]).glob("*.tmp"))


# --- a judging process killed mid-chunk (no broker needed) -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_after_a_judging_process_is_killed_the_next_run_judges_the_rest_at_once(
    exporter: None, export_dir: Path, tmp_path: Path
) -> None:
    ids = import_pending(9)
    mark = tmp_path / "hanging"
    env = database_environment(
        QUALITY_CONTROL_CHUNK_SIZE="3",
        ESCONV_EXPORT_DIR=str(export_dir),
        HANG_MARK=str(mark),
        HANG_AT_CHUNK="2",
    )
    code = HANG_ONCE + "\nfrom quality.job import run_quality_control\nrun_quality_control()\n"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    try:
        _wait_until(lambda: mark.exists() or process.poll() is not None, 60, "the job hung")
        assert process.poll() is None, "the job ended instead of hanging"
        pid, backend = _read_mark(mark)
        assert pid == process.pid
        assert Decision.objects.count() == 3  # chunk 1 committed; chunk 2 is in its transaction
    finally:
        process.kill()  # SIGKILL: no finally block, no rollback, no clean-up of its own
        process.wait()
    _wait_until(lambda: _backend_gone(backend), 5, "the killed job's session ended")

    out = StringIO()
    call_command("run_quality_control", stdout=out)  # no wait for any claim to expire

    assert "judged 6:" in out.getvalue() and "skipped" not in out.getvalue()
    assert_one_decision_each(ids)
    release = Release.objects.get()
    assert f"release 1: {release.count} conversations" in out.getvalue()
    assert release_situations(release) == approved_situations()
    assert release.count == 8


# --- two runs at once ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_judge_each_conversation_once_and_only_a_complete_run_releases(
    exporter: None,
    export_dir: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first run stops inside its first chunk's transaction while the second runs.

    PostgreSQL: the second skips the first's (locked) chunk without waiting, judges the rest,
    writes no release and says so (the command fails; the task raises IncompleteRun); the first
    then finishes and writes the release. SQLite: the second waits for the first's chunk (every
    transaction takes the write lock), then both finish with nothing skipped.
    """
    settings.QUALITY_CONTROL_CHUNK_SIZE = 5
    ids = import_pending(20)
    holding, go = threading.Event(), threading.Event()
    real_gather_facts = judging.gather_facts

    def gather_facts(chunk: list[int]) -> Any:
        if threading.current_thread().name == "first" and not holding.is_set():
            holding.set()
            go.wait(30)
        return real_gather_facts(chunk)

    monkeypatch.setattr(judging, "gather_facts", gather_facts)
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            results[name] = run_quality_control()
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=run, args=["first"], name="first")
    second = threading.Thread(target=run, args=["second"], name="second")
    first.start()
    assert holding.wait(30)
    postgresql = connection.vendor == "postgresql"
    try:
        if postgresql:
            out = StringIO()
            with pytest.raises(CommandError, match="incomplete run: 5 conversations were held"):
                call_command("run_quality_control", stdout=out)
            assert "judged 15: " in out.getvalue()
            assert "(skipped 5 held by another job)" in out.getvalue()
            assert "no release: this run did not judge everything" in out.getvalue()
            with pytest.raises(IncompleteRun) as raised:
                run_quality_control_task.apply(throw=True)
            assert raised.value.result is not None
            assert raised.value.result.as_dict()["release_status"] == "incomplete"
            rebuilt = pickle.loads(pickle.dumps(raised.value))  # as the pool sends it back
            assert str(rebuilt) == str(raised.value)
            assert not Release.objects.exists()
            assert not any(export_dir.glob("esconv-release-*"))
        else:
            second.start()
            second.join(0.5)
            assert second.is_alive(), "the second run should wait for the first's chunk"
    finally:
        go.set()
        first.join(60)
        if second.is_alive():
            second.join(60)
    assert not errors, errors
    if postgresql:
        assert results["first"].complete and results["first"].release_status == "written"
    else:
        assert results["first"].complete and results["second"].complete
        assert results["first"].counts.judged + results["second"].counts.judged == 20
        statuses = sorted(result.release_status for result in results.values())
        assert statuses == ["unchanged", "written"]
    assert_one_decision_each(ids)
    release = Release.objects.get()
    assert release_situations(release) == approved_situations()
    assert release.count == 16


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_job_holds_for_half_an_interval_only(settings: Any) -> None:
    settings.QUALITY_CONTROL_INTERVAL_SECONDS = 600
    fresh, stale = import_pending(2)
    now = timezone.now()
    JudgingClaim.objects.create(conversation_id=fresh, token="live", claimed_at=now)
    JudgingClaim.objects.create(
        conversation_id=stale, token="dead", claimed_at=now - timedelta(seconds=301)
    )
    counts = judging.judge_pending()
    assert (counts.judged, counts.skipped, counts.complete) == (1, 1, False)
    assert list(JudgingClaim.objects.values_list("token", flat=True)) == ["live"]
    assert Conversation.objects.get(pk=stale).quality_status != "pending"


def test_a_task_whose_worker_died_is_requeued_not_acknowledged() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


# --- the release file --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_write_removes_what_a_killed_writer_left(exporter: None, export_dir: Path) -> None:
    export_dir.mkdir(parents=True)
    leftovers = [
        ".esconv-release-0d1e.json.tmp",  # ours, killed before writing a byte
        "..release-0d1e.json.a1b2c3.tmp",  # chat.dataset's, under an earlier version
        ".release-0d1e.json",  # an earlier version's temporary name
    ]
    for name in leftovers:
        (export_dir / name).write_bytes(b"")
    (export_dir / "README.txt").write_text("not ours to remove")
    import_pending(3)

    result = run_quality_control()

    assert result.release is not None
    names = sorted(path.name for path in export_dir.iterdir())
    assert names == sorted(["README.txt", Path(result.release.path).name])


@pytest.mark.django_db
def test_no_release_is_written_without_an_approved_conversation(
    exporter: None, export_dir: Path
) -> None:
    export_dir.mkdir(parents=True)
    (export_dir / ".esconv-release-dead.json.tmp").write_bytes(b"")
    import_pending(2, review_every=1)  # both go to review

    out = StringIO()
    call_command("run_quality_control", stdout=out)

    assert "judged 2: filtered=0 approved=0 review=2" in out.getvalue()
    assert "no release: no conversation is approved yet" in out.getvalue()
    assert not Release.objects.exists()
    assert list(export_dir.iterdir()) == []  # the leftover went too
    assert write_release() is None and run_quality_control().release_status == "empty"


@pytest.mark.django_db
def test_the_release_file_is_fsynced_then_renamed_then_the_folder_fsynced(
    exporter: None, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_pending(2)
    judging.judge_pending()
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(source: Any, target: Any) -> None:
        events.append(("replace", f"{Path(source).name} -> {Path(target).name}"))
        real_replace(source, target)

    monkeypatch.setattr(releases.os, "fsync", fsync)
    monkeypatch.setattr(releases.os, "replace", replace)
    release = write_release()

    assert release is not None
    final = Path(release.path)
    (kind, temp), (rename, moved), (last, folder) = events
    assert (kind, rename, last) == ("fsync", "replace", "fsync")
    assert temp.endswith(".tmp") and Path(temp).parent == export_dir.resolve()
    assert moved == f"{Path(temp).name} -> {final.name}"
    assert Path(folder) == export_dir.resolve()


@pytest.mark.django_db
def test_a_failed_rename_leaves_neither_a_row_nor_a_file(
    exporter: None, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_pending(2)
    judging.judge_pending()

    def replace(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(releases.os, "replace", replace)
    with pytest.raises(QualityError, match="No space left on device"):
        write_release()
    assert not Release.objects.exists()
    assert list(export_dir.iterdir()) == []
