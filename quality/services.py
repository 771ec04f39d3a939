"""Quality-control writes: judging, releases, the reviewers' queue, corrections, relabelling."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from quality.models import (
    AutoApprovalRuleSet,
    Correction,
    Decision,
    Flag,
    JudgingClaim,
    Outcome,
    Relabel,
    RelabelAssignment,
    Release,
    Review,
    ReviewClaim,
)
from quality.rules import ConversationFacts, judge, word_count
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# A judging job that died leaves its claims behind; after this long another job may take them.
JUDGING_CLAIM_EXPIRY = timedelta(minutes=10)
# How long a reviewer holds a conversation without acting on it.
REVIEW_CLAIM_MINUTES = 15
# Conversations judged per transaction; also keeps every IN (...) list well under SQLite's limit.
JUDGE_CHUNK = 500


class QualityError(Exception):
    """A request the quality rules refuse; the message is shown to the user as is."""


class ClaimHeldError(QualityError):
    def __init__(self, holder: str, claimed_at: Any) -> None:
        super().__init__(
            f"{holder} is reviewing this conversation (claimed {claimed_at:%H:%M} UTC)"
        )
        self.holder = holder
        self.claimed_at = claimed_at


# --------------------------------------------------------------------------- rule sets


def current_rule_set() -> AutoApprovalRuleSet:
    """The rule set in force (the highest version); version 1 with the defaults if none."""
    rule_set = AutoApprovalRuleSet.objects.order_by("-version").first()
    if rule_set is not None:
        return rule_set
    try:
        with transaction.atomic():
            return AutoApprovalRuleSet.objects.create(version=1, note="Defaults of the paper")
    except IntegrityError:
        # Another process created version 1 at the same moment.
        return AutoApprovalRuleSet.objects.order_by("-version").first()  # type: ignore[return-value]


def save_rule_set_version(
    rule_set: AutoApprovalRuleSet, *, by: User | None = None
) -> AutoApprovalRuleSet:
    """Save `rule_set` (new or edited) as a new version; earlier versions stay untouched."""
    rule_set.full_clean(exclude=["version"])
    for _ in range(5):
        try:
            with transaction.atomic():
                top = AutoApprovalRuleSet.objects.aggregate(v=Max("version"))["v"] or 0
                rule_set.pk = None
                rule_set.version = top + 1
                rule_set.created_by = by
                rule_set.save(force_insert=True)
                return rule_set
        except IntegrityError:
            continue  # two editors saved at once: take the next number
    raise QualityError("could not allocate a rule-set version; try again")


# --------------------------------------------------------------------------- judging


@dataclass
class JudgeCounts:
    filtered: int = 0
    approved: int = 0
    review: int = 0
    skipped: int = 0  # claimed or judged by another job meanwhile

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

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


# --------------------------------------------------------------------------- releases


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_release(*, force: bool = False) -> Release | None:
    """Export the approved set as the next numbered release; None when nothing changed.

    The file is written first under a temporary name; the number is taken and the file renamed
    in one transaction, so a failed write leaves neither a row nor a stray release file.
    """
    from chat.dataset import DatasetError
    from chat.dataset.exporting import exportable_conversations, write_export_file

    export_dir = Path(settings.ESCONV_EXPORT_DIR)
    export_dir.mkdir(parents=True, exist_ok=True)
    tmp = export_dir / f".release-{uuid.uuid4().hex}.json"
    try:
        try:
            count = write_export_file(tmp, exportable_conversations(status="approved"), fmt="raw")
        except DatasetError as exc:
            raise QualityError(f"the release could not be written: {exc}") from exc
        digest = _sha256(tmp)
        last = Release.objects.order_by("-number").first()
        if not force and last is not None and last.sha256 == digest and Path(last.path).is_file():
            return None
        for _ in range(5):
            try:
                with transaction.atomic():
                    number = (Release.objects.aggregate(n=Max("number"))["n"] or 0) + 1
                    final = export_dir / f"esconv-release-{number:04d}-{timezone.now():%Y%m%d}.json"
                    release = Release.objects.create(
                        number=number, path=str(final), count=count, sha256=digest
                    )
                    os.replace(tmp, final)
                    return release
            except IntegrityError:
                continue  # another job took this number first
        raise QualityError("could not allocate a release number; try again")
    finally:
        tmp.unlink(missing_ok=True)


@dataclass
class QualityControlResult:
    counts: JudgeCounts
    release: Release | None = None
    totals: dict[str, int] = field(default_factory=dict)


def status_totals(run: CollectionRun | None = None) -> dict[str, int]:
    qs = Conversation.objects.all() if run is None else Conversation.objects.filter(run=run)
    totals = dict.fromkeys(Conversation.QualityStatus.values, 0)
    for status, n in qs.order_by().values_list("quality_status").annotate(n=Count("pk")):
        totals[status] = n
    return totals


def run_quality_control(
    *, run: CollectionRun | None = None, rejudge: bool = False, release: bool = True
) -> QualityControlResult:
    """The periodic job: judge what is new, then write a release of the approved set."""
    counts = judge_pending(run=run, rejudge=rejudge)
    result = QualityControlResult(counts=counts)
    if release:
        result.release = write_release()
    result.totals = status_totals(run)
    return result


# --------------------------------------------------------------------------- reviewers' queue


def review_claim_cutoff() -> Any:
    return timezone.now() - timedelta(minutes=REVIEW_CLAIM_MINUTES)


def claim_for_review(conversation: Conversation, reviewer: User) -> ReviewClaim:
    """Lock a conversation in the queue for `reviewer` (renewing their own claim)."""
    if conversation.quality_status != Conversation.QualityStatus.REVIEW:
        raise QualityError("this conversation is not waiting for review")
    now = timezone.now()
    with transaction.atomic():
        taken = ReviewClaim.objects.filter(conversation=conversation).filter(
            Q(reviewer=reviewer) | Q(claimed_at__lt=review_claim_cutoff())
        )
        if taken.update(reviewer=reviewer, claimed_at=now):
            return ReviewClaim.objects.get(conversation=conversation)
        try:
            with transaction.atomic():
                return ReviewClaim.objects.create(
                    conversation=conversation, reviewer=reviewer, claimed_at=now
                )
        except IntegrityError:
            pass
    holder = (
        ReviewClaim.objects.select_related("reviewer").filter(conversation=conversation).first()
    )
    if holder is None:  # released between our two statements: try once more
        return claim_for_review(conversation, reviewer)
    raise ClaimHeldError(holder.reviewer.get_username(), holder.claimed_at)


def release_review_claim(conversation: Conversation, reviewer: User) -> None:
    ReviewClaim.objects.filter(conversation=conversation, reviewer=reviewer).delete()


def _require_claim(conversation: Conversation, reviewer: User) -> None:
    held = ReviewClaim.objects.filter(
        conversation=conversation, reviewer=reviewer, claimed_at__gte=review_claim_cutoff()
    ).exists()
    if not held:
        raise QualityError("claim this conversation first (or your claim expired)")


def decide_review(conversation: Conversation, reviewer: User, verdict: str, reason: str) -> Review:
    """Approve or reject a conversation in review. The status change is conditional, so of two
    racing decisions exactly one wins; the loser gets a QualityError and nothing is written."""
    reason = reason.strip()
    if verdict not in Review.Verdict.values:
        raise QualityError(f"unknown verdict {verdict!r}")
    if verdict == Review.Verdict.REJECTED and not reason:
        raise QualityError("a reason is required to reject")
    with transaction.atomic():
        mine = ReviewClaim.objects.filter(
            conversation=conversation, reviewer=reviewer, claimed_at__gte=review_claim_cutoff()
        ).delete()[0]
        if not mine:
            raise QualityError("claim this conversation first (or your claim expired)")
        won = Conversation.objects.filter(
            pk=conversation.pk, quality_status=Conversation.QualityStatus.REVIEW
        ).update(quality_status=verdict)
        if not won:
            raise QualityError("this conversation was already decided")
        Flag.objects.filter(conversation=conversation, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        review = Review.objects.create(
            conversation=conversation, reviewer=reviewer, verdict=verdict, reason=reason
        )
    conversation.quality_status = verdict
    return review


def correct_strategy(
    utterance: Utterance, reviewer: User, strategy: str, reason: str = ""
) -> Correction:
    """Write a corrected strategy into the utterance; keep the original in a Correction."""
    if strategy not in vocabulary.STRATEGY_NAMES:
        raise QualityError(f"unknown strategy {strategy!r}")
    if utterance.speaker != vocabulary.SUPPORTER:
        raise QualityError("only supporter utterances carry a strategy")
    _require_claim(utterance.conversation, reviewer)
    with transaction.atomic():
        current = Utterance.objects.select_for_update().get(pk=utterance.pk)
        if current.strategy == strategy:
            raise QualityError("the utterance already has this strategy")
        correction = Correction.objects.create(
            conversation_id=current.conversation_id,
            utterance=current,
            field=Correction.Field.STRATEGY,
            original_value=current.strategy or "",
            new_value=strategy,
            corrected_by=reviewer,
            reason=reason.strip(),
        )
        Utterance.objects.filter(pk=current.pk).update(strategy=strategy)
    utterance.strategy = strategy
    return correction


def correct_initial_intensity(
    conversation: Conversation, reviewer: User, value: int, reason: str = ""
) -> Correction:
    """Write a corrected initial emotion intensity (1–5); keep the original in a Correction."""
    if not 1 <= value <= 5:
        raise QualityError("emotion intensity must be between 1 and 5")
    _require_claim(conversation, reviewer)
    with transaction.atomic():
        current = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if current.initial_emotion_intensity == value:
            raise QualityError("the conversation already has this intensity")
        original = current.initial_emotion_intensity
        correction = Correction.objects.create(
            conversation=current,
            field=Correction.Field.INITIAL_EMOTION_INTENSITY,
            original_value="" if original is None else str(original),
            new_value=str(value),
            corrected_by=reviewer,
            reason=reason.strip(),
        )
        Conversation.objects.filter(pk=current.pk).update(initial_emotion_intensity=value)
    conversation.initial_emotion_intensity = value
    return correction


# --------------------------------------------------------------------------- relabelling


def assign_relabelling(
    conversations: Iterable[Conversation],
    workers: Iterable[Worker],
    *,
    by: User | None = None,
) -> int:
    """Give approved conversations to qualified supporters to re-label; returns how many new."""
    workers = list(workers)
    for worker in workers:
        if worker.role != vocabulary.SUPPORTER or not worker.is_qualified:
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
