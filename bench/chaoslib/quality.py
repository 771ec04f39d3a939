"""Fault 4: the Celery worker killed (`kill -9`) in the middle of quality control.

The work: an ESConv-shaped file the bench writes (raw layout, docs/dataset.md) and imports as
pending conversations into a run of its own, judged by `quality.run_quality_control` on the
bench's worker, in small chunks (QUALITY_CONTROL_CHUNK_SIZE) so the job has a middle. To kill
the worker *while* it judges and not before or after, the bench waits until the first chunk's
decisions are committed, then holds `LOCK TABLE quality_decision IN SHARE MODE`: the worker's
next chunk stops at its INSERT, inside its chunk transaction, with its conversations locked.
Then the worker is killed, the lock released, the dead worker's session waited out, a new
worker started and the task sent again (as the next beat would). Afterwards every imported
conversation must have exactly one Decision and the newest release (if one was written) must
hold exactly the approved conversations.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.chaoslib.stack import Stack, kill_hard, manage, send_task, start_worker
from bench.chatload.clients import SEEKER_LINES, SUPPORTER_LINES
from crowd import vocabulary

TASK = "quality.run_quality_control"
QC_RUN = "chaos-qc"
UTTERANCES = 20
SITUATION = "Chaos bench conversation {i}: my workload doubled and I cannot sleep."
RUN_IDS = "SELECT c.id FROM chat_conversation c JOIN crowd_collectionrun r ON r.id = c.run_id"
DECIDED = f"SELECT count(*) FROM quality_decision WHERE conversation_id IN ({RUN_IDS} " + (
    "WHERE r.name = %s)"
)
PENDING = f"SELECT count(*) FROM ({RUN_IDS} WHERE r.name = %s AND c.quality_status = 'pending') p"


def chunk_size(conversations: int) -> int:
    """About forty chunks: the job has a middle to be killed in."""
    return max(5, conversations // 40)


def esconv_record(i: int) -> dict[str, Any]:
    """One conversation: half approved, a quarter too short (filtered), a quarter for review."""
    dialog = []
    for p in range(UTTERANCES if i % 4 else UTTERANCES // 2):
        if p % 2 == 0:
            line = SEEKER_LINES[(i + p) % len(SEEKER_LINES)]
            dialog.append({"speaker": "seeker", "annotation": {}, "content": line})
        else:
            line = SUPPORTER_LINES[(i + p) % len(SUPPORTER_LINES)]
            strategy = vocabulary.STRATEGY_NAMES[(i + p) % len(vocabulary.STRATEGY_NAMES)]
            dialog.append(
                {"speaker": "supporter", "annotation": {"strategy": strategy}, "content": line}
            )
    poor = i % 4 == 1  # no improvement, low empathy and relevance: a reviewer decides
    seeker = {"initial_emotion_intensity": "4", "empathy": "2" if poor else "4"}
    seeker.update(relevance="2" if poor else "4", final_emotion_intensity="4" if poor else "2")
    return {
        "experience_type": vocabulary.EXPERIENCE_TYPES[i % 2],
        "emotion_type": vocabulary.DEFAULT_EMOTIONS[i % len(vocabulary.DEFAULT_EMOTIONS)],
        "problem_type": vocabulary.DEFAULT_PROBLEMS[i % len(vocabulary.DEFAULT_PROBLEMS)],
        "situation": SITUATION.format(i=i),
        "survey_score": {"seeker": seeker, "supporter": {"relevance": "4"}},
        "dialog": dialog,
        "seeker_question1": "",
        "seeker_question2": "",
        "supporter_question1": "",
        "supporter_question2": "",
    }


def import_conversations(stack: Stack, count: int) -> str:
    """Write the ESConv-shaped file and import it, pending, into the bench's own run."""
    path = stack.logs / "chaos-esconv.json"
    path.write_text(json.dumps([esconv_record(i) for i in range(count)], indent=1))
    return manage(stack, "import_esconv", str(path), "--status", "pending", "--run", QC_RUN)


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, connect_timeout=5)


def scalar(conn: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _hold_mid_run(url: str, lock: psycopg.Connection[Any], timeout: float) -> dict[str, Any]:
    """Wait for the first committed chunk, then stop the worker at its next one (see above)."""
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + timeout
        while not scalar(conn, DECIDED, QC_RUN):
            if time.monotonic() > deadline:
                return {"mid_run": False, "why": "no decision within the timeout"}
            time.sleep(0.01)
        lock.execute("LOCK TABLE quality_decision IN SHARE MODE")
        waiting = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = "
        waiting += "'Lock' AND pid <> pg_backend_pid() AND query ILIKE '%%quality_decision%%'"
        name = conn.info.dbname
        deadline = time.monotonic() + 5
        while (backend := scalar(conn, waiting, name)) is None:
            if time.monotonic() > deadline:
                return {"mid_run": False, "why": "the job finished before it could be held"}
            time.sleep(0.02)
        return {
            "mid_run": True,
            "worker_backend": backend,
            "decided_at_kill": scalar(conn, DECIDED, QC_RUN),
            "pending_at_kill": scalar(conn, PENDING, QC_RUN),
        }


def _wait_backend_gone(url: str, pid: int | None, timeout: float = 30) -> float | None:
    """Seconds until the killed worker's database session ended (None: it never did)."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        alive = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
        while pid is not None and scalar(conn, alive, pid):
            if time.monotonic() - started > timeout:
                return None
            time.sleep(0.05)
    return round(time.monotonic() - started, 2)


def _task_outcome(log_paths: list[Path], task_id: str) -> str | None:
    """succeeded / failed / retry, from the worker logs; None while it has not finished."""
    pattern = re.compile(rf"{re.escape(TASK)}\[{re.escape(task_id)}\] (succeeded|raised|retry)")
    for path in log_paths:
        found = pattern.search(path.read_text(errors="replace"))
        if found:
            return {"raised": "failed"}.get(found.group(1), found.group(1))
    return None


def _received(log_paths: list[Path], task_id: str) -> bool:
    """Whether one of these worker logs took the task (a redelivery of the killed one)."""
    needle = f"{TASK}[{task_id}] received"
    return any(needle in path.read_text(errors="replace") for path in log_paths)


async def _wait_task(stack: Stack, task_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = _task_outcome(stack.worker_logs, task_id)
        if outcome in {"succeeded", "failed"}:
            return outcome
        await asyncio.sleep(0.2)
    return "timed out"


def check_quality(url: str) -> dict[str, Any]:
    """Exactly one Decision per imported conversation; the newest release = the approved set."""
    with psycopg.connect(url, autocommit=True) as conn:
        counts = conn.execute(
            f"SELECT count(d.id) FROM ({RUN_IDS} WHERE r.name = %s) c "
            "LEFT JOIN quality_decision d ON d.conversation_id = c.id GROUP BY c.id",
            (QC_RUN,),
        ).fetchall()
        approved = [
            row[0]
            for row in conn.execute(
                "SELECT situation FROM chat_conversation WHERE quality_status = 'approved' "
                "AND withdrawn_at IS NULL"
            )
        ]
        release = conn.execute(
            "SELECT number, path, count FROM quality_release ORDER BY number DESC LIMIT 1"
        ).fetchone()
        pending = scalar(conn, PENDING, QC_RUN)
    facts: dict[str, Any] = {
        "conversations": len(counts),
        "exactly_one_decision": sum(1 for (n,) in counts if n == 1),
        "no_decision": sum(1 for (n,) in counts if n == 0),
        "several_decisions": sum(1 for (n,) in counts if n > 1),
        "pending_after": pending,
        "approved": len(approved),
        "release": None,
    }
    if release is not None:
        number, path, count = release
        exported = [c["situation"] for c in json.loads(Path(path).read_text())]
        facts.update(release=number, release_count=count)
        facts["release_matches"] = sorted(exported) == sorted(approved) and count == len(exported)
    return facts


async def kill_worker_mid_qc(stack: Stack, conversations: int) -> dict[str, Any]:
    """Send the judging task, kill its worker mid-run, start another, check the outcome."""
    url = stack.database_url
    lock = await asyncio.to_thread(_connect, url)
    try:
        first = await asyncio.to_thread(send_task, stack, TASK, {"run_name": QC_RUN})
        facts = await asyncio.to_thread(_hold_mid_run, url, lock, 60)
        assert stack.worker is not None
        facts["killed_pid"], facts["pid_gone"] = kill_hard(stack.worker.process)
    finally:
        await asyncio.to_thread(lock.close)  # a rollback: the lock goes with it
    facts["dead_session_ended_s"] = await asyncio.to_thread(
        _wait_backend_gone, url, facts.get("worker_backend")
    )
    worker = await asyncio.to_thread(start_worker, stack, chunk_size(conversations))
    facts["new_worker_pid"] = worker.process.pid
    second = await asyncio.to_thread(send_task, stack, TASK, {"run_name": QC_RUN})
    facts["rerun"] = await _wait_task(stack, second, timeout=120)
    facts["first_task_redelivered"] = _received(stack.worker_logs[1:], first)
    facts.update(await asyncio.to_thread(check_quality, url))
    facts["ok"] = quality_ok(facts)
    return facts


def quality_ok(facts: dict[str, Any]) -> bool:
    return bool(
        facts.get("mid_run")
        and facts.get("pid_gone")
        and facts.get("rerun") == "succeeded"
        and facts["conversations"] > 0
        and facts["exactly_one_decision"] == facts["conversations"]
        and facts["pending_after"] == 0
        and (facts["release"] is None or facts.get("release_matches"))
    )
