"""Rehearse a run before launch: simulated pairs walk the whole journey (docs/rehearsal.md)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd.models import CollectionRun
from rehearsal.journey import Step
from rehearsal.simulation import simulate

# Beyond this a typist is not a person (the rule set's max_chars_per_second defaults to 15).
MAX_CHARS_PER_SECOND = 10.0


class Command(BaseCommand):
    help = (
        "Drive N simulated seekers and N simulated supporters through the whole journey of a "
        "run against a running server, print each step's outcome and timing and how their "
        "conversations were judged; exit non-zero naming the first step that failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", required=True, help="the collection run's name")
        parser.add_argument("--pairs", type=int, default=1, help="simulated pairs (default 1)")
        parser.add_argument(
            "--base-url", required=True, help="the running server, e.g. http://127.0.0.1:8000"
        )
        parser.add_argument(
            "--typing-speed",
            type=float,
            default=6.0,
            help=f"characters a second the simulated workers type (default 6, at most "
            f"{MAX_CHARS_PER_SECOND:.0f})",
        )
        parser.add_argument(
            "--max-wait", type=float, default=600.0, help="seconds to wait for a partner"
        )
        parser.add_argument(
            "--partner-wait",
            type=float,
            default=120.0,
            help="seconds a worker waits for its partner's next message before failing",
        )
        parser.add_argument(
            "--token-minutes", type=int, default=120, help="how long the rehearsal token lives"
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        run = CollectionRun.objects.filter(name=options["run"]).first()
        if run is None:
            raise CommandError(f"--run: no collection run is named {options['run']!r}")
        if not 1 <= options["pairs"] <= 500:
            raise CommandError(f"--pairs: 1 to 500 pairs, not {options['pairs']}")
        speed = options["typing_speed"]
        if not 0.5 <= speed <= MAX_CHARS_PER_SECOND:
            raise CommandError(
                f"--typing-speed: 0.5 to {MAX_CHARS_PER_SECOND:.0f} characters a second "
                f"(a person's), not {speed}"
            )
        base_url = _checked_base_url(options["base_url"])
        as_json = options["format"] == "json"
        rehearsal = simulate(
            run,
            pairs=options["pairs"],
            base_url=base_url,
            chars_per_second=speed,
            max_wait_seconds=options["max_wait"],
            partner_wait_seconds=options["partner_wait"],
            token_minutes=options["token_minutes"],
            report=(lambda step: None) if as_json else self._print_step,
        )
        failure = rehearsal.first_failure
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "run": run.name,
                        "steps": [vars(step) for step in rehearsal.steps],
                        "conversations": [vars(judged) for judged in rehearsal.judged],
                        "passed": failure is None,
                    },
                    indent=2,
                )
            )
        else:
            self._print_judgements(rehearsal.judged)
        if failure is not None:
            raise CommandError(
                f"the rehearsal failed at {failure.worker}'s step {failure.name!r}: "
                f"{failure.detail}"
            )
        if not as_json:
            self.stdout.write(f"rehearsal of {run.name!r} passed: {options['pairs']} pairs")

    def _print_step(self, step: Step) -> None:
        mark = "ok  " if step.ok else "FAIL"
        line = f"{mark} {step.worker:<14} {step.name:<18} {step.seconds:7.1f} s  {step.detail}"
        self.stdout.write(line)
        self.stdout.flush()

    def _print_judgements(self, judged: list[Any]) -> None:
        if not judged:
            self.stdout.write("no conversation of the rehearsal was judged")
            return
        self.stdout.write("how the rehearsal's conversations were judged:")
        for row in judged:
            flags = ", ".join(row.flags) if row.flags else "no flags"
            rules = f"rule set v{row.rule_set_version}" if row.rule_set_version else "no decision"
            line = f"  conversation {row.conversation}: {row.status} by {rules} ({flags})"
            self.stdout.write(line)
            for reason in row.reasons:
                self.stdout.write(f"    - {reason}")


def _checked_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(f"--base-url: {url!r} is not an http(s) address of a server")
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    try:
        httpx.get(f"{base}/healthz", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise CommandError(f"--base-url: the server at {base} does not answer ({exc})") from None
    return base
