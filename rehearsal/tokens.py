"""Issue, check and revoke rehearsal tokens (rehearsal.models.RehearsalToken)."""

from __future__ import annotations

import getpass
import hashlib
import secrets
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from crowd.models import CollectionRun
from rehearsal.models import RehearsalToken

DEFAULT_MINUTES = 120
MAX_MINUTES = 24 * 60


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(run: CollectionRun, *, minutes: int = DEFAULT_MINUTES, by: str = "") -> str:
    """A new token for `run`, live for `minutes`; returns the secret (kept nowhere)."""
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"a rehearsal token lives 1 to {MAX_MINUTES} minutes, not {minutes}")
    secret = secrets.token_urlsafe(24)
    who = by or f"simulate_run by {getpass.getuser()}"
    RehearsalToken.objects.create(
        run=run,
        digest=_digest(secret),
        issued_by=who[:150],
        expires_at=timezone.now() + timedelta(minutes=minutes),
    )
    return secret


def live_token(run: CollectionRun, secret: str) -> RehearsalToken | None:
    """The live token of `run` with this secret, or None (unknown, expired, revoked, other run)."""
    if not secret:
        return None
    token = RehearsalToken.objects.filter(run=run, digest=_digest(secret)).first()
    return token if token is not None and token.is_live else None


def count_entry(token: RehearsalToken) -> None:
    RehearsalToken.objects.filter(pk=token.pk).update(workers_entered=F("workers_entered") + 1)


def revoke(secret: str) -> None:
    RehearsalToken.objects.filter(digest=_digest(secret), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
