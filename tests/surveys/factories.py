"""Surveys answered through the survey forms and services, as the survey pages answer them.

Each answer set is validated by the page's own form (PreChatForm, SeekerPostChatForm,
SupporterPostChatForm), then stored by `surveys.services.submit_pre_chat` /
`submit_seeker_post_chat` / `submit_supporter_post_chat`, exactly what the views do. The
`*_answers` dicts are the form posts, for tests that go through the pages themselves.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from surveys import services
from surveys.forms import PreChatForm, SeekerPostChatForm, SupporterPostChatForm
from surveys.models import PreChatSurvey, SeekerPostChatSurvey, SupporterPostChatSurvey
from surveys.selectors import PostChatQuestions, conversation_for_post_survey, post_chat_questions
from tests.cast import Actor
from tests.crowd.factories import enter

# 26 words: inside the default run's 20-80.
SITUATION = (
    "I lost my job last week and I keep worrying about paying the rent, telling my family, "
    "and finding something new before my savings run out."
)


def situation(words: int) -> str:
    return " ".join(f"word{i}" for i in range(words))


def pre_chat_answers(**overrides: Any) -> dict[str, Any]:
    """The pre-chat form as a seeker posts it."""
    answers: dict[str, Any] = {
        "problem_type": "job crisis",
        "emotion_type": "anxiety",
        "initial_emotion_intensity": "4",
        "situation": SITUATION,
        "experience_type": "Current Experience",
    }
    answers.update({key: str(value) for key, value in overrides.items()})
    return answers


def fill_pre_chat(client: Client, **overrides: Any) -> Any:
    """Post the pre-chat page in the seeker's browser."""
    return client.post("/surveys/pre-chat/", pre_chat_answers(**overrides))


def _cleaned(form: Any) -> dict[str, Any]:
    assert form.is_valid(), form.errors
    return dict(form.cleaned_data)


def submit_pre_chat(worker: Worker, **overrides: Any) -> PreChatSurvey:
    """The seeker's pre-chat survey (validated by its form), stored; she enters the waiting room."""
    form = PreChatForm(pre_chat_answers(**overrides), run=worker.run)
    survey = services.submit_pre_chat(worker, _cleaned(form))
    worker.refresh_from_db()
    return survey


def waiting_seeker(
    actor: Actor, run: CollectionRun | None = None, *, client: Client | None = None, **answers: Any
) -> Worker:
    """The seeker enters, consents and fills the pre-chat survey: she waits for a supporter."""
    seeker = enter(actor, run, client=client)
    if client is not None:
        response = fill_pre_chat(client, **answers)
        assert response.status_code == 302, response.content[:500]
        seeker.refresh_from_db()
    else:
        submit_pre_chat(seeker, **answers)
    assert seeker.stage == Worker.Stage.WAITING, seeker.stage
    return seeker


def seeker_post_answers(**overrides: Any) -> dict[str, Any]:
    """The seeker's post-chat form as she posts it."""
    answers: dict[str, Any] = {
        "ended_naturally": "yes",
        "final_emotion_intensity": "2",
        "empathy": "5",
        "relevance": "4",
        "question1": "They listened well.",
        "question2": "Nothing.",
        "email": "alice@example.org",
    }
    answers.update({key: str(value) for key, value in overrides.items()})
    return answers


def supporter_post_answers(**overrides: Any) -> dict[str, Any]:
    """The supporter's post-chat form as he posts it."""
    answers: dict[str, Any] = {
        "seeker_detail": "4",
        "question1": "A clear story.",
        "question2": "More time.",
    }
    answers.update({key: str(value) for key, value in overrides.items()})
    return answers


def _questions(worker: Worker, role: str) -> PostChatQuestions:
    """The questions the page would put to this worker about their ended conversation."""
    conversation = conversation_for_post_survey(worker)
    assert conversation is not None, f"{worker.role} {worker.pk} has no ended conversation"
    return post_chat_questions(conversation, role)


def submit_seeker_post_chat(worker: Worker, **overrides: Any) -> SeekerPostChatSurvey:
    """The seeker's post-chat answers (validated by the form the page shows her), stored; she
    is done. Answers to questions the ending does not ask are dropped, as the page drops them."""
    form = SeekerPostChatForm(
        seeker_post_answers(**overrides), questions=_questions(worker, vocabulary.SEEKER)
    )
    survey = services.submit_seeker_post_chat(worker, _cleaned(form))
    worker.refresh_from_db()
    return survey


def submit_supporter_post_chat(worker: Worker, **overrides: Any) -> SupporterPostChatSurvey:
    """The supporter's post-chat answers (validated by the form the page shows him), stored; he
    is done. Answers to questions the ending does not ask are dropped, as the page drops them."""
    form = SupporterPostChatForm(
        supporter_post_answers(**overrides), questions=_questions(worker, vocabulary.SUPPORTER)
    )
    survey = services.submit_supporter_post_chat(worker, _cleaned(form))
    worker.refresh_from_db()
    return survey
