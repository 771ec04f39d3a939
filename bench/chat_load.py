"""Chat load benchmark: P seeker–supporter pairs chatting through the real websocket protocol.

    .venv/bin/python bench/chat_load.py --pairs 100 --json

It starts everything it needs and removes it afterwards: a fresh PostgreSQL database (migrated),
P active conversations with their workers and sessions, the real ASGI server (uvicorn) on a
free port of 127.0.0.1, and, for comparison, a bare `websockets` relay (bench/relay.py) that
carries the same load with no Django and no database. Latency is measured in this one process
from just before the sender's send() to the partner receiving the relayed message frame.
Every message sent is then checked against the database (stored exactly once, with its client
id, in its conversation) and against what the partner received (exactly once).

See README.md ("Chat load benchmark") for what the figures mean. Exit status: 0 when every
message arrived exactly once and no pair failed, 1 otherwise, 2 when the bench could not set
itself up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
# Run as a script from anywhere: the project's packages must be importable.
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.typing import Origin  # noqa: E402

from crowd import vocabulary  # noqa: E402  (plain constants: no Django needed)

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/esc_bench"
# A Redis database number of its own; nothing is flushed (see _cleanup_redis).
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
CONNECT_CONCURRENCY = 64
# After the last delivery, keep listening this long so late duplicates are counted.
GRACE_SECONDS = 0.5
# Put in a side's queues when its connection is gone.
CLOSED = -1

SEEKER_LINES = (
    "Hi, thanks for talking with me. I've had a rough couple of weeks.",
    "Work has been piling up and I keep lying awake thinking about it.",
    "My manager moved the deadline forward again and I don't think I can make it.",
    "I haven't told anyone at home because I don't want them to worry.",
    "Some days I just feel like I'm failing at everything at once.",
    "I tried making a list yesterday but I only got through one item.",
    "Honestly it helps a bit just to say it to someone.",
    "I used to go running in the mornings, I stopped when all this started.",
    "Maybe I could ask a colleague to take over part of the project.",
    "I'm scared they'll think I can't handle my job.",
    "That's a fair point, I hadn't looked at it that way.",
    "I think I'll try talking to my manager on Monday.",
)
SUPPORTER_LINES = (
    "Hello, I'm glad you reached out. What has been weighing on you the most?",
    "It sounds like the pressure at work is following you home at night.",
    "That sounds exhausting, anyone would feel stretched thin by that.",
    "I went through something similar last year when my team shrank.",
    "You are clearly trying hard, and that counts for a lot.",
    "Would it help to break the project into the parts that truly have to be done first?",
    "Many people find that ten minutes of exercise in the morning steadies the whole day.",
    "How do you think your manager would react if you explained the workload?",
    "So the deadline is what worries you most, more than the work itself?",
    "Asking for help is a sign you take the work seriously, not a weakness.",
    "What would make Monday's conversation feel a little easier for you?",
    "I'm really glad talking it through helped. You've got a plan now.",
)


# --- options ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load-test the chat websocket with P concurrent seeker–supporter pairs."
    )
    parser.add_argument("--pairs", type=int, default=50, help="concurrent conversations (P)")
    parser.add_argument("--messages", type=int, default=10, help="messages each side sends (M)")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=200.0,
        help="mean pause before each message, drawn uniformly from 0.5× to 1.5× (0: flat out)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_SERVER,
        help="PostgreSQL server and base name; a fresh <name>_<random> database is created",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or DEFAULT_REDIS,
        help=f"Redis for the channel layer (default {DEFAULT_REDIS})",
    )
    parser.add_argument(
        "--channel-layer", choices=("pubsub", "core"), default="pubsub", help="CHANNEL_LAYER"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds allowed to each load phase"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--no-relay", action="store_true", help="skip the bare relay run")
    parser.add_argument("--seed", type=int, default=None, help="seed the think-time randomness")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object as the last line"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.pairs <= 5000:
        parser.error("--pairs must be between 1 and 5000")
    if not 1 <= args.messages <= 1000:
        parser.error("--messages must be between 1 and 1000")
    if not 0 <= args.think_ms <= 60_000:
        parser.error("--think-ms must be between 0 and 60000")
    if not 1 <= args.timeout <= 3600:
        parser.error("--timeout must be between 1 and 3600 seconds")
    if urlsplit(args.database_url).scheme not in {"postgres", "postgresql"}:
        parser.error("--database-url must be a postgresql:// URL")
    return args


def log(message: str) -> None:
    print(message, flush=True)


# --- processes, ports, limits -----------------------------------------------------------------


def raise_open_file_limit() -> int:
    """Two sockets per pair here, two more in the server: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as out:
        # A session of its own: a Ctrl-C in the terminal reaches only us, and we stop it.
        return subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def wait_until_ready(
    proc: subprocess.Popen[bytes], port: int, log_path: Path, timeout: float, path: str | None
) -> None:
    """Wait for the port to answer (and `path` to return 200 when given), or fail with the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchSetupError(f"process exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            if path is None:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise BenchSetupError(f"not ready after {timeout:.0f} s:\n{tail(log_path)}")


def cpu_seconds(proc: subprocess.Popen[bytes] | None) -> float:
    """CPU time (user + system) a process has used so far, from /proc; 0 where unavailable.

    Unlike latency, this cost per message barely depends on what else the machine is running.
    """
    if proc is None:
        return 0.0
    try:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # Fields 14 and 15 of stat (utime, stime); the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class BenchSetupError(Exception):
    pass


# --- database ---------------------------------------------------------------------------------


def fresh_database_url(base_url: str) -> tuple[str, str]:
    """A new database name on the given server: never an existing one, so dropping it is safe."""
    parts = urlsplit(base_url)
    base_name = parts.path.lstrip("/") or "esc_bench"
    name = f"{base_name}_{secrets.token_hex(4)}"[:63]
    return urlunsplit(parts._replace(path="/" + name)), name


def admin_connection(url: str) -> psycopg.Connection[Any]:
    parts = urlsplit(url)
    return psycopg.connect(
        urlunsplit(parts._replace(path="/postgres")), autocommit=True, connect_timeout=5
    )


def create_database(url: str, name: str) -> None:
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str, name: str) -> None:
    with admin_connection(url) as conn:
        # FORCE: a killed server may leave its connections behind for a moment.
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))


def configure_django(env: dict[str, str]) -> None:
    """Configure Django in this process with the server's environment (same database, secret)."""
    os.environ.update(env)
    import django

    django.setup()


@dataclass(frozen=True)
class PairSpec:
    index: int
    conversation_id: int
    seeker_session: str
    supporter_session: str


def create_conversations(pairs: int) -> tuple[list[PairSpec], int]:
    """P seekers, P qualified supporters, P active conversations and a session per worker.

    Conversation ids start at a random offset: the pub/sub channel layer's groups are global to
    the Redis server, so ids 1..P could meet another run's groups on a shared Redis.
    Returns the pairs and the run's feedback_every.
    """
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone

    from chat.models import Conversation
    from crowd.models import CollectionRun, Worker
    from crowd.selectors import SESSION_KEY

    now = timezone.now()
    base_id = random.randrange(1_000_000_000, 9_000_000_000)
    with transaction.atomic():
        run = CollectionRun.objects.create(
            name=f"bench-{secrets.token_hex(4)}", title="Chat load benchmark"
        )
        seekers = Worker.objects.bulk_create(
            Worker(
                run=run,
                role=vocabulary.SEEKER,
                provider=Worker.Provider.PROLIFIC,
                external_id=f"bench-seeker-{i}",
                stage=Worker.Stage.CHATTING,
                consented_at=now,
            )
            for i in range(pairs)
        )
        supporters = Worker.objects.bulk_create(
            Worker(
                run=run,
                role=vocabulary.SUPPORTER,
                provider=Worker.Provider.PROLIFIC,
                external_id=f"bench-supporter-{i}",
                stage=Worker.Stage.CHATTING,
                qualification=Worker.Qualification.QUALIFIED,
                qualified_at=now,
                consented_at=now,
            )
            for i in range(pairs)
        )
        conversations = Conversation.objects.bulk_create(
            Conversation(
                pk=base_id + i,
                run=run,
                seeker=seeker,
                supporter=supporter,
                experience_type=vocabulary.EXPERIENCE_TYPES[i % len(vocabulary.EXPERIENCE_TYPES)],
                emotion_type=vocabulary.DEFAULT_EMOTIONS[i % len(vocabulary.DEFAULT_EMOTIONS)],
                problem_type=vocabulary.DEFAULT_PROBLEMS[i % len(vocabulary.DEFAULT_PROBLEMS)],
                situation=(
                    "My workload doubled after two colleagues left and I can't sleep, "
                    "I worry every night that I'll lose my job if I miss another deadline."
                ),
                initial_emotion_intensity=1 + i % 5,
                state=Conversation.State.ACTIVE,
                started_at=now,
            )
            for i, (seeker, supporter) in enumerate(zip(seekers, supporters, strict=True))
        )
        # What SessionStore().create() stores, written in one INSERT instead of 2P.
        store = SessionStore()
        keys: dict[int, str] = {}
        rows = []
        for worker in (*seekers, *supporters):
            keys[worker.pk] = secrets.token_hex(16)
            rows.append(
                Session(
                    session_key=keys[worker.pk],
                    session_data=store.encode({SESSION_KEY: worker.pk}),
                    expire_date=now + timedelta(days=1),
                )
            )
        Session.objects.bulk_create(rows)
    specs = [
        PairSpec(i, c.pk, keys[c.seeker_id], keys[c.supporter_id])  # type: ignore[index]
        for i, c in enumerate(conversations)
    ]
    return specs, run.feedback_every


def stored_messages(conversation_ids: Iterable[int]) -> Counter[tuple[int, str | None]]:
    from chat.models import Utterance

    rows = Utterance.objects.filter(conversation_id__in=list(conversation_ids)).values_list(
        "conversation_id", "client_message_id"
    )
    return Counter((conv, client_id) for conv, client_id in rows)


def close_django_connections() -> None:
    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()


def cleanup_redis(redis_url: str, conversation_ids: Iterable[int]) -> None:
    """Delete the core layer's group keys of our conversations (pub/sub leaves nothing)."""
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=5)
        keys = [f"asgi:group:chat.conversation.{cid}" for cid in conversation_ids]
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()
    except Exception as exc:  # cleanup is best effort; the keys expire anyway
        log(f"warning: could not clean Redis group keys: {exc}")


# --- load -------------------------------------------------------------------------------------


@dataclass
class Side:
    """One websocket client: what it sent and everything it received."""

    role: str
    pair: PairClient
    ws: ClientConnection | None = None
    sent: list[str] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)  # the partner's messages, by id
    echoes: Counter[str] = field(default_factory=Counter)  # our own messages relayed back
    acks: dict[str, int] = field(default_factory=dict)
    hello: asyncio.Event = field(default_factory=asyncio.Event)
    feedback_requests: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    feedback_acks: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    other_frames: Counter[str] = field(default_factory=Counter)
    closing: bool = False  # we are closing it: a close is no error
    closed: bool = False  # the connection is gone: nothing more will arrive


@dataclass
class PairClient:
    spec: PairSpec
    sent_at: dict[str, float] = field(default_factory=dict)
    delivered: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed: bool = False
    seeker: Side = field(init=False)
    supporter: Side = field(init=False)

    def __post_init__(self) -> None:
        self.seeker = Side(vocabulary.SEEKER, self)
        self.supporter = Side(vocabulary.SUPPORTER, self)

    def partner(self, side: Side) -> Side:
        return self.supporter if side is self.seeker else self.seeker


@dataclass
class Transport:
    """How to reach a conversation: the real chat (full protocol) or the bare relay."""

    name: str
    port: int
    full_protocol: bool

    def url(self, spec: PairSpec) -> str:
        if self.full_protocol:
            return f"ws://127.0.0.1:{self.port}/ws/chat/{spec.conversation_id}/?after=0"
        return f"ws://127.0.0.1:{self.port}/room/{spec.conversation_id}/"

    def headers(self, spec: PairSpec, role: str) -> dict[str, str]:
        if not self.full_protocol:
            return {}
        key = spec.seeker_session if role == vocabulary.SEEKER else spec.supporter_session
        return {"Cookie": f"sessionid={key}"}


@dataclass
class LoadResult:
    transport: str
    pairs: list[PairClient]
    latencies_ms: list[float]
    connect_s: float
    chat_s: float
    timed_out: bool
    server_cpu_s: float


async def read_frames(side: Side, latencies: list[float]) -> None:
    """Record every frame a side receives; resolve the sender's wait when a message arrives."""
    pair = side.pair
    assert side.ws is not None
    try:
        async for raw in side.ws:
            now = time.perf_counter()
            try:
                frame = json.loads(raw)
            except ValueError:
                pair.errors.append(f"{side.role}: frame is not JSON: {raw!r:.200}")
                continue
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "message":
                client_id = str(frame.get("id"))
                if client_id in pair.sent_at and client_id in side.sent:
                    side.echoes[client_id] += 1
                    continue
                side.received[client_id] += 1
                if side.received[client_id] == 1 and client_id in pair.sent_at:
                    latencies.append((now - pair.sent_at[client_id]) * 1000)
                waiter = pair.delivered.get(client_id)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)
            elif kind == "ack":
                side.acks[str(frame.get("id"))] = int(frame.get("seq", 0))
            elif kind == "hello":
                side.hello.set()
            elif kind == "feedback_request":
                side.feedback_requests.put_nowait(int(frame["prompt"]))
            elif kind == "feedback_ack":
                side.feedback_acks.put_nowait(int(frame["prompt"]))
            elif kind == "error":
                pair.errors.append(
                    f"{side.role}: error {frame.get('code')}: {frame.get('message')}"
                    f" (ref {frame.get('ref')})"
                )
            elif kind == "ended":
                pair.errors.append(f"{side.role}: conversation ended: {frame.get('reason')}")
            else:
                side.other_frames[str(kind)] += 1
    except ConnectionClosed as exc:
        closed = f"connection closed by the server: {exc}"
    else:
        closed = "connection closed by the server"
    side.closed = True
    if not side.closing:
        pair.errors.append(f"{side.role}: {closed}")
        # Wake whoever waits on this side, so a refused or dropped socket fails its pair now
        # rather than at --timeout.
        for waiter in pair.delivered.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError(f"{side.role} connection closed"))
        side.hello.set()
        side.feedback_requests.put_nowait(CLOSED)
        side.feedback_acks.put_nowait(CLOSED)


async def open_side(
    side: Side, transport: Transport, gate: asyncio.Semaphore, timeout: float
) -> None:
    spec = side.pair.spec
    async with gate:
        side.ws = await connect(
            transport.url(spec),
            origin=Origin(f"http://127.0.0.1:{transport.port}"),
            additional_headers=transport.headers(spec, side.role),
            open_timeout=timeout,
            # The server pings; client pings would only add traffic to the measurement.
            ping_interval=None,
            close_timeout=2,
            max_queue=None,
        )


def think(think_ms: float, rng: random.Random) -> float:
    return think_ms * rng.uniform(0.5, 1.5) / 1000 if think_ms > 0 else 0.0


async def send_message(side: Side, index: int, deadline: float) -> None:
    """Send message `index` of this side and wait until the partner receives it."""
    pair = side.pair
    assert side.ws is not None
    client_id = f"p{pair.spec.index}-{side.role}-{index}"
    turn = pair.spec.index + index
    if side.role == vocabulary.SEEKER:
        frame: dict[str, Any] = {
            "type": "message",
            "id": client_id,
            "text": SEEKER_LINES[turn % len(SEEKER_LINES)],
        }
    else:
        frame = {
            "type": "message",
            "id": client_id,
            "text": SUPPORTER_LINES[turn % len(SUPPORTER_LINES)],
            "strategy": vocabulary.STRATEGY_NAMES[turn % len(vocabulary.STRATEGY_NAMES)],
        }
    waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    pair.delivered[client_id] = waiter
    side.sent.append(client_id)
    pair.sent_at[client_id] = time.perf_counter()
    await side.ws.send(json.dumps(frame))
    try:
        await asyncio.wait_for(waiter, timeout=max(0.01, deadline - time.monotonic()))
    except TimeoutError:
        raise TimeoutError(f"{client_id} not delivered to the partner in time") from None


async def answer_feedback(side: Side, score: int, deadline: float) -> None:
    assert side.ws is not None
    remaining = max(0.01, deadline - time.monotonic())
    try:
        prompt = await asyncio.wait_for(side.feedback_requests.get(), timeout=remaining)
    except TimeoutError:
        raise TimeoutError("no feedback_request arrived when one was due") from None
    if prompt == CLOSED:
        raise ConnectionError(f"{side.role} connection closed")
    await side.ws.send(json.dumps({"type": "feedback", "prompt": prompt, "score": score}))
    try:
        if await asyncio.wait_for(side.feedback_acks.get(), timeout=remaining) == CLOSED:
            raise ConnectionError(f"{side.role} connection closed")
    except TimeoutError:
        raise TimeoutError(f"feedback for prompt {prompt} was not acknowledged") from None


async def chat(
    pair: PairClient,
    messages: int,
    think_ms: float,
    feedback_every: int,
    full_protocol: bool,
    deadline: float,
    rng: random.Random,
) -> None:
    """Alternate seeker and supporter, M messages each; the seeker answers every prompt."""
    supporter_sent = 0
    try:
        for index in range(messages):
            if full_protocol and supporter_sent and supporter_sent % feedback_every == 0:
                await asyncio.sleep(think(think_ms, rng))
                await answer_feedback(pair.seeker, 1 + (pair.spec.index + index) % 5, deadline)
            await asyncio.sleep(think(think_ms, rng))
            await send_message(pair.seeker, index, deadline)
            await asyncio.sleep(think(think_ms, rng))
            await send_message(pair.supporter, index, deadline)
            supporter_sent += 1
        if full_protocol and supporter_sent % feedback_every == 0:
            await answer_feedback(pair.seeker, 5, deadline)
    except (TimeoutError, ConnectionError, ConnectionClosed) as exc:
        pair.failed = True
        pair.errors.append(f"pair {pair.spec.index}: {exc}")


async def run_load(
    transport: Transport,
    specs: list[PairSpec],
    messages: int,
    think_ms: float,
    feedback_every: int,
    timeout: float,
    seed: int | None,
    server: subprocess.Popen[bytes] | None,
) -> LoadResult:
    pairs = [PairClient(spec) for spec in specs]
    latencies: list[float] = []
    readers: list[asyncio.Task[None]] = []
    rng = random.Random(seed)
    deadline = time.monotonic() + timeout
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    timed_out = False

    # Connect every socket first, so the chat phase measures chatting, not a connection storm.
    started = time.perf_counter()

    async def open_pair(pair: PairClient) -> None:
        try:
            for side in (pair.seeker, pair.supporter):
                await open_side(side, transport, gate, max(1.0, deadline - time.monotonic()))
                readers.append(asyncio.create_task(read_frames(side, latencies)))
            if transport.full_protocol:
                for side in (pair.seeker, pair.supporter):
                    await asyncio.wait_for(
                        side.hello.wait(), timeout=max(0.01, deadline - time.monotonic())
                    )
                    if side.closed:
                        raise ConnectionError(f"{side.role} was refused before its hello")
        except Exception as exc:
            pair.failed = True
            pair.errors.append(f"pair {pair.spec.index}: could not connect: {exc!r}")

    await asyncio.gather(*(open_pair(pair) for pair in pairs))
    connect_s = time.perf_counter() - started

    started = time.perf_counter()
    cpu_before = cpu_seconds(server)
    chats = {
        asyncio.create_task(
            chat(pair, messages, think_ms, feedback_every, transport.full_protocol, deadline, rng)
        ): pair
        for pair in pairs
        if not pair.failed
    }
    if chats:
        _, pending = await asyncio.wait(chats, timeout=max(0.01, deadline - time.monotonic()))
        if pending:
            timed_out = True
            for task in pending:
                task.cancel()
                chats[task].failed = True
                chats[task].errors.append(f"pair {chats[task].spec.index}: --timeout reached")
            await asyncio.gather(*pending, return_exceptions=True)
    chat_s = time.perf_counter() - started
    server_cpu_s = cpu_seconds(server) - cpu_before

    await asyncio.sleep(GRACE_SECONDS)
    for pair in pairs:
        for side in (pair.seeker, pair.supporter):
            side.closing = True
    await asyncio.gather(
        *(
            side.ws.close()
            for pair in pairs
            for side in (pair.seeker, pair.supporter)
            if side.ws is not None
        ),
        return_exceptions=True,
    )
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return LoadResult(transport.name, pairs, latencies, connect_s, chat_s, timed_out, server_cpu_s)


# --- figures ----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Check:
    sent: int = 0
    delivered: int = 0
    lost_delivery: set[str] = field(default_factory=set)
    duplicated_delivery: set[str] = field(default_factory=set)
    lost_db: set[str] = field(default_factory=set)
    duplicated_db: set[str] = field(default_factory=set)
    unexpected: int = 0
    echo_missing: int = 0
    echo_duplicated: int = 0
    missing_acks: int = 0
    failed_pairs: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.lost_delivery | self.lost_db)

    @property
    def duplicated(self) -> int:
        return len(self.duplicated_delivery | self.duplicated_db)


def check(result: LoadResult, stored: Counter[tuple[int, str | None]] | None) -> Check:
    """Every message sent must reach the partner once (and the database once, when given)."""
    out = Check()
    sent_keys: set[tuple[int, str]] = set()
    for pair in result.pairs:
        out.failed_pairs += pair.failed
        out.errors.extend(pair.errors)
        for side in (pair.seeker, pair.supporter):
            partner = pair.partner(side)
            for client_id in side.sent:
                out.sent += 1
                sent_keys.add((pair.spec.conversation_id, client_id))
                count = partner.received[client_id]
                out.delivered += count > 0
                if count == 0:
                    out.lost_delivery.add(client_id)
                elif count > 1:
                    out.duplicated_delivery.add(client_id)
                echoes = side.echoes[client_id]
                out.echo_missing += echoes == 0
                out.echo_duplicated += echoes > 1
                if stored is not None:
                    out.missing_acks += client_id not in side.acks
                    db_count = stored[(pair.spec.conversation_id, client_id)]
                    if db_count == 0:
                        out.lost_db.add(client_id)
                    elif db_count > 1:
                        out.duplicated_db.add(client_id)
            out.unexpected += sum(1 for cid in side.received if cid not in pair.sent_at)
    if stored is not None:
        out.unexpected += sum(n for key, n in stored.items() if key not in sent_keys)
    return out


def summarize(result: LoadResult, checked: Check) -> dict[str, float]:
    rate = checked.delivered / result.chat_s if result.chat_s > 0 else 0.0
    cpu_per_message = result.server_cpu_s * 1000 / checked.delivered if checked.delivered else 0.0
    return {
        "cpu_ms_per_msg": round(cpu_per_message, 2),
        "p50_ms": round(percentile(result.latencies_ms, 50), 2),
        "p90_ms": round(percentile(result.latencies_ms, 90), 2),
        "p99_ms": round(percentile(result.latencies_ms, 99), 2),
        "max_ms": round(max(result.latencies_ms, default=0.0), 2),
        "msgs_per_s": round(rate, 1),
    }


def describe(label: str, result: LoadResult, checked: Check, figures: dict[str, float]) -> None:
    log(
        f"{label}: {len(result.pairs)} pairs, {checked.sent} messages sent, "
        f"{checked.delivered} delivered in {result.chat_s:.1f} s "
        f"(connecting took {result.connect_s:.1f} s)"
    )
    log(
        f"  latency p50 {figures['p50_ms']:.1f} ms, p90 {figures['p90_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms; "
        f"{figures['msgs_per_s']:.0f} messages/s; "
        f"server CPU {figures['cpu_ms_per_msg']:.2f} ms per message"
    )
    log(
        f"  lost {checked.lost} (delivery {len(checked.lost_delivery)}, "
        f"database {len(checked.lost_db)}), duplicated {checked.duplicated}, "
        f"echo missing {checked.echo_missing}, echo duplicated {checked.echo_duplicated}, "
        f"missing acks {checked.missing_acks}, "
        f"unexpected {checked.unexpected}, failed pairs {checked.failed_pairs}"
        + (", TIMED OUT" if result.timed_out else "")
    )
    for line in checked.errors[:10]:
        log(f"  ! {line}")
    if len(checked.errors) > 10:
        log(f"  ! ... and {len(checked.errors) - 10} more errors")


def server_problems(log_path: Path) -> tuple[int, list[str]]:
    """Count tracebacks and error lines in the server log; return the distinct last lines."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    lines = text.splitlines()
    errors = [ln for ln in lines if re.search(r"\b(ERROR|CRITICAL|Traceback)\b", ln)]
    # The last line of each traceback names the exception.
    finals: Counter[str] = Counter()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                j += 1
            if j < len(lines):
                finals[lines[j][:200]] += 1
    summary = [f"{n}× {line}" for line, n in finals.most_common(10)]
    return len(errors), summary


# --- main -------------------------------------------------------------------------------------


@dataclass
class Resources:
    database_url: str = ""
    database_name: str = ""
    database_created: bool = False
    server: subprocess.Popen[bytes] | None = None
    relay: subprocess.Popen[bytes] | None = None
    conversation_ids: list[int] = field(default_factory=list)


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwind through the `finally` blocks, like Ctrl-C, so everything is cleaned up.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    nofile = raise_open_file_limit()
    if nofile < 4 * args.pairs + 64:
        log(f"warning: open-file limit is {nofile}; {4 * args.pairs} sockets are needed")
    res = Resources()
    workdir = Path(tempfile.mkdtemp(prefix="esc-bench-"))
    server_log = workdir / "server.log"
    relay_log = workdir / "relay.log"
    outcome: dict[str, Any] = {}
    exit_code = 0
    try:
        res.database_url, res.database_name = fresh_database_url(args.database_url)
        create_database(res.database_url, res.database_name)
        res.database_created = True
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="esc_platform.settings",
            DATABASE_URL=res.database_url,
            REDIS_URL=args.redis_url,
            CHANNEL_LAYER=args.channel_layer,
            DJANGO_DEBUG="False",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_LEVEL="WARNING",
        )
        log(f"database {res.database_name}: migrating")
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if migrate.returncode != 0:
            raise BenchSetupError(f"migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
        configure_django(env)
        specs, feedback_every = create_conversations(args.pairs)
        res.conversation_ids = [s.conversation_id for s in specs]
        close_django_connections()

        port = free_port()
        res.server = start_process(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "esc_platform.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env,
            server_log,
        )
        wait_until_ready(res.server, port, server_log, 60, "/healthz")
        log(
            f"ESC chat server on 127.0.0.1:{port} ({args.channel_layer} channel layer, "
            f"{args.redis_url}); {args.pairs} pairs × {args.messages} messages per side, "
            f"think {args.think_ms:.0f} ms"
        )
        chat_transport = Transport("ESC chat", port, full_protocol=True)
        # Other work on the machine shares the cores: record how busy it was around the run.
        chat_load_before = os.getloadavg()[0]
        chat_result = asyncio.run(
            run_load(
                chat_transport,
                specs,
                args.messages,
                args.think_ms,
                feedback_every,
                args.timeout,
                args.seed,
                res.server,
            )
        )
        chat_load_after = os.getloadavg()[0]
        stop_process(res.server)
        stored = stored_messages(res.conversation_ids)
        close_django_connections()
        chat_check = check(chat_result, stored)
        chat_figures = summarize(chat_result, chat_check)
        describe("ESC chat", chat_result, chat_check, chat_figures)
        log(
            f"  1-minute load average {chat_load_before:.2f} before, {chat_load_after:.2f} after "
            f"({os.cpu_count()} cores); DJANGO_CONN_MAX_AGE={env.get('DJANGO_CONN_MAX_AGE', '0')}"
        )
        n_server_errors, error_summary = server_problems(server_log)
        if n_server_errors:
            log(f"  server log: {n_server_errors} error lines")
            for line in error_summary:
                log(f"    {line}")

        relay_figures: dict[str, float] = {}
        relay_check: Check | None = None
        if not args.no_relay:
            relay_port = free_port()
            res.relay = start_process(
                [sys.executable, str(REPO / "bench" / "relay.py"), "--port", str(relay_port)],
                env,
                relay_log,
            )
            wait_until_ready(res.relay, relay_port, relay_log, 30, None)
            relay_result = asyncio.run(
                run_load(
                    Transport("bare relay", relay_port, full_protocol=False),
                    specs,
                    args.messages,
                    args.think_ms,
                    feedback_every,
                    args.timeout,
                    args.seed,
                    res.relay,
                )
            )
            stop_process(res.relay)
            relay_check = check(relay_result, None)
            relay_figures = summarize(relay_result, relay_check)
            describe("bare websockets relay", relay_result, relay_check, relay_figures)
            if relay_figures["p50_ms"] > 0 and relay_figures["msgs_per_s"] > 0:
                p50 = chat_figures["p50_ms"] / relay_figures["p50_ms"]
                p99 = chat_figures["p99_ms"] / max(relay_figures["p99_ms"], 0.01)
                rate = chat_figures["msgs_per_s"] / relay_figures["msgs_per_s"]
                log(f"ESC chat vs bare relay: p50 ×{p50:.1f}, p99 ×{p99:.1f}, rate ×{rate:.2f}")

        outcome = {
            "pairs": args.pairs,
            "p50_ms": chat_figures["p50_ms"],
            "p99_ms": chat_figures["p99_ms"],
            "msgs_per_s": chat_figures["msgs_per_s"],
            "lost": chat_check.lost,
            "duplicated": chat_check.duplicated,
            "relay_p50_ms": relay_figures.get("p50_ms"),
            "relay_p99_ms": relay_figures.get("p99_ms"),
            "relay_msgs_per_s": relay_figures.get("msgs_per_s"),
            "messages_per_side": args.messages,
            "think_ms": args.think_ms,
            "channel_layer": args.channel_layer,
            "sent": chat_check.sent,
            "delivered": chat_check.delivered,
            "p90_ms": chat_figures["p90_ms"],
            "max_ms": chat_figures["max_ms"],
            "lost_delivery": len(chat_check.lost_delivery),
            "lost_db": len(chat_check.lost_db),
            "duplicated_delivery": len(chat_check.duplicated_delivery),
            "duplicated_db": len(chat_check.duplicated_db),
            "unexpected": chat_check.unexpected,
            "echo_missing": chat_check.echo_missing,
            "echo_duplicated": chat_check.echo_duplicated,
            "missing_acks": chat_check.missing_acks,
            "failed_pairs": chat_check.failed_pairs,
            "errors": len(chat_check.errors),
            "server_errors": n_server_errors,
            "timed_out": chat_result.timed_out,
            "connect_s": round(chat_result.connect_s, 2),
            "chat_s": round(chat_result.chat_s, 2),
            "cpu_ms_per_msg": chat_figures["cpu_ms_per_msg"],
            "relay_cpu_ms_per_msg": relay_figures.get("cpu_ms_per_msg"),
            "conn_max_age": env.get("DJANGO_CONN_MAX_AGE", "0"),
            "load_avg_1m": [round(chat_load_before, 2), round(chat_load_after, 2)],
            "relay_lost": relay_check.lost if relay_check else None,
            "relay_duplicated": relay_check.duplicated if relay_check else None,
        }
        healthy = (
            chat_check.lost == 0
            and chat_check.duplicated == 0
            and chat_check.failed_pairs == 0
            and chat_check.unexpected == 0
            and chat_check.echo_missing == 0
            and chat_check.echo_duplicated == 0
            and chat_check.missing_acks == 0
            and not chat_result.timed_out
        )
        exit_code = 0 if healthy else 1
    except BenchSetupError as exc:
        log(f"bench setup failed: {exc}")
        exit_code = 2
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        exit_code = 130
    finally:
        stop_process(res.server)
        stop_process(res.relay)
        close_django_connections()
        if res.conversation_ids:
            cleanup_redis(args.redis_url, res.conversation_ids)
        if res.database_created:
            if args.keep_db:
                log(f"kept database {res.database_url}")
            else:
                try:
                    drop_database(res.database_url, res.database_name)
                except psycopg.Error as exc:
                    log(f"warning: could not drop database {res.database_name}: {exc}")
        for path in (server_log, relay_log):
            path.unlink(missing_ok=True)
        workdir.rmdir()
    if args.json and outcome:
        print(json.dumps(outcome), flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
