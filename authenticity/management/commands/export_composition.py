"""`manage.py export_composition --run NAME --output PATH`: how each message of a run's live
chats was written, for research (docs/authenticity.md, "The research export").

One JSON object a line: the conversation id, the message's position, speaker, length in
characters, its composition data (null when it came without) and its authenticity flags.
Texts are left out (the ESConv export has them, by the same positions), and nothing
personal is written. The file appears only when complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from argparse import ArgumentParser
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models.functions import Length

from chat.models import Utterance
from crowd.selectors import run_named
from quality.models import Flag, authenticity_kinds


class Command(BaseCommand):
    help = (
        "Write how each message of a run's live chats was written (composition data and "
        "authenticity flags), one JSON object a line; texts and personal data are left out."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--run", required=True, help="the collection run")
        parser.add_argument("--output", required=True, help="the JSON-lines file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        run = run_named(options["run"])
        if run is None:
            raise CommandError(f"no collection run named {options['run']!r}; nothing was written")
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"{output.parent} is not a folder; nothing was written")
        lines = list(_lines(run.pk))
        _write_atomically(output, lines)
        self.stdout.write(f"wrote {len(lines):,} messages of run {run.name} to {output}")


def _lines(run_id: int) -> Any:
    utterances = (
        Utterance.objects.filter(
            conversation__run_id=run_id,
            conversation__source_format="",
            conversation__withdrawn_at__isnull=True,
        )
        .exclude(conversation__seeker__simulated=True)  # a rehearsal's (docs/rehearsal.md)
        .annotate(length=Length("text"))
        .order_by("conversation_id", "position")
        .values_list("pk", "conversation_id", "position", "speaker", "length", "compose")
    )
    flags: dict[int, list[str]] = defaultdict(list)
    for utterance_id, kind in Flag.objects.filter(
        conversation__run_id=run_id, kind__in=authenticity_kinds(), utterance__isnull=False
    ).values_list("utterance_id", "kind"):
        flags[utterance_id].append(kind)
    for pk, conversation, position, speaker, length, compose in utterances:
        yield {
            "conversation": conversation,
            "position": position,
            "speaker": speaker,
            "chars": length,
            "compose": compose,
            "flags": sorted(flags.get(pk, [])),
        }


def _write_atomically(output: Path, lines: list[dict[str, Any]]) -> None:
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for line in lines:
                stream.write(json.dumps(line, separators=(",", ":")) + "\n")
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
