"""Time quality control on many synthetic conversations (set-based judging at scale).

    .venv/bin/python bench/quality_scale.py --conversations 100000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/esc_quality_bench

It migrates a database, adds the conversations in bulk, judges them once, and prints the time
and the number of SQL queries the judging issued (a constant number per chunk of
QUALITY_CONTROL_CHUNK_SIZE conversations, or --chunk-size). With --json the last line is one
JSON object: conversations, utterances, chunk_size, chunks, seconds, conversations_per_s,
queries, queries_per_chunk and the outcome counts.

The database is a throwaway one, so the development database (db.sqlite3, SQLITE_PATH, an
ambient DATABASE_URL) is never touched:

- by default a temporary SQLite file, deleted afterwards;
- with --postgres SERVER_URL a fresh PostgreSQL database on that server, named after the URL's
  database with a random suffix, created for the run and dropped after it;
- with --database-url URL (or BENCH_DATABASE_URL) exactly that database, meant for a scratch
  one: the bench's run (bench-quality-<random>) stays in it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import create_database, drop_database, fresh_database_url, use_database


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20000)
    parser.add_argument("--utterances", type=int, default=20)
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="conversations per chunk (default: the QUALITY_CONTROL_CHUNK_SIZE setting)",
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="create a fresh PostgreSQL database on this server and drop it afterwards",
    )
    where.add_argument(
        "--database-url",
        default=None,
        help="use exactly this database (default: a temporary SQLite file, deleted afterwards)",
    )
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.utterances < 1:
        parser.error("--conversations and --utterances must be at least 1")
    if args.chunk_size is not None and not 1 <= args.chunk_size <= 500:
        parser.error("--chunk-size must be between 1 and 500 (the setting's own bounds)")
    if args.database_url is None and args.postgres is None:
        args.database_url = os.environ.get("BENCH_DATABASE_URL") or None
    return args


@contextmanager
def bench_database(args: argparse.Namespace) -> Iterator[str]:
    """Set up Django on the bench's database for the duration; yield a description of it."""
    workdir = Path(tempfile.mkdtemp(prefix="esc-quality-bench-"))
    created: tuple[str, str] | None = None
    try:
        if args.postgres:
            created = fresh_database_url(args.postgres)
            create_database(*created)
            use_database(created[0], workdir)
            described = f"fresh PostgreSQL database {created[1]} (dropped afterwards)"
        elif args.database_url:
            use_database(args.database_url, workdir)
            described = f"{args.database_url} (as given)"
        else:
            env = use_database(None, workdir)
            described = f"temporary SQLite file {env['SQLITE_PATH']} (deleted afterwards)"
        import django

        django.setup()
        yield described
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if created:
            drop_database(*created)
        shutil.rmtree(workdir, ignore_errors=True)


def populate(run: Any, n: int, utterances: int, batch: int = 2000) -> None:
    """n ended conversations of the run, `utterances` each, with a seeker survey."""
    from django.db import transaction

    made = 0
    while made < n:
        size = min(batch, n - made)
        with transaction.atomic():
            add_conversations(run, size, utterances)
        made += size
        print(f"\rpopulated {made}/{n}", end="", flush=True)
    print()


def add_conversations(run: Any, size: int, utterances: int) -> None:
    from chat.models import Conversation, Utterance
    from surveys.models import SeekerPostChatSurvey

    convs = Conversation.objects.bulk_create(
        [
            Conversation(
                run=run,
                experience_type="Current Experience",
                emotion_type="anxiety",
                problem_type="job crisis",
                situation="bench",
                initial_emotion_intensity=4,
                state=Conversation.State.ENDED,
                end_reason=Conversation.EndReason.FINISHED,
            )
            for _ in range(size)
        ]
    )
    Utterance.objects.bulk_create(
        [utterance(c, i, p) for i, c in enumerate(convs) for p in range(utterances)],
        batch_size=5000,
    )
    SeekerPostChatSurvey.objects.bulk_create(
        [
            SeekerPostChatSurvey(
                conversation=c, final_emotion_intensity=2 + i % 3, empathy=4, relevance=4
            )
            for i, c in enumerate(convs)
        ]
    )


def utterance(conversation: Any, i: int, position: int) -> Any:
    from chat.models import Utterance
    from crowd import vocabulary

    seeker = position % 2 == 0
    return Utterance(
        conversation=conversation,
        position=position,
        speaker=vocabulary.SEEKER if seeker else vocabulary.SUPPORTER,
        text=" ".join(["word"] * (5 + (i + position) % 5)),
        strategy=None if seeker else "Question",
    )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crowd.models import CollectionRun
    from quality.judging import judge_pending

    call_command("migrate", verbosity=0)
    run = CollectionRun.objects.create(name=f"bench-quality-{secrets.token_hex(4)}")
    t0 = time.perf_counter()
    populate(run, args.conversations, args.utterances)
    # Freshly bulk-loaded tables have no planner statistics yet (autovacuum has not run);
    # a live database has them.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"populate: {time.perf_counter() - t0:.1f} s")
    size = args.chunk_size or settings.QUALITY_CONTROL_CHUNK_SIZE
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        counts = judge_pending(run=run, chunk_size=size)
    elapsed = time.perf_counter() - t0
    chunks = -(-args.conversations // size)
    print(
        f"judged {counts.judged} conversations ({args.utterances} utterances each) in "
        f"{elapsed:.1f} s = {counts.judged / elapsed:.0f}/s with {len(queries)} queries "
        f"({len(queries) / chunks:.1f} per chunk of {size}); {counts.as_dict()}"
    )
    return {
        "conversations": args.conversations,
        "utterances": args.utterances,
        "chunk_size": size,
        "chunks": chunks,
        "seconds": round(elapsed, 3),
        "conversations_per_s": round(counts.judged / elapsed, 1),
        "queries": len(queries),
        "queries_per_chunk": round(len(queries) / chunks, 2),
        **counts.as_dict(),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with bench_database(args) as described:
        print(f"database: {described}", flush=True)
        figures = measure(args)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
