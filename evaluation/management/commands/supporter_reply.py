"""`manage.py supporter_reply --backend NAME --dialog FILE`: ask a backend for one reply.

FILE holds one conversation in the ESConv JSON-lines layout (`--line N` picks one from a file of
several). The backend answers as the supporter's next message, even when the dialog's last item
is already the supporter's. Standard output gets exactly one JSON object; errors go to standard
error through CommandError, with a non-zero exit.
"""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crowd import vocabulary
from evaluation.backends import BackendError, SupporterRequest, backend_for
from evaluation.models import SupporterBackend


class Command(BaseCommand):
    help = (
        "Ask a supporter backend for its next message after a dialog in the ESConv JSON-lines "
        "layout; prints {backend, strategy, text, seconds} (docs/evaluation.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--backend", required=True, help="a SupporterBackend's name")
        parser.add_argument("--dialog", required=True, type=Path, help="the conversation's file")
        parser.add_argument("--line", type=int, help="the line (from 1) of a file of several")
        parser.add_argument(
            "--strategy",
            choices=vocabulary.STRATEGY_NAMES,
            help="the strategy the reply must use (required by an Oracle backend)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["backend"]
        config = SupporterBackend.objects.filter(name=name).first()
        if config is None:
            raise CommandError(f"no supporter backend named {name!r}")
        path: Path = options["dialog"]
        request = read_request(path, options["line"]).with_strategy(options["strategy"])
        try:
            backend = backend_for(config)
            started = time.perf_counter()
            reply = backend.reply(request)
        except BackendError as exc:
            hint = (
                " (give --strategy)" if exc.code == "bad_request" and not request.strategy else ""
            )
            raise CommandError(f"backend {name}: {exc.code}: {exc.message}{hint}") from None
        seconds = round(time.perf_counter() - started, 4)
        result = {"backend": name, "strategy": reply.strategy, "text": reply.text}
        self.stdout.write(json.dumps({**result, "seconds": seconds}))


def read_request(path: Path, line: int | None) -> SupporterRequest:
    """The request for the conversation on `line` of `path` (the only one, without `line`)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise CommandError(f"{path}: cannot read it: {reason}") from None
    numbered = [(n, raw) for n, raw in enumerate(text.split("\n"), start=1) if raw.strip()]
    if not numbered:
        raise CommandError(f"{path}: holds no conversation")
    if line is None and len(numbered) > 1:
        raise CommandError(f"{path}: holds {len(numbered)} conversations; pick one with --line N")
    chosen = [raw for n, raw in numbered if line is None or n == line]
    if not chosen:
        raise CommandError(f"{path}: line {line} holds no conversation")
    where = f"{path}" if line is None else f"{path}, line {line}"
    try:
        return SupporterRequest.from_jsonl_record(json.loads(chosen[0]))
    except (ValueError, RecursionError):
        raise CommandError(f"{where}: not valid JSON") from None
    except BackendError as exc:
        raise CommandError(f"{where}: {exc.message}") from None
