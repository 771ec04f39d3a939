"""Time quality control on many synthetic conversations (set-based judging at scale).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/esc_quality_bench \\
        .venv/bin/python bench/quality_scale.py --conversations 100000

Uses the database named by the settings (DATABASE_URL / SQLITE_PATH): run it against a
scratch database. It migrates, adds the conversations in bulk, judges them once, and prints
the time and the number of SQL queries the judging issued.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esc_platform.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from chat.models import Conversation, Utterance  # noqa: E402
from crowd import vocabulary  # noqa: E402
from crowd.models import CollectionRun  # noqa: E402
from quality.judging import judge_pending  # noqa: E402
from surveys.models import SeekerPostChatSurvey  # noqa: E402


def populate(n: int, utterances: int, batch: int = 2000) -> None:
    run, _ = CollectionRun.objects.get_or_create(name="bench-quality")
    made = 0
    while made < n:
        size = min(batch, n - made)
        with transaction.atomic():
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
            rows = []
            for i, c in enumerate(convs):
                for p in range(utterances):
                    seeker = p % 2 == 0
                    rows.append(
                        Utterance(
                            conversation=c,
                            position=p,
                            speaker=vocabulary.SEEKER if seeker else vocabulary.SUPPORTER,
                            text=" ".join(["word"] * (5 + (i + p) % 5)),
                            strategy=None if seeker else "Question",
                        )
                    )
            Utterance.objects.bulk_create(rows, batch_size=5000)
            SeekerPostChatSurvey.objects.bulk_create(
                [
                    SeekerPostChatSurvey(
                        conversation=c, final_emotion_intensity=2 + i % 3, empathy=4, relevance=4
                    )
                    for i, c in enumerate(convs)
                ]
            )
        made += size
        print(f"\rpopulated {made}/{n}", end="", flush=True)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20000)
    parser.add_argument("--utterances", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    populate(args.conversations, args.utterances)
    print(f"populate: {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        counts = judge_pending()
    elapsed = time.perf_counter() - t0
    print(
        f"judged {counts.judged} conversations ({args.utterances} utterances each) in "
        f"{elapsed:.1f} s = {counts.judged / elapsed:.0f}/s with {len(queries)} queries; "
        f"{counts.as_dict()}"
    )


if __name__ == "__main__":
    main()
