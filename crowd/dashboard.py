"""Figures of one collection run for the staff dashboard, each from one aggregate query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum

from chat.models import Conversation
from crowd.models import CollectionRun, ConsentVersion, StatusCode, Worker


@dataclass
class RunDashboard:
    run: CollectionRun
    workers_total: int = 0
    # (role, status code or "" for none yet) -> count
    by_role_status: dict[tuple[str, str], int] = field(default_factory=dict)
    by_role_stage: dict[tuple[str, str], int] = field(default_factory=dict)
    by_state_quality: dict[tuple[str, str], int] = field(default_factory=dict)
    conversations_total: int = 0
    ended_conversations: int = 0
    average_utterances: float | None = None
    average_duration: timedelta | None = None
    surveyed_conversations: int = 0
    mean_intensity_before: float | None = None
    mean_intensity_after: float | None = None
    pay_owed: Decimal = Decimal("0")
    pay_paid: Decimal = Decimal("0")
    workers_owed: int = 0
    workers_paid: int = 0
    # (version number, role, when it was first shown, workers who agreed to it)
    consent_versions: list[tuple[int, str, Any, int]] = field(default_factory=list)

    def status_table(self) -> list[dict[str, Any]]:
        """Rows of (status, seekers, supporters) for the template."""
        codes = [("", "No status yet"), *((c.value, c.label) for c in StatusCode)]
        return [
            {
                "code": code,
                "label": label,
                "seeker": self.by_role_status.get(("seeker", code), 0),
                "supporter": self.by_role_status.get(("supporter", code), 0),
            }
            for code, label in codes
        ]

    def stage_table(self) -> list[dict[str, Any]]:
        return [
            {
                "stage": stage.label,
                "seeker": self.by_role_stage.get(("seeker", stage.value), 0),
                "supporter": self.by_role_stage.get(("supporter", stage.value), 0),
            }
            for stage in Worker.Stage
        ]

    def conversation_table(self) -> list[dict[str, Any]]:
        states = dict(Conversation.State.choices)
        qualities = dict(Conversation.QualityStatus.choices)
        return [
            {
                "state": states.get(state, state),
                "quality": qualities.get(quality, quality),
                "count": count,
            }
            for (state, quality), count in sorted(self.by_state_quality.items())
        ]


def run_dashboard(run: CollectionRun) -> RunDashboard:
    """Counts and averages of a run. A fixed number of queries, whatever the run's size."""
    board = RunDashboard(run=run)
    workers = Worker.objects.filter(run=run)
    for row in workers.values("role", "status_code").annotate(n=Count("pk")).order_by():
        board.by_role_status[(row["role"], row["status_code"])] = row["n"]
    for stage_row in workers.values("role", "stage").annotate(n=Count("pk")).order_by():
        board.by_role_stage[(stage_row["role"], stage_row["stage"])] = stage_row["n"]
    board.workers_total = sum(board.by_role_stage.values())

    pay = workers.aggregate(
        owed=Sum("pay_total", filter=Q(paid_at__isnull=True, data_deleted_at__isnull=True)),
        owed_n=Count(
            "pk",
            filter=Q(paid_at__isnull=True, data_deleted_at__isnull=True, pay_total__isnull=False),
        ),
        paid=Sum("pay_total", filter=Q(paid_at__isnull=False)),
        paid_n=Count("pk", filter=Q(paid_at__isnull=False)),
    )
    # SQLite sums decimals without their scale; money is always shown in cents.
    cents = Decimal("0.01")
    board.pay_owed = Decimal(pay["owed"] or 0).quantize(cents)
    board.pay_paid = Decimal(pay["paid"] or 0).quantize(cents)
    board.workers_owed = pay["owed_n"]
    board.workers_paid = pay["paid_n"]

    versions = (
        ConsentVersion.objects.filter(run=run)
        .annotate(agreed=Count("workers"))
        .values_list("number", "role", "created_at", "agreed")
    )
    board.consent_versions = list(versions)

    # Imported dataset conversations are not part of what this run collected.
    conversations = Conversation.objects.filter(run=run).exclude(
        end_reason=Conversation.EndReason.IMPORTED
    )
    conv_rows = conversations.values("state", "quality_status").annotate(n=Count("pk")).order_by()
    for conv_row in conv_rows:
        board.by_state_quality[(conv_row["state"], conv_row["quality_status"])] = conv_row["n"]
    board.conversations_total = sum(board.by_state_quality.values())

    ended = conversations.filter(state=Conversation.State.ENDED)
    lengths = ended.annotate(n=Count("utterances")).aggregate(
        conversations=Count("pk"), utterances=Avg("n")
    )
    board.ended_conversations = lengths["conversations"]
    board.average_utterances = lengths["utterances"]
    durations = ended.filter(started_at__isnull=False, ended_at__isnull=False).aggregate(
        average=Avg(
            ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
        )
    )
    board.average_duration = _as_timedelta(durations["average"])

    # Before and after over the same conversations, so the two means can be compared.
    paired = conversations.filter(
        seeker_survey__submitted_at__isnull=False,
        seeker_survey__final_emotion_intensity__isnull=False,
        initial_emotion_intensity__isnull=False,
    ).aggregate(
        n=Count("pk"),
        before=Avg("initial_emotion_intensity"),
        after=Avg("seeker_survey__final_emotion_intensity"),
    )
    board.surveyed_conversations = paired["n"]
    board.mean_intensity_before = paired["before"]
    board.mean_intensity_after = paired["after"]
    return board


def _as_timedelta(value: Any) -> timedelta | None:
    # SQLite hands back the average of a duration as microseconds, PostgreSQL as a timedelta.
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))
