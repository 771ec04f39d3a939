"""How long a reviewer's claim on a conversation holds: one rule for services and selectors."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from quality.models import ReviewClaim

# How long a reviewer holds a conversation without acting on it.
REVIEW_CLAIM_MINUTES = 15


def review_claim_cutoff() -> datetime:
    """Claims made before this moment have expired."""
    return timezone.now() - timedelta(minutes=REVIEW_CLAIM_MINUTES)


def live_review_claims() -> QuerySet[ReviewClaim]:
    """Reviewers' claims that have not expired."""
    return ReviewClaim.objects.filter(claimed_at__gte=review_claim_cutoff())
