"""The judging job: claim pending conversations, apply the rules, record every decision.

The rules themselves are the pure function `quality.rules.judge` (see docs/quality.md); this
module gathers their inputs set-wise and writes the outcomes, a chunk per transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun
from crowd.text import word_count
from quality.errors import QualityError
from quality.models import AutoApprovalRuleSet, Decision, Flag, JudgingClaim, Outcome, Review
from quality.rule_sets import current_rule_set
from quality.rules import ConversationFacts, judge
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

logger = logging.getLogger(__name__)

# A judging job that died leaves its claims behind; after this long another job may take them.
JUDGING_CLAIM_EXPIRY = timedelta(minutes=10)
# Conversations judged per transaction; also keeps every IN (...) list well under SQLite's limit.
JUDGE_CHUNK = 500


@dataclass
class JudgeCounts:
    filtered: int = 0
    approved: int = 0
    review: int = 0
    skipped: int = 0  # claimed or judged by another job meanwhile

    @property
    def judged(self) -> int:
        return self.filtered + self.approved + self.review

    def as_dict(self) -> dict[str, int]:
        return {
            "filtered": self.filtered,
            "approved": self.approved,
            "review": self.review,
            "skipped": self.skipped,
        }


def judgeable_conversations(run: CollectionRun | None = None) -> QuerySet[Conversation]:
    """Ended (or imported) conversations not judged yet and not withdrawn."""
    qs = Conversation.objects.filter(
        Q(state=Conversation.State.ENDED) | Q(end_reason=Conversation.EndReason.IMPORTED),
        quality_status=Conversation.QualityStatus.PENDING,
        withdrawn_at__isnull=True,
    )
    if run is not None:
        qs = qs.filter(run=run)
    return qs


def gather_facts(conversation_ids: list[int]) -> dict[int, ConversationFacts]:
    """The rules' inputs for many conversations in a fixed number of queries (no per-row query)."""
    facts = {
        pk: ConversationFacts(pk, end_reason, intensity)
        for pk, end_reason, intensity in Conversation.objects.filter(
            pk__in=conversation_ids
        ).values_list("pk", "end_reason", "initial_emotion_intensity")
    }
    for conv_id, final, empathy, relevance in SeekerPostChatSurvey.objects.filter(
        conversation_id__in=conversation_ids
    ).values_list("conversation_id", "final_emotion_intensity", "empathy", "relevance"):
        f = facts[conv_id]
        f.final_emotion_intensity, f.empathy, f.relevance = final, empathy, relevance
    for conv_id, detail in SupporterPostChatSurvey.objects.filter(
        conversation_id__in=conversation_ids
    ).values_list("conversation_id", "seeker_detail"):
        facts[conv_id].seeker_detail = detail
    utterances = (
        Utterance.objects.filter(conversation_id__in=conversation_ids)
        .order_by("conversation_id", "position")
        .values_list("conversation_id", "speaker", "text", "feedback")
    )
    for conv_id, speaker, text, feedback in utterances.iterator(chunk_size=5000):
        f = facts[conv_id]
        f.utterance_count += 1
        if speaker == vocabulary.SUPPORTER:
            f.supporter_utterances += 1
            f.supporter_words += word_count(text)
        else:
            f.seeker_utterances += 1
            f.seeker_words += word_count(text)
            if feedback is not None:
                f.feedback.append(feedback)
    for conv_id, kind in (
        Flag.objects.filter(conversation_id__in=conversation_ids, resolved_at__isnull=True)
        .order_by("pk")
        .values_list("conversation_id", "kind")
    ):
        if kind not in facts[conv_id].open_flags:
            facts[conv_id].open_flags.append(kind)
    return facts


def _claim_for_judging(ids: list[int], token: str) -> list[int]:
    now = timezone.now()
    JudgingClaim.objects.filter(
        conversation_id__in=ids, claimed_at__lt=now - JUDGING_CLAIM_EXPIRY
    ).delete()
    # ON CONFLICT DO NOTHING: a conversation another job holds is simply not ours.
    JudgingClaim.objects.bulk_create(
        [JudgingClaim(conversation_id=pk, token=token, claimed_at=now) for pk in ids],
        ignore_conflicts=True,
    )
    return list(
        JudgingClaim.objects.filter(token=token, conversation_id__in=ids).values_list(
            "conversation_id", flat=True
        )
    )


def _judge_claimed(
    ids: list[int], token: str, rules: AutoApprovalRuleSet, counts: JudgeCounts
) -> None:
    with transaction.atomic():
        # Re-read under the claim: a job that finished before we claimed has already judged some.
        still_pending = list(
            Conversation.objects.filter(
                pk__in=ids, quality_status=Conversation.QualityStatus.PENDING
            ).values_list("pk", flat=True)
        )
        counts.skipped += len(ids) - len(still_pending)
        by_outcome: dict[str, list[int]] = defaultdict(list)
        decisions = []
        for pk, facts in gather_facts(still_pending).items():
            judgement = judge(facts, rules)
            by_outcome[judgement.outcome].append(pk)
            decisions.append(
                Decision(
                    conversation_id=pk,
                    rule_set=rules,
                    rule_set_version=rules.version,
                    outcome=judgement.outcome,
                    criteria=judgement.criteria_dicts(),
                    has_seeker_survey=judgement.has_seeker_survey,
                    reasons=judgement.reasons,
                )
            )
        Decision.objects.bulk_create(decisions, batch_size=500)
        for outcome, pks in by_outcome.items():
            updated = Conversation.objects.filter(
                pk__in=pks, quality_status=Conversation.QualityStatus.PENDING
            ).update(quality_status=outcome)
            if updated != len(pks):
                # Someone changed a status under our claim: undo the whole chunk.
                raise QualityError("conversation statuses changed while judging; retry")
            setattr(counts, outcome, getattr(counts, outcome) + len(pks))
        JudgingClaim.objects.filter(token=token).delete()


def judge_pending(
    *, run: CollectionRun | None = None, rejudge: bool = False, chunk_size: int = JUDGE_CHUNK
) -> JudgeCounts:
    """Run the preliminary filter and auto-approval on every pending ended conversation.

    Safe to run twice and from several workers at once: each conversation is claimed before it
    is judged, and its status changes only from `pending`. With `rejudge`, conversations the
    rules decided earlier (filtered / approved / review, never a reviewer's decision) are reset
    to pending first and judged again under the current rule set.
    """
    if rejudge:
        reset_for_rejudging(run=run)
    rules = current_rule_set()
    counts = JudgeCounts()
    token = uuid.uuid4().hex
    last_pk = 0
    base = judgeable_conversations(run).order_by("pk")
    while True:
        ids = list(base.filter(pk__gt=last_pk).values_list("pk", flat=True)[:chunk_size])
        if not ids:
            break
        last_pk = ids[-1]
        mine = _claim_for_judging(ids, token)
        counts.skipped += len(ids) - len(mine)
        if mine:
            try:
                _judge_claimed(mine, token, rules, counts)
            finally:
                JudgingClaim.objects.filter(token=token).delete()
    logger.info("quality control judged %s", counts.as_dict())
    return counts


def reset_for_rejudging(*, run: CollectionRun | None = None) -> int:
    """Put rule-decided conversations back to pending (reviewer decisions are kept)."""
    qs = Conversation.objects.filter(
        quality_status__in=[Outcome.FILTERED, Outcome.APPROVED, Outcome.REVIEW],
        withdrawn_at__isnull=True,
    ).exclude(pk__in=Review.objects.values("conversation_id"))
    if run is not None:
        qs = qs.filter(run=run)
    return qs.update(quality_status=Conversation.QualityStatus.PENDING)
