"""The judging job: take pending conversations a chunk at a time, apply the rules, record.

The rules themselves are the pure function `quality.rules.judge` (see docs/quality.md); this
module gathers their inputs set-wise and writes the outcomes, a chunk per transaction.

Crash safety: a chunk is taken, judged and written in ONE transaction. On PostgreSQL its
conversations are locked with `SELECT ... FOR UPDATE SKIP LOCKED`: a second job skips them
without waiting, and when a worker dies (SIGKILL, OOM) its session ends, the transaction rolls
back and the locks vanish with it, so the next run judges them again. SQLite has no row locks:
it starts every transaction as a write (`transaction_mode=IMMEDIATE` in the settings), so
chunks of concurrent jobs simply run one after the other; a killed writer's journal is rolled
back by the next connection. Either way a conversation is left either untouched (`pending`)
or judged with exactly one new decision.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
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


def claim_cutoff() -> datetime:
    """A committed `JudgingClaim` older than this is abandoned and removed.

    This module never commits a claim (it locks rows inside the judging transaction); such a row
    is left only by a job of an earlier version, or by an operator holding conversations back.
    It is honoured for half a beat interval, so a dead holder delays judging by less than one.
    """
    return timezone.now() - timedelta(seconds=settings.QUALITY_CONTROL_INTERVAL_SECONDS / 2)


@dataclass
class JudgeCounts:
    filtered: int = 0
    approved: int = 0
    review: int = 0
    # Still pending and not judged by this run: another job held them (row locks or a live
    # claim). A run with skipped > 0 is incomplete, and writes no release.
    skipped: int = 0

    @property
    def judged(self) -> int:
        return self.filtered + self.approved + self.review

    @property
    def complete(self) -> bool:
        """This run judged everything it selected (nothing was left to another job)."""
        return self.skipped == 0

    def as_dict(self) -> dict[str, int]:
        return {
            "filtered": self.filtered,
            "approved": self.approved,
            "review": self.review,
            "skipped": self.skipped,
        }


def judgeable_conversations(run: CollectionRun | None = None) -> QuerySet[Conversation]:
    """Ended (or imported) conversations not judged yet and not withdrawn; never the chats of a
    demo run (docs/operations.md, "The demo run")."""
    qs = Conversation.objects.filter(
        Q(state=Conversation.State.ENDED) | Q(end_reason=Conversation.EndReason.IMPORTED),
        quality_status=Conversation.QualityStatus.PENDING,
        withdrawn_at__isnull=True,
    ).exclude(run__is_demo=True, source_format="")
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
        # Partners from one address are shown to reviewers, but hold approval back only
        # where the run says so (colleagues share an office's address).
        .exclude(kind=Flag.Kind.SAME_NETWORK, conversation__run__same_network_needs_review=False)
        .order_by("pk")
        .values_list("conversation_id", "kind")
    ):
        if kind not in facts[conv_id].open_flags:
            facts[conv_id].open_flags.append(kind)
    return facts


def _take_chunk(candidates: list[int], run: CollectionRun | None) -> list[int]:
    """Of `candidates`, the ones this transaction may judge: still judgeable, held by nobody.

    Call inside the chunk's transaction. On SQLite that transaction holds the database's write
    lock from its BEGIN (IMMEDIATE, see the settings), so the rows read here cannot change under
    it; on PostgreSQL the rows are locked as they are read.
    """
    JudgingClaim.objects.filter(
        conversation_id__in=candidates, claimed_at__lt=claim_cutoff()
    ).delete()
    free = (
        judgeable_conversations(run)
        .filter(pk__in=candidates)
        .exclude(pk__in=JudgingClaim.objects.values("conversation_id"))
        .order_by("pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        # Rows another job is judging are locked by it: skip them rather than wait. Only the
        # conversations' own rows (`of=self`): the filter joins the run, and a locked run row
        # would make every conversation of the run look taken.
        free = free.select_for_update(skip_locked=True, of=("self",))
    return list(free.values_list("pk", flat=True))


def _judge_chunk(ids: list[int], rules: AutoApprovalRuleSet, counts: JudgeCounts) -> None:
    """Judge `ids` (taken by _take_chunk in the current transaction) and record the outcomes."""
    by_outcome: dict[str, list[int]] = defaultdict(list)
    decisions = []
    for pk, facts in gather_facts(ids).items():
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
            # Someone changed a status under our lock (or, without row locks, a job that did
            # not follow this protocol): undo the whole chunk.
            raise QualityError("conversation statuses changed while judging; retry")
        setattr(counts, outcome, getattr(counts, outcome) + len(pks))


def judge_pending(
    *, run: CollectionRun | None = None, rejudge: bool = False, chunk_size: int | None = None
) -> JudgeCounts:
    """Run the preliminary filter and auto-approval on every pending ended conversation.

    Safe to run twice, from several workers at once, and after a crash: each chunk is taken
    and judged in one transaction (see the module's docstring), and a status changes only from
    `pending`. Conversations another job holds are not waited for but counted in `skipped`
    (the run is then not `complete`). With `rejudge`, conversations the rules decided earlier
    (filtered / approved / review, never a reviewer's decision) are reset to pending first and
    judged again under the current rule set.
    """
    if rejudge:
        reset_for_rejudging(run=run)
    size = chunk_size or settings.QUALITY_CONTROL_CHUNK_SIZE
    rules = current_rule_set()
    counts = JudgeCounts()
    last_pk = 0
    base = judgeable_conversations(run).order_by("pk")
    while True:
        candidates = list(base.filter(pk__gt=last_pk).values_list("pk", flat=True)[:size])
        if not candidates:
            break
        last_pk = candidates[-1]
        with transaction.atomic():
            mine = _take_chunk(candidates, run)
            if mine:
                _judge_chunk(mine, rules, counts)
        if len(mine) < len(candidates):
            # Read after our commit: those another job judged meanwhile are done, not skipped.
            left = set(candidates) - set(mine)
            counts.skipped += judgeable_conversations(run).filter(pk__in=left).count()
    if counts.skipped:
        logger.warning(
            "quality control judged %s; %d conversations were held by another job",
            counts.as_dict(),
            counts.skipped,
        )
    else:
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
