"""How fast, and in how much memory, does `export_esconv` write N ESConv-shaped conversations?

    .venv/bin/python bench/export_scale.py --n 100000 --json

Builds N synthetic conversations shaped like ESConv (about 29 utterances each, realistic text
lengths, strategies, feedback and surveys) with bulk inserts, then runs `manage.py export_esconv`
in a child process and reports its wall time and peak RSS (so building the data does not count).

In the same run it times a bare baseline: a plain loop in this process that reads the same rows
with DB-API cursors (hand-written SQL, no ORM), builds each conversation's dict and writes it
with the standard library's `json` (`json.dumps(..., indent=1)` for raw, as the dataset's files
were written). The baseline's file must be byte-for-byte the export's, or the bench fails; the
export's time divided by the baseline's is `ratio`.

By default the data goes into a temporary SQLite file that is deleted afterwards, so the
development database is never touched (an ambient DATABASE_URL is ignored on purpose).
`--database-url` (or BENCH_DATABASE_URL) uses that database instead: the bench migrates it, puts
its data in a run of its own and deletes that data at the end.

The last line with --json is one JSON object with keys n, seconds, conversations_per_s,
peak_rss_mb, baseline_seconds and ratio (plus a few descriptive extras).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.child import run_measured  # noqa: E402
from bench.exportbaseline import baseline, sha256  # noqa: E402
from bench.scratch import use_database  # noqa: E402

BATCH = 1000  # conversations per bulk insert

# The synthetic texts' vocabulary.
_VOCABULARY = """
    i feel really so just like about my job work friends family think know want need time
    today always never sometimes help talk better worse anxious sad tired lonely
    understand that sounds hard difficult maybe could would try talking someone trust have
    been going through this lately it is okay to feel way you are not alone what do when
    did start how long happened partner school exams money sleep night day week
"""
WORDS = tuple(_VOCABULARY.split())


def _sentence(rng: random.Random, mean: float, spread: float) -> str:
    n = max(1, int(rng.gauss(mean, spread)))
    text = " ".join(rng.choices(WORDS, k=n))
    return text[0].upper() + text[1:] + rng.choice((".", "?", ".\n", "!"))


def build(n: int, run_name: str, seed: int) -> float:
    """Insert n conversations into a new run; return the seconds it took."""
    from django.db import reset_queries, transaction

    from chat.models import Conversation, Utterance
    from crowd.models import CollectionRun
    from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

    rng = random.Random(seed)
    started = time.perf_counter()
    run = CollectionRun.objects.create(name=run_name, title="export bench", is_active=False)
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        with transaction.atomic():
            rows = [_conversation(run, rng) for _ in range(size)]
            Conversation.objects.bulk_create(rows)
            utterances: list[dict[str, Any]] = []
            seeker_surveys: list[Any] = []
            supporter_surveys: list[Any] = []
            for conversation in rows:
                utterances.extend(_utterances(conversation, rng))
                seeker, supporter = _surveys(conversation, rng)
                seeker_surveys.extend(seeker)
                supporter_surveys.extend(supporter)
            insert_rows(Utterance, utterances)
            SeekerPostChatSurvey.objects.bulk_create(seeker_surveys, batch_size=1000)
            SupporterPostChatSurvey.objects.bulk_create(supporter_surveys, batch_size=1000)
        # With DEBUG on, Django keeps every statement's SQL: megabytes per batch here.
        reset_queries()
    return time.perf_counter() - started


def _conversation(run: Any, rng: random.Random) -> Any:
    from chat.models import Conversation
    from crowd import vocabulary

    return Conversation(
        run=run,
        experience_type=rng.choice(vocabulary.EXPERIENCE_TYPES),
        emotion_type=rng.choice(vocabulary.DATASET_EMOTIONS),
        problem_type=rng.choice(vocabulary.DATASET_PROBLEMS),
        situation=_sentence(rng, 25, 8),
        initial_emotion_intensity=rng.randint(1, 5),
        state=Conversation.State.ENDED,
        end_reason=Conversation.EndReason.FINISHED,
        quality_status=Conversation.QualityStatus.APPROVED,
    )


def insert_rows(model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT plain rows (attname -> value) with one executemany; other fields get defaults.

    Building model instances for bulk_create costs far more than the database's own work at
    millions of utterances, and only the bench's data-building pays it here.
    """
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    statement = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
    statement += f"VALUES ({marks})"
    values = [tuple(row.get(f.attname, defaults[f.attname]) for f in fields) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(statement, values)


def _utterances(conversation: Any, rng: random.Random) -> list[dict[str, Any]]:
    """20 to 38 turns, about half the supporter's; feedback after every second supporter turn."""
    from crowd import vocabulary

    rows = []
    supporter_since_feedback = 0
    for position in range(1, rng.randint(20, 38) + 1):
        if rng.random() < 0.52:
            rows.append(
                {
                    "conversation_id": conversation.pk,
                    "position": position,
                    "speaker": vocabulary.SUPPORTER,
                    "text": _sentence(rng, 20, 9),
                    "strategy": rng.choice(vocabulary.STRATEGY_NAMES),
                }
            )
            supporter_since_feedback += 1
        else:
            feedback = None
            if supporter_since_feedback >= 2:
                feedback, supporter_since_feedback = rng.randint(1, 5), 0
            rows.append(
                {
                    "conversation_id": conversation.pk,
                    "position": position,
                    "speaker": vocabulary.SEEKER,
                    "text": _sentence(rng, 15, 7),
                    "feedback": feedback,
                }
            )
    return rows


def _surveys(conversation: Any, rng: random.Random) -> tuple[list[Any], list[Any]]:
    """The seeker's post-chat survey (88 % of conversations) and the supporter's (85 %)."""
    from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

    seeker, supporter = [], []
    if rng.random() < 0.88:
        seeker.append(
            SeekerPostChatSurvey(
                conversation=conversation,
                final_emotion_intensity=rng.randint(1, 5),
                empathy=rng.randint(1, 5),
                relevance=rng.randint(1, 5),
                question1=_sentence(rng, 8, 4),
                question2=_sentence(rng, 6, 4),
                email="someone@example.org",  # must never reach the export
            )
        )
    if rng.random() < 0.85:
        supporter.append(
            SupporterPostChatSurvey(
                conversation=conversation,
                seeker_detail=rng.randint(0, 5),
                question1=_sentence(rng, 6, 3),
            )
        )
    return seeker, supporter


def export(env: dict[str, str], run_name: str, output: Path, fmt: str) -> tuple[float, float]:
    """Run the export command in a child; return (seconds, the child's peak RSS in MB)."""
    command = [
        sys.executable,
        str(REPO / "manage.py"),
        "export_esconv",
        "--output",
        str(output),
        "--format",
        fmt,
        "--status",
        "all",
        "--run",
        run_name,
    ]
    return run_measured(command, env, output.with_suffix(".log"), cwd=REPO)


def cleanup(run_name: str) -> None:
    """Delete the bench's rows with plain DELETE statements.

    Django's cascade collector would load every utterance (quality flags point at them) to
    look for dependents; the bench created none, so the rows go directly, children first.
    """
    from chat.models import Conversation, Utterance
    from crowd.models import CollectionRun
    from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

    for queryset in (
        Utterance.objects.filter(conversation__run__name=run_name),
        SeekerPostChatSurvey.objects.filter(conversation__run__name=run_name),
        SupporterPostChatSurvey.objects.filter(conversation__run__name=run_name),
        Conversation.objects.filter(run__name=run_name),
        CollectionRun.objects.filter(name=run_name),
    ):
        queryset._raw_delete(queryset.db)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1300, help="conversations (default 1300)")
    parser.add_argument("--format", dest="fmt", choices=("raw", "jsonl"), default="raw")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="database to use (default: a temporary SQLite file, deleted afterwards)",
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    return args


def time_baseline(run_name: str, workdir: Path, output: Path, args: argparse.Namespace) -> float:
    """The bare baseline's seconds; it must write the export's bytes, or the bench fails."""
    bare = workdir / f"baseline.{args.fmt}"
    # The baseline runs in this process, which built the data: move what building left out of
    # the collector's way, so the loop is timed as in a fresh process (without its start-up,
    # which the export's time includes).
    gc.collect()
    gc.freeze()
    baseline_seconds, written = baseline(run_name, bare, args.fmt)
    if written != args.n or sha256(bare) != sha256(output):
        raise SystemExit(
            f"the baseline wrote {written} conversations and a file that differs from the "
            "export's: they no longer measure the same work"
        )
    return baseline_seconds


def measure(
    args: argparse.Namespace, env: dict[str, str], run_name: str, workdir: Path
) -> dict[str, Any]:
    """Build the data, export it in a child process; print and return the figures."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    build_seconds = build(args.n, run_name, args.seed)
    # A freshly bulk-loaded table has no planner statistics yet (autovacuum has not run),
    # and PostgreSQL then picks bad plans for the chunk queries; a live database has them.
    connection.cursor().execute("ANALYZE")
    print(f"built {args.n} conversations in {build_seconds:.1f} s", flush=True)
    output = workdir / f"export.{args.fmt}"
    seconds, peak_mb = export(env, run_name, output, args.fmt)
    size_mb = output.stat().st_size / 1e6
    rate = args.n / seconds
    print(
        f"exported {args.n} conversations ({size_mb:.1f} MB, {args.fmt}) in {seconds:.2f} s: "
        f"{rate:.0f} conversations/s, peak RSS {peak_mb:.1f} MB",
        flush=True,
    )
    baseline_seconds = time_baseline(run_name, workdir, output, args)
    ratio = seconds / baseline_seconds
    print(f"bare baseline (DB-API cursor + json, same bytes) in {baseline_seconds:.2f} s: "
          f"the export takes {ratio:.2f}x the baseline", flush=True)  # fmt: skip
    return {
        "n": args.n,
        "seconds": round(seconds, 3),
        "conversations_per_s": round(rate, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "baseline_seconds": round(baseline_seconds, 3),
        "ratio": round(ratio, 3),
        "format": args.fmt,
        "file_mb": round(size_mb, 1),
        "build_seconds": round(build_seconds, 1),
        "database": "external" if args.database_url else "sqlite-temp",
    }


Measure = Callable[[argparse.Namespace, dict[str, str], str, Path], dict[str, Any]]


def run_bench(args: argparse.Namespace, prefix: str, measure: Measure) -> None:
    """`measure(args, env, run_name, workdir)` on the bench database, then clean up.

    The data goes into a temporary SQLite file in a fresh work folder (removed at the end),
    or into --database-url, whose rows of the bench's own run are deleted at the end.
    """
    workdir = Path(tempfile.mkdtemp(prefix=f"esc-{prefix}-bench-"))
    env = use_database(args.database_url, workdir)
    import django

    django.setup()
    run_name = f"bench-{prefix}-{secrets.token_hex(4)}"
    try:
        result = measure(args, env, run_name, workdir)
        if args.json:
            print(json.dumps(result))
    finally:
        if args.database_url:
            cleanup(run_name)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    run_bench(parse_args(), "export", measure)


if __name__ == "__main__":
    main()
