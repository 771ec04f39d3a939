"""Load (create or update by key) the supporter training content from YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tutorial import content


class Command(BaseCommand):
    help = (
        "Load the training tutorial (intro, eleven sub-tasks and their quiz item banks) from "
        "YAML. Idempotent: sub-tasks and items are created or updated by key, all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            default=str(content.DEFAULT_CONTENT_PATH),
            help="YAML file (default: tutorial/content/esc_framework.yaml)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Keep content that is already there (edits made in the admin): load everything "
            "only into an empty database, otherwise only add quiz items whose keys are new.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = content.load_content_file(Path(options["path"]), if_empty=options["if_empty"])
        except content.ContentError as exc:
            raise CommandError(f"Tutorial content not loaded: {exc}") from exc
        if options["verbosity"] < 1:
            return
        if result.skipped:
            self.stdout.write("Tutorial content already present; nothing loaded (--if-empty).")
        elif result.kept:
            self.stdout.write(
                self.style.SUCCESS(f"Tutorial content kept; {result.created} new quiz items added.")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Tutorial content loaded: {result.created} created, {result.updated} updated."
                )
            )
