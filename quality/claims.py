"""How long reviewers' claims hold (review queue, calibration labelling)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from quality.models import CalibrationClaim, ReviewClaim

# How long a reviewer holds a conversation without acting on it.
REVIEW_CLAIM_MINUTES = 15


def review_claim_cutoff() -> datetime:
    """Claims made before this moment have expired."""
    return timezone.now() - timedelta(minutes=REVIEW_CLAIM_MINUTES)


def live_review_claims() -> QuerySet[ReviewClaim]:
    """Reviewers' claims that have not expired."""
    return ReviewClaim.objects.filter(claimed_at__gte=review_claim_cutoff())


# How long a reviewer holds a sampled conversation while labelling it for calibration.
CALIBRATION_CLAIM_MINUTES = 15


def calibration_claim_cutoff() -> datetime:
    """Calibration claims made before this moment have expired."""
    return timezone.now() - timedelta(minutes=CALIBRATION_CLAIM_MINUTES)


def live_calibration_claims() -> QuerySet[CalibrationClaim]:
    """Calibration claims that have not expired."""
    return CalibrationClaim.objects.filter(claimed_at__gte=calibration_claim_cutoff())
