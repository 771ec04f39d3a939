"""Re-labelling: approved conversations labelled again by qualified supporters.

Where more than the rule set's share of re-labellers disagree with an utterance's strategy, the
utterance is flagged and its conversation goes back to a reviewer (see docs/quality.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import Worker
from quality.errors import QualityError
from quality.models import Flag, Relabel, RelabelAssignment
from quality.rule_sets import current_rule_set

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def assign_relabelling(
    conversations: Iterable[Conversation],
    workers: Iterable[Worker],
    *,
    by: User | None = None,
) -> int:
    """Give approved conversations to qualified supporters to re-label; returns how many new."""
    workers = list(workers)
    for worker in workers:
        if not worker.is_qualified_supporter:
            raise QualityError(f"worker {worker.pk} is not a qualified supporter")
    rows = []
    for conversation in conversations:
        if conversation.quality_status != Conversation.QualityStatus.APPROVED:
            raise QualityError(f"conversation {conversation.pk} is not approved")
        for worker in workers:
            # Nobody re-labels a conversation they took part in.
            if worker.pk in (conversation.seeker_id, conversation.supporter_id):
                continue
            rows.append(RelabelAssignment(conversation=conversation, worker=worker, assigned_by=by))
    with transaction.atomic():
        before = RelabelAssignment.objects.count()
        RelabelAssignment.objects.bulk_create(rows, ignore_conflicts=True)
        return RelabelAssignment.objects.count() - before


def submit_relabels(
    assignment: RelabelAssignment, worker: Worker, labels: Mapping[int, str]
) -> list[Flag]:
    """Store a re-labeller's strategy for every supporter utterance; flag strong disagreement."""
    if assignment.worker_id != worker.pk:
        raise QualityError("this assignment belongs to another worker")
    utterances = list(
        Utterance.objects.filter(
            conversation_id=assignment.conversation_id, speaker=vocabulary.SUPPORTER
        ).order_by("position")
    )
    missing = [u.position for u in utterances if u.pk not in labels]
    if missing:
        raise QualityError(f"choose a strategy for every supporter message (missing: {missing})")
    bad = {v for v in labels.values() if v not in vocabulary.STRATEGY_NAMES}
    if bad:
        raise QualityError(f"unknown strategy {sorted(bad)[0]!r}")
    known = {u.pk for u in utterances}
    if set(labels) - known:
        raise QualityError("labels name utterances outside this conversation")
    with transaction.atomic():
        done = RelabelAssignment.objects.filter(pk=assignment.pk, completed_at__isnull=True).update(
            completed_at=timezone.now()
        )
        if not done:
            raise QualityError("this assignment was already submitted")
        Relabel.objects.bulk_create(
            [
                Relabel(
                    assignment=assignment,
                    utterance=u,
                    strategy=labels[u.pk],
                    original_strategy=u.strategy or "",
                )
                for u in utterances
            ]
        )
        return flag_relabel_disagreements(assignment.conversation_id)


def flag_relabel_disagreements(conversation_id: int) -> list[Flag]:
    """Flag utterances where more than the rule set's share of re-labellers disagree, and send
    their conversation to a reviewer."""
    rules = current_rule_set()
    tally: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # utterance -> [total, disagree]
    current_labels = dict(
        Utterance.objects.filter(
            conversation_id=conversation_id, speaker=vocabulary.SUPPORTER
        ).values_list("pk", "strategy")
    )
    for utterance_id, strategy in Relabel.objects.filter(
        utterance__conversation_id=conversation_id
    ).values_list("utterance_id", "strategy"):
        tally[utterance_id][0] += 1
        tally[utterance_id][1] += strategy != current_labels.get(utterance_id)
    already = set(
        Flag.objects.filter(
            conversation_id=conversation_id,
            kind=Flag.Kind.RELABEL_DISAGREEMENT,
            resolved_at__isnull=True,
        ).values_list("utterance_id", flat=True)
    )
    new_flags = [
        Flag(
            conversation_id=conversation_id,
            utterance_id=utterance_id,
            kind=Flag.Kind.RELABEL_DISAGREEMENT,
            detail=f"{disagree} of {total} re-labellers disagree with "
            f"{current_labels.get(utterance_id)!r}",
        )
        for utterance_id, (total, disagree) in sorted(tally.items())
        if total >= rules.relabel_min_labellers
        and disagree / total > rules.relabel_disagreement_above
        and utterance_id not in already
    ]
    if new_flags:
        Flag.objects.bulk_create(new_flags)
        Conversation.objects.filter(
            pk=conversation_id, quality_status=Conversation.QualityStatus.APPROVED
        ).update(quality_status=Conversation.QualityStatus.REVIEW)
    return new_flags
