"""The reviewers' queue: claiming a conversation, and approving or rejecting it.

A claim keeps two reviewers from working on one conversation; it expires after
`quality.claims.REVIEW_CLAIM_MINUTES`. Corrections (`quality.corrections`) need a claim too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.models import Conversation
from quality.claims import live_review_claims, review_claim_cutoff
from quality.errors import QualityError
from quality.models import Flag, Review, ReviewClaim, safety_kinds

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NOT_CLAIMED = "claim this conversation first (or your claim expired)"


class ClaimHeldError(QualityError):
    def __init__(self, holder: str, claimed_at: Any) -> None:
        super().__init__(
            f"{holder} is reviewing this conversation (claimed {claimed_at:%H:%M} UTC)"
        )
        self.holder = holder
        self.claimed_at = claimed_at


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


def _held_claim(conversation: Conversation, reviewer: User) -> QuerySet[ReviewClaim]:
    return live_review_claims().filter(conversation=conversation, reviewer=reviewer)


def require_claim(conversation: Conversation, reviewer: User) -> None:
    """Refuse unless `reviewer` holds an unexpired claim on `conversation`."""
    if not _held_claim(conversation, reviewer).exists():
        raise QualityError(NOT_CLAIMED)


def open_safety_flags(conversation: Conversation) -> QuerySet[Flag]:
    return Flag.objects.filter(
        conversation=conversation, resolved_at__isnull=True, kind__in=safety_kinds()
    )


def decide_review(conversation: Conversation, reviewer: User, verdict: str, reason: str) -> Review:
    """Approve or reject a conversation in review. The status change is conditional, so of two
    racing decisions exactly one wins; the loser gets a QualityError and nothing is written."""
    reason = reason.strip()
    if verdict not in Review.Verdict.values:
        raise QualityError(f"unknown verdict {verdict!r}")
    if verdict == Review.Verdict.REJECTED and not reason:
        raise QualityError("a reason is required to reject")
    with transaction.atomic():
        if verdict == Review.Verdict.APPROVED and open_safety_flags(conversation).exists():
            raise QualityError(
                "resolve its safety flags first, each with a note, on the safety page"
            )
        if not _held_claim(conversation, reviewer).delete()[0]:
            raise QualityError(NOT_CLAIMED)
        won = Conversation.objects.filter(
            pk=conversation.pk, quality_status=Conversation.QualityStatus.REVIEW
        ).update(quality_status=verdict)
        if not won:
            raise QualityError("this conversation was already decided")
        # A safety flag is resolved only on its own, with a note (safety.review).
        Flag.objects.filter(conversation=conversation, resolved_at__isnull=True).exclude(
            kind__in=safety_kinds()
        ).update(resolved_at=timezone.now())
        review = Review.objects.create(
            conversation=conversation, reviewer=reviewer, verdict=verdict, reason=reason
        )
    conversation.quality_status = verdict
    return review
