"""The consent page of a run: its text, filled from the run's settings, versioned.

A run's `consent_text` (or the default below) is written in a small subset of Markdown:
paragraphs separated by a blank line, `## ` headings, `- ` list items and `**bold**`. Words in
braces are placeholders, filled from the run for the worker's role, so that no number on the
page can contradict the settings the platform enforces. The filled text is what the worker
reads and agrees to; `record` keeps it as a numbered `ConsentVersion`. See docs/workers.md,
"Consent".
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from crowd import vocabulary
from crowd.models import CollectionRun, ConsentVersion, TaskOutcome
from crowd.services import pay_for

DEFAULT_TEXT = """\
## What this study is
{researcher} collects conversations in which one person supports another through something \
that troubles them. Researchers use these conversations to build and study systems that give \
emotional support.

## What you will do
{role_task}

## Time and pay
{time_and_pay}

## Your data
- The text of your conversation and your survey answers become part of a research dataset \
that may be shared with other researchers.
- Your crowd-site id, and an email address if you give one, are never part of that dataset.
- Please do not write names, places or anything else that could identify you or someone else.
- {withdraw}

## Looking after yourself
- You may stop at any time with the **Leave** button; you are still paid as described above.
- This chat is not a substitute for professional help. If you are in crisis, please contact \
your local emergency number or a helpline.

Questions about this study: {contact}."""


def _money(run: CollectionRun, role: str, outcome: TaskOutcome) -> str:
    return f"{pay_for(run, role, outcome)} {run.currency}"


def _chat_minutes(run: CollectionRun) -> str:
    return str(math.ceil(run.min_seconds_to_end / 60))


def _role_task(run: CollectionRun, role: str) -> str:
    if role == vocabulary.SUPPORTER:
        return (
            "You will be a **supporter**. First you take a training on how to give emotional "
            "support (3 stages and 8 support strategies) and its quiz: to pass you may get at "
            f"most {run.quiz_max_wrong} answer(s) wrong, and you have {run.quiz_max_attempts} "
            "attempt(s). If you pass, you chat with a person who wants to talk about something "
            f"that troubles them, for at least {_chat_minutes(run)} minute(s) and "
            f"{run.min_turns_to_end} exchanges, choosing a support strategy before every message."
        )
    return (
        "You will be a **help-seeker**. In a short survey you describe a problem that troubles "
        "you (it may be real or imagined), then chat with a trained supporter for at least "
        f"{_chat_minutes(run)} minute(s). After every {run.feedback_every} of the supporter's "
        "messages you rate how much they helped."
    )


def _time_and_pay(run: CollectionRun, role: str) -> str:
    lines = [
        f"- The whole task takes about {run.expected_minutes} minutes.",
        f"- You are paid {_money(run, role, TaskOutcome.FINISHED)} if you finish the "
        "conversation and the survey after it.",
        f"- {_money(run, role, TaskOutcome.PARTNER_LEFT)} if your partner leaves or stops "
        "responding, and "
        f"{_money(run, role, TaskOutcome.RELEASED_FROM_WAITING)} if no partner becomes "
        f"available within {math.ceil(run.max_wait_seconds / 60)} minute(s).",
        f"- {_money(run, role, TaskOutcome.LEFT_EARLY)} if you leave early"
        + (" or do not pass the training." if role == vocabulary.SUPPORTER else "."),
    ]
    return "\n".join(lines)


def _contact(run: CollectionRun) -> str:
    return run.researcher_contact or "the researchers, through the crowd site's messages"


def _withdraw(run: CollectionRun) -> str:
    return (
        f"To withdraw your data, write to {_contact(run)} with your completion code, at any time "
        "and without giving a reason: your crowd-site id is deleted and your conversation is "
        "left out of every later release of the dataset."
    )


# Every placeholder a consent text may use, and what fills it.
PLACEHOLDERS: dict[str, Callable[[CollectionRun, str], str]] = {
    "researcher": lambda run, role: run.researcher_name or "A research team",
    "contact": lambda run, role: _contact(run),
    "role_task": _role_task,
    "time_and_pay": _time_and_pay,
    "withdraw": lambda run, role: _withdraw(run),
    "expected_minutes": lambda run, role: str(run.expected_minutes),
    "chat_minutes": lambda run, role: _chat_minutes(run),
    "base_pay": lambda run, role: f"{run.base_pay} {run.currency}",
    "pay_finished": lambda run, role: _money(run, role, TaskOutcome.FINISHED),
    "pay_left_early": lambda run, role: _money(run, role, TaskOutcome.LEFT_EARLY),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders of a text that nothing fills (the admin refuses them)."""
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def filled_text(run: CollectionRun, role: str) -> str:
    """The consent text a worker of this role reads in this run, every number filled in."""
    text = run.consent_text.strip() or DEFAULT_TEXT
    return _PLACEHOLDER.sub(
        lambda match: PLACEHOLDERS[match[1]](run, role) if match[1] in PLACEHOLDERS else match[0],
        text,
    )


def _inline(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escape(text))


def as_html(text: str) -> SafeString:
    """The Markdown subset as HTML; everything else in the text is escaped."""
    parts: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("## "):
            parts.append(f"<h2>{_inline(lines.pop(0)[3:])}</h2>")
        items = [line[2:] for line in lines if line.startswith("- ")]
        prose = [line for line in lines if not line.startswith("- ")]
        if prose:
            parts.append(f"<p>{_inline(' '.join(prose))}</p>")
        if items:
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
    return mark_safe("\n".join(parts))  # noqa: S308 - every piece was escaped above


def record(run: CollectionRun, role: str, text: str) -> ConsentVersion:
    """The version of this exact text: the existing one, or the run's next number."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    for _ in range(3):  # two first consents at once: one makes the row, the other reads it
        existing = ConsentVersion.objects.filter(run=run, role=role, digest=digest).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                latest = ConsentVersion.objects.filter(run=run).aggregate(n=Max("number"))["n"]
                return ConsentVersion.objects.create(
                    run=run, role=role, number=(latest or 0) + 1, text=text, digest=digest
                )
        except IntegrityError:
            continue
    raise RuntimeError("could not record the consent version")
