"""Load (create or update by key) the supporter training content from YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tutorial import services


class Command(BaseCommand):
    help = (
        "Load the training tutorial (intro + eleven sub-tasks) from YAML. Idempotent: items "
        "are created or updated by key, all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            default=str(services.DEFAULT_CONTENT_PATH),
            help="YAML file (default: tutorial/content/esc_framework.yaml)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only when there are no sub-tasks yet (keeps edits made in the admin).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = services.load_content_file(Path(options["path"]), if_empty=options["if_empty"])
        except services.ContentError as exc:
            raise CommandError(f"Tutorial content not loaded: {exc}") from exc
        if options["verbosity"] < 1:
            return
        if result.skipped:
            self.stdout.write("Tutorial content already present; nothing loaded (--if-empty).")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Tutorial content loaded: {result.created} created, {result.updated} updated."
                )
            )
