"""Quality-control reads for staff pages and re-labellers, returned as plain data.

Templates receive lists and dicts built here, so nothing in a template queries the database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from quality.agreement import cohen_kappa
from quality.claims import REVIEW_CLAIM_MINUTES, live_review_claims
from quality.models import (
    CalibrationItem,
    CalibrationLabel,
    Correction,
    Decision,
    Flag,
    Relabel,
    RelabelAssignment,
    Release,
    Review,
)
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey
from tutorial.models import SubTask


@dataclass
class QueueRow:
    conversation_id: int
    problem_type: str
    emotion_type: str
    waiting_since: datetime
    reasons: list[str]
    claimed_by: str | None


def review_queue_conversations() -> QuerySet[Conversation]:
    """Conversations waiting for a reviewer, oldest first."""
    return (
        Conversation.objects.filter(quality_status=Conversation.QualityStatus.REVIEW)
        .annotate(since=Coalesce(F("ended_at"), F("created_at")))
        .order_by("since", "pk")
    )


def queue_rows(conversations: list[Conversation]) -> list[QueueRow]:
    """One row per conversation with why it is there (failed criteria, open flags) and its claim."""
    ids = [c.pk for c in conversations]
    latest: dict[int, Decision] = {}
    for decision in Decision.objects.filter(conversation_id__in=ids).order_by(
        "conversation_id", "-decided_at", "-pk"
    ):
        latest.setdefault(decision.conversation_id, decision)
    flags: dict[int, list[str]] = defaultdict(list)
    kind_labels = dict(Flag.Kind.choices)
    for conv_id, kind in Flag.objects.filter(
        conversation_id__in=ids, resolved_at__isnull=True
    ).values_list("conversation_id", "kind"):
        # A kind no longer in Flag.Kind (rows from before it was dropped) shows as stored.
        label = kind_labels.get(kind, kind)
        if label not in flags[conv_id]:
            flags[conv_id].append(label)
    claims = {
        c.conversation_id: c.reviewer.get_username()
        for c in live_review_claims().filter(conversation_id__in=ids).select_related("reviewer")
    }
    rows = []
    for conv in conversations:
        found = latest.get(conv.pk)
        reasons = [r for r in (found.reasons if found else []) if not r.startswith("flag: ")]
        reasons += [f"flag: {label}" for label in flags.get(conv.pk, [])]
        rows.append(
            QueueRow(
                conversation_id=conv.pk,
                problem_type=conv.problem_type,
                emotion_type=conv.emotion_type,
                waiting_since=getattr(conv, "since", None) or conv.created_at,
                reasons=reasons,
                claimed_by=claims.get(conv.pk),
            )
        )
    return rows


@dataclass
class ReviewDetail:
    conversation: Conversation
    utterances: list[dict[str, Any]]
    seeker_survey: SeekerPostChatSurvey | None
    supporter_survey: SupporterPostChatSurvey | None
    decision: Decision | None
    flags: list[Flag]
    corrections: list[Correction]
    reviews: list[Review]
    claimed_by: str | None
    claimed_by_me: bool
    claim_expires_at: datetime | None
    strategies: list[dict[str, str]] = field(default_factory=list)


def written_summary(compose: dict[str, Any] | None) -> str:
    """How a message was written, in a line for a reviewer (docs/authenticity.md)."""
    if compose is None:
        return "no composition data: not sent from the chat page"
    parts = [
        f"{compose['ms'] / 1000:.1f} s from first input to send",
        f"{compose['typed']} typed in {compose['inputs']} inputs",
        f"{compose['pasted']} pasted in {compose['pastes']} pastes",
        f"{compose['deleted']} deleted",
        f"focus lost {compose['blurs']}×",
        f"{compose.get('typing_frames', 0)} typing signals seen",
    ]
    since = compose.get("since_focus_ms")
    if since is not None:
        parts.append(f"sent {since / 1000:.1f} s after coming back to the page")
    return "; ".join(parts)


def review_detail(conversation: Conversation, reviewer: Any) -> ReviewDetail:
    utterance_flags: dict[int, list[str]] = defaultdict(list)
    flags = list(Flag.objects.filter(conversation=conversation).order_by("created_at", "pk"))
    for flag in flags:
        if flag.utterance_id is not None and flag.resolved_at is None:
            utterance_flags[flag.utterance_id].append(flag.get_kind_display())
    corrections = list(
        Correction.objects.filter(conversation=conversation).select_related("corrected_by")
    )
    original: dict[int, str] = {}
    for c in corrections:
        if c.utterance_id is not None:
            original.setdefault(c.utterance_id, c.original_value)
    utterances = [
        {
            "pk": u.pk,
            "position": u.position,
            "speaker": u.speaker,
            "text": u.text,
            "strategy": u.strategy,
            "feedback": u.feedback,
            "original_strategy": original.get(u.pk),
            "flags": utterance_flags.get(u.pk, []),
            "written": written_summary(u.compose),
        }
        for u in Utterance.objects.filter(conversation=conversation).order_by("position")
    ]
    claim = (
        live_review_claims().filter(conversation=conversation).select_related("reviewer").first()
    )
    return ReviewDetail(
        conversation=conversation,
        utterances=utterances,
        seeker_survey=SeekerPostChatSurvey.objects.filter(conversation=conversation).first(),
        supporter_survey=SupporterPostChatSurvey.objects.filter(conversation=conversation).first(),
        decision=Decision.objects.filter(conversation=conversation)
        .order_by("-decided_at", "-pk")
        .first(),
        flags=flags,
        corrections=corrections,
        reviews=list(Review.objects.filter(conversation=conversation).select_related("reviewer")),
        claimed_by=claim.reviewer.get_username() if claim else None,
        claimed_by_me=bool(claim and claim.reviewer_id == reviewer.pk),
        claim_expires_at=(
            claim.claimed_at + timedelta(minutes=REVIEW_CLAIM_MINUTES) if claim else None
        ),
        strategies=strategy_help(),
    )


def strategy_help() -> list[dict[str, str]]:
    """The eight strategies with their definitions from the tutorial content where present."""
    definitions = dict(
        SubTask.objects.filter(key__in=vocabulary.STRATEGY_NAMES).values_list("key", "definition")
    )
    return [
        {"name": s.name, "code": s.code, "definition": definitions.get(s.name, "")}
        for s in vocabulary.STRATEGIES
    ]


def releases() -> list[Release]:
    return list(Release.objects.order_by("-number"))


# --------------------------------------------------------------------------- relabelling


def open_assignments(worker: Worker) -> list[RelabelAssignment]:
    return list(
        RelabelAssignment.objects.filter(worker=worker, completed_at__isnull=True).order_by(
            "assigned_at", "pk"
        )
    )


def relabel_items(
    assignment: RelabelAssignment, chosen: Mapping[int, str] | None = None
) -> list[dict[str, Any]]:
    """The conversation to re-label, with the labels `chosen` so far (utterance id -> strategy).

    The original labels are hidden so they do not anchor.
    """
    chosen = chosen or {}
    return [
        {
            "pk": u.pk,
            "position": u.position,
            "speaker": u.speaker,
            "text": u.text,
            "chosen": chosen.get(u.pk, ""),
        }
        for u in Utterance.objects.filter(conversation_id=assignment.conversation_id).order_by(
            "position"
        )
    ]


def assignable(limit_conversations: int = 200, limit_workers: int = 500) -> dict[str, Any]:
    """What the assignment page offers: recent approved conversations and qualified supporters."""
    conversations = Conversation.objects.filter(
        quality_status=Conversation.QualityStatus.APPROVED
    ).order_by("-pk")
    workers = Worker.objects.qualified_supporters().order_by("pk")
    return {
        "conversations": list(conversations[:limit_conversations]),
        "workers": list(workers[:limit_workers]),
    }


def relabel_agreement() -> dict[str, Any]:
    """Original labels against re-labels: overall kappa and one-vs-rest kappa per strategy."""
    pairs = list(Relabel.objects.values_list("original_strategy", "strategy"))
    rows = []
    for s in vocabulary.STRATEGIES:
        binary = [(a == s.name, b == s.name) for a, b in pairs]
        rows.append(
            {
                "strategy": s.name,
                "code": s.code,
                "original": sum(a for a, _ in binary),
                "relabelled": sum(b for _, b in binary),
                "both": sum(a and b for a, b in binary),
                "kappa": cohen_kappa([(str(a), str(b)) for a, b in binary]),
            }
        )
    return {"pairs": len(pairs), "overall_kappa": cohen_kappa(pairs), "rows": rows}


# --------------------------------------------------------------------------- calibration


def calibration_runs() -> list[dict[str, Any]]:
    """Every run with its calibration sample's size and label count (the calibration index)."""
    sampled = Counter(
        CalibrationItem.objects.values_list("sample__run__name", flat=True).order_by()
    )
    labelled = Counter(
        CalibrationLabel.objects.filter(
            conversation__run__calibration_sample__isnull=False
        ).values_list("conversation__run__name", flat=True)
    )
    return [
        {"name": name, "sampled": sampled.get(name, 0), "labels": labelled.get(name, 0)}
        for name in CollectionRun.objects.order_by("name").values_list("name", flat=True)
    ]


def calibration_conversation(conversation: Conversation) -> dict[str, Any]:
    """What a reviewer sees to label a conversation: the dialogue with strategies and
    feedback, and the surveys' scores. Not the rules' decision, which would anchor them."""
    seeker = SeekerPostChatSurvey.objects.filter(conversation=conversation).first()
    supporter = SupporterPostChatSurvey.objects.filter(conversation=conversation).first()
    return {
        "conversation": conversation,
        "seeker_survey": seeker,
        "supporter_survey": supporter,
        "utterances": list(
            Utterance.objects.filter(conversation=conversation)
            .order_by("position")
            .values("position", "speaker", "text", "strategy", "feedback")
        ),
    }
