"""Writes of the surveys: each answer set is stored once, then the worker moves on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Conversation
from crowd import services as crowd_services
from crowd import vocabulary
from crowd.models import Worker
from evaluation import flow
from surveys.models import PreChatSurvey, SeekerPostChatSurvey, SupporterPostChatSurvey
from surveys.selectors import PostChatQuestions, conversation_for_post_survey, post_chat_questions


class SurveyError(Exception):
    """The survey cannot be taken now; the message says why."""


def _lock(worker: Worker) -> Worker:
    # Serialises two submissions of one worker (double click, two tabs) on PostgreSQL.
    return Worker.objects.select_for_update(of=("self",)).select_related("run").get(pk=worker.pk)


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
        evaluation = flow.evaluation_of(locked.run)
        if evaluation is not None:
            # An evaluation's seeker chats with a model at once (docs/evaluation.md).
            flow.begin(locked, evaluation)
        else:
            crowd_services.enter_waiting_room(locked)
    worker.refresh_from_db()
    return survey


_PostChatModel = type[SeekerPostChatSurvey] | type[SupporterPostChatSurvey]


def _post_chat_conversation(worker: Worker, role: str) -> Conversation:
    conversation = conversation_for_post_survey(worker)
    if conversation is None:
        raise SurveyError("There is no ended conversation to answer a survey about.")
    partner_field = "seeker_id" if role == vocabulary.SEEKER else "supporter_id"
    if getattr(conversation, partner_field) != worker.pk:
        raise SurveyError(f"This survey is for the {role} of the conversation.")
    return conversation


def _store_once(
    model: _PostChatModel,
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


def _answers(
    questions: PostChatQuestions, data: Mapping[str, Any], optional: tuple[str, ...]
) -> dict[str, Any]:
    """The values to store: every question asked answered, every one not asked null."""
    missing = [name for name in questions.asked if data.get(name) is None]
    if missing:
        raise SurveyError(f"These answers are missing: {', '.join(missing)}.")
    answers: dict[str, Any] = {name: data[name] for name in questions.asked}
    answers.update(dict.fromkeys(questions.not_asked))
    answers.update({name: data.get(name, "") for name in optional})
    return answers


def _submit_post_chat(
    worker: Worker,
    role: str,
    model: _PostChatModel,
    data: Mapping[str, Any],
    *,
    optional: tuple[str, ...],
) -> Any:
    """Store one side's post-chat answers once and move the worker to the status page.

    Which scored questions count is decided here, from the conversation, not from the form; the
    answers are read only after the worker is found to be the right one to give them.
    """
    with transaction.atomic():
        locked = _lock(worker)
        conversation = _post_chat_conversation(locked, role)
        survey = model.objects.filter(conversation=conversation, submitted_at__isnull=False).first()
        if survey is None:
            answers = _answers(post_chat_questions(conversation, role), data, optional)
            survey = _store_once(model, conversation, {"worker": locked, **answers})
        crowd_services.complete_task(locked)
    worker.refresh_from_db()
    return survey


def submit_seeker_post_chat(worker: Worker, data: Mapping[str, Any]) -> SeekerPostChatSurvey:
    """Store the seeker's post-chat answers once and move them to the status page.

    `data` is a validated SeekerPostChatForm's cleaned_data (built with the conversation's
    `post_chat_questions`). Scores of questions not asked are stored null whatever `data`
    holds. A second submission keeps the first answers and changes nothing.
    """
    survey: SeekerPostChatSurvey = _submit_post_chat(
        worker,
        vocabulary.SEEKER,
        SeekerPostChatSurvey,
        data,
        optional=("question1", "question2", "email"),
    )
    return survey


def submit_supporter_post_chat(worker: Worker, data: Mapping[str, Any]) -> SupporterPostChatSurvey:
    """Store the supporter's post-chat answers once and move them to the status page."""
    survey: SupporterPostChatSurvey = _submit_post_chat(
        worker,
        vocabulary.SUPPORTER,
        SupporterPostChatSurvey,
        data,
        optional=("question1", "question2"),
    )
    return survey


def skip_post_chat(worker: Worker) -> Worker:
    """A worker at the post-chat stage with no ended conversation has nothing to answer."""
    if conversation_for_post_survey(worker) is not None:
        raise SurveyError("This worker has a conversation to answer a survey about.")
    return crowd_services.complete_task(worker)
