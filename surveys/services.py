"""Writes of the surveys: each answer set is stored once, then the worker moves on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Conversation
from crowd import services as crowd_services
from crowd.models import Worker
from surveys.models import PreChatSurvey, SeekerPostChatSurvey, SupporterPostChatSurvey
from surveys.selectors import conversation_for_post_survey


class SurveyError(Exception):
    """The survey cannot be taken now; the message says why."""


def _lock(worker: Worker) -> Worker:
    # Serialises two submissions of one worker (double click, two tabs) on PostgreSQL.
    return Worker.objects.select_for_update().select_related("run").get(pk=worker.pk)


def submit_pre_chat(worker: Worker, data: Mapping[str, Any]) -> PreChatSurvey:
    """Store a seeker's pre-chat survey and put them in the waiting room.

    `data` is a validated PreChatForm's cleaned_data. A second submission returns the first
    survey unchanged.
    """
    with transaction.atomic():
        locked = _lock(worker)
        existing = PreChatSurvey.objects.filter(worker=locked).first()
        if existing is not None:
            return existing
        if not locked.is_seeker:
            raise SurveyError("Only help-seekers fill the pre-chat survey.")
        if locked.stage != Worker.Stage.PRE_SURVEY:
            raise SurveyError("The pre-chat survey is not open for this worker now.")
        try:
            with transaction.atomic():
                survey = PreChatSurvey.objects.create(
                    worker=locked,
                    run=locked.run,
                    problem_type=data["problem_type"],
                    emotion_type=data["emotion_type"],
                    initial_emotion_intensity=data["initial_emotion_intensity"],
                    situation=data["situation"],
                    experience_type=data["experience_type"],
                )
        except IntegrityError:
            # SQLite has no row lock: the other submission got there first.
            return PreChatSurvey.objects.get(worker=locked)
        crowd_services.enter_waiting_room(locked)
    worker.refresh_from_db()
    return survey


def _post_chat_conversation(worker: Worker, role: str) -> Conversation:
    conversation = conversation_for_post_survey(worker)
    if conversation is None:
        raise SurveyError("There is no ended conversation to answer a survey about.")
    partner_field = "seeker_id" if role == "seeker" else "supporter_id"
    if getattr(conversation, partner_field) != worker.pk:
        raise SurveyError(f"This survey is for the {role} of the conversation.")
    return conversation


def _store_once(
    model: type[SeekerPostChatSurvey] | type[SupporterPostChatSurvey],
    conversation: Conversation,
    values: dict[str, Any],
) -> Any:
    """Create the conversation's survey, or fill one that was never submitted; never overwrite."""
    survey = model.objects.filter(conversation=conversation).first()
    if survey is not None and survey.submitted_at is not None:
        return survey
    values = {**values, "submitted_at": timezone.now()}
    if survey is not None:
        model.objects.filter(pk=survey.pk, submitted_at__isnull=True).update(**values)
        survey.refresh_from_db()
        return survey
    try:
        with transaction.atomic():
            return model.objects.create(conversation=conversation, **values)
    except IntegrityError:
        # SQLite has no row lock: the other submission got there first.
        return model.objects.get(conversation=conversation)


def submit_seeker_post_chat(worker: Worker, data: Mapping[str, Any]) -> SeekerPostChatSurvey:
    """Store the seeker's post-chat answers once and move them to the status page.

    `data` is a validated SeekerPostChatForm's cleaned_data. A second submission keeps the
    first answers and changes nothing.
    """
    with transaction.atomic():
        locked = _lock(worker)
        conversation = _post_chat_conversation(locked, "seeker")
        survey: SeekerPostChatSurvey = _store_once(
            SeekerPostChatSurvey,
            conversation,
            {
                "worker": locked,
                "ended_naturally": data["ended_naturally"],
                "final_emotion_intensity": data["final_emotion_intensity"],
                "empathy": data["empathy"],
                "relevance": data["relevance"],
                "question1": data.get("question1", ""),
                "question2": data.get("question2", ""),
                "email": data.get("email", ""),
            },
        )
        crowd_services.complete_task(locked)
    worker.refresh_from_db()
    return survey


def submit_supporter_post_chat(worker: Worker, data: Mapping[str, Any]) -> SupporterPostChatSurvey:
    """Store the supporter's post-chat answers once and move them to the status page."""
    with transaction.atomic():
        locked = _lock(worker)
        conversation = _post_chat_conversation(locked, "supporter")
        survey: SupporterPostChatSurvey = _store_once(
            SupporterPostChatSurvey,
            conversation,
            {
                "worker": locked,
                "seeker_detail": data["seeker_detail"],
                "question1": data.get("question1", ""),
                "question2": data.get("question2", ""),
            },
        )
        crowd_services.complete_task(locked)
    worker.refresh_from_db()
    return survey


def skip_post_chat(worker: Worker) -> Worker:
    """A worker at the post-chat stage with no ended conversation has nothing to answer."""
    if conversation_for_post_survey(worker) is not None:
        raise SurveyError("This worker has a conversation to answer a survey about.")
    return crowd_services.complete_task(worker)
