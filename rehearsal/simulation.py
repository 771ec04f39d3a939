"""A rehearsal of a run: N simulated pairs walk the whole journey against a running server.

`simulate(...)` issues the rehearsal token, starts every simulated worker's journey
(rehearsal.journey) with a small stagger, as arrivals would come, reports each step as it
ends, then judges the rehearsal's conversations by the quality rules in force and reports how
each was judged. The token is revoked when the rehearsal ends. docs/rehearsal.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from chat.models import Conversation
from crowd.models import CollectionRun
from quality.judging import judge_pending
from rehearsal import tokens
from rehearsal.browser import StepFailed
from rehearsal.journey import Journey, Settings, Step

ARRIVAL_STAGGER_SECONDS = 0.3


@dataclass
class Judged:
    conversation: int
    seeker: str
    supporter: str
    status: str
    flags: list[str]
    reasons: list[str]
    rule_set_version: int | None


@dataclass
class Rehearsal:
    steps: list[Step] = field(default_factory=list)
    judged: list[Judged] = field(default_factory=list)

    @property
    def first_failure(self) -> Step | None:
        failed = [step for step in self.steps if not step.ok]
        return failed[0] if failed else None


def simulate(
    run: CollectionRun,
    *,
    pairs: int,
    base_url: str,
    chars_per_second: float,
    max_wait_seconds: float,
    partner_wait_seconds: float,
    token_minutes: int,
    report: Callable[[Step], None],
) -> Rehearsal:
    token = tokens.issue(run, minutes=token_minutes)
    settings = Settings(
        base_url=base_url,
        run=run,
        token=token,
        prefix=f"sim-{secrets.token_hex(4)}",
        chars_per_second=chars_per_second,
        max_wait_seconds=max_wait_seconds,
        partner_wait_seconds=partner_wait_seconds,
    )
    journeys = [
        Journey(settings, role, n) for n in range(1, pairs + 1) for role in ("seeker", "supporter")
    ]
    try:
        asyncio.run(_walk_all(journeys, report))
    finally:
        tokens.revoke(token)
    rehearsal = Rehearsal(
        steps=sorted((s for j in journeys for s in j.steps), key=_order(journeys))
    )
    rehearsal.judged = judge(run, settings.prefix)
    return rehearsal


def _order(journeys: list[Journey]) -> Callable[[Step], int]:
    labels = {journey.label: i for i, journey in enumerate(journeys)}
    return lambda step: labels.get(step.worker, 0)


async def _walk_all(journeys: list[Journey], report: Callable[[Step], None]) -> None:
    async def walk(journey: Journey, delay: float) -> None:
        await asyncio.sleep(delay)
        journey.on_step = report
        with contextlib.suppress(StepFailed):  # recorded as the journey's failed step
            await journey.walk()

    await asyncio.gather(
        *(walk(journey, i * ARRIVAL_STAGGER_SECONDS) for i, journey in enumerate(journeys))
    )


def judge(run: CollectionRun, prefix: str) -> list[Judged]:
    """Judge the rehearsal's ended conversations as the quality job would; how each went."""
    judge_pending(run=run)
    rows = (
        Conversation.objects.filter(run=run, seeker__external_id__startswith=f"{prefix}-")
        .select_related("seeker", "supporter")
        .prefetch_related("flags", "quality_decisions")
        .order_by("pk")
    )
    judged = []
    for c in rows:
        decision = c.quality_decisions.first()  # the newest
        judged.append(
            Judged(
                conversation=c.pk,
                seeker=c.seeker.external_id if c.seeker else "",
                supporter=c.supporter.external_id if c.supporter else "",
                status=c.quality_status,
                flags=sorted({flag.kind for flag in c.flags.all()}),
                reasons=[str(r) for r in decision.reasons] if decision else [],
                rule_set_version=decision.rule_set_version if decision else None,
            )
        )
    return judged
