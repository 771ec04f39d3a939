"""Deleting a worker's personal data at their request."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat.models import Conversation
from crowd.models import DataDeletion, Worker
from surveys.models import SeekerPostChatSurvey

# What the record lists as removed; never the values themselves.
_ID_FIELDS = ("external_id", "study_id", "assignment_id", "hit_id")


def deleted_placeholder(worker: Worker) -> str:
    # Unique per worker, so the constraints on the id and the person key still hold.
    return f"deleted-{worker.pk}"


def delete_personal_data(
    worker: Worker, *, requested_by: AbstractBaseUser | AnonymousUser | None = None
) -> DataDeletion:
    """Blank the worker's crowd-site ids and emails and withdraw their conversations.

    The conversations stay in the database (the partner's pay and the audit depend on them)
    but carry `withdrawn_at`, which keeps them out of every later export. Doing it twice
    returns the first record.
    """
    with transaction.atomic():
        locked = Worker.objects.select_for_update().get(pk=worker.pk)
        existing = DataDeletion.objects.filter(worker=locked).first()
        if existing is not None:
            return existing
        now = timezone.now()
        removed = [field for field in _ID_FIELDS if getattr(locked, field)]
        emails = SeekerPostChatSurvey.objects.filter(worker=locked).exclude(email="")
        if emails.update(email=""):
            removed.append("post_chat_survey.email")
        withdrawn = (
            Conversation.objects.filter(Q(seeker=locked) | Q(supporter=locked))
            .filter(withdrawn_at__isnull=True)
            .update(withdrawn_at=now)
        )
        unpaid = locked.pay_total if locked.pay_total is not None and not locked.paid_at else None
        Worker.objects.filter(pk=locked.pk).update(
            external_id=deleted_placeholder(locked),
            # The person key is the id too; the device and network hashes go with it.
            person_key=deleted_placeholder(locked),
            device_key="",
            network_key="",
            study_id="",
            assignment_id="",
            hit_id="",
            data_deleted_at=now,
        )
        # The admin's user, if any; a deletion run from a script records nobody.
        user_id = (
            requested_by.pk if requested_by is not None and requested_by.is_authenticated else None
        )
        record = DataDeletion.objects.create(
            worker=locked,
            requested_by_id=user_id,
            removed=removed,
            conversations_withdrawn=withdrawn,
            unpaid_amount=unpaid or Decimal("0"),
        )
    worker.refresh_from_db()
    return record
