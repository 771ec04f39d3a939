"""Survey pages: parse the form, call one service, send the worker to their next stage."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from chat.frames import ended_words
from chat.models import Conversation
from crowd import vocabulary
from crowd.decorators import worker_required
from crowd.models import Worker
from crowd.stages import stage_url
from esc_platform.ratelimits import limit_survey_posts
from surveys import services
from surveys.forms import PostChatForm, PreChatForm, SeekerPostChatForm, SupporterPostChatForm
from surveys.models import PreChatSurvey
from surveys.selectors import conversation_for_post_survey, post_chat_questions

_Submit = Callable[[Worker, Mapping[str, Any]], object]


@limit_survey_posts
@worker_required
@require_http_methods(["GET", "POST"])
def pre_chat(request: HttpRequest, worker: Worker) -> HttpResponse:
    # A second submission lands here with the worker already waiting: it is sent on, not stored.
    if not worker.is_seeker or worker.stage != Worker.Stage.PRE_SURVEY:
        return redirect(stage_url(worker))
    run = worker.run
    form = PreChatForm(request.POST if request.method == "POST" else None, run=run)
    if request.method == "POST" and form.is_valid():
        # If the stage moved on meanwhile (another tab), the redirect below shows where to.
        with contextlib.suppress(services.SurveyError):
            services.submit_pre_chat(worker, form.cleaned_data)
        worker.refresh_from_db()
        return redirect(stage_url(worker))
    context = {
        "form": form,
        "run": run,
        "situation_help": (
            f"What happened, and why does it make you feel this way? "
            f"Write {run.situation_min_words} to {run.situation_max_words} words."
        ),
    }
    return render(request, "surveys/pre_chat.html", context, status=400 if form.errors else 200)


def _stored(worker: Worker, form: PostChatForm, submit: _Submit) -> HttpResponse | None:
    """Store a valid form and send the worker on; None (the error on the form) if refused."""
    try:
        submit(worker, form.cleaned_data)
    except services.SurveyError as exc:
        form.add_error(None, str(exc))
        return None
    worker.refresh_from_db()
    return redirect(stage_url(worker))


def _page_context(form: PostChatForm, conversation: Conversation, role: str) -> dict[str, Any]:
    questions = form.questions
    return {
        "form": form,
        "questions": questions,
        # Said again on the page, in the chat's own words, unless the chat ended as planned.
        "ending": "" if questions.finished else ended_words(conversation, role),
    }


def _seeker_post_chat(
    request: HttpRequest, worker: Worker, conversation: Conversation
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    questions = post_chat_questions(conversation, vocabulary.SEEKER)
    form = SeekerPostChatForm(data, questions=questions)
    if conversation.emotion_type:
        # Name the emotion the seeker chose, so "now" compares with the same feeling.
        intensity_field = form.fields["final_emotion_intensity"]
        intensity_field.label = f"How intense is your {conversation.emotion_type} now?"
    if data is not None and form.is_valid():
        done = _stored(worker, form, services.submit_seeker_post_chat)
        if done is not None:
            return done
    before = conversation.initial_emotion_intensity
    if before is None:
        survey = PreChatSurvey.objects.filter(worker=worker).first()
        before = survey.initial_emotion_intensity if survey else None
    context = _page_context(form, conversation, vocabulary.SEEKER)
    context["intensity_help"] = (
        f"Before the chat you rated it {before} out of 5. " if before else ""
    )
    status = 400 if form.errors else 200
    return render(request, "surveys/post_chat_seeker.html", context, status=status)


def _supporter_post_chat(
    request: HttpRequest, worker: Worker, conversation: Conversation
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    questions = post_chat_questions(conversation, vocabulary.SUPPORTER)
    form = SupporterPostChatForm(data, questions=questions)
    if data is not None and form.is_valid():
        done = _stored(worker, form, services.submit_supporter_post_chat)
        if done is not None:
            return done
    context = _page_context(form, conversation, vocabulary.SUPPORTER)
    status = 400 if form.errors else 200
    return render(request, "surveys/post_chat_supporter.html", context, status=status)


@limit_survey_posts
@worker_required
@require_http_methods(["GET", "POST"])
def post_chat(request: HttpRequest, worker: Worker) -> HttpResponse:
    if worker.stage != Worker.Stage.POST_SURVEY or worker.run.is_evaluation:
        # An evaluation's seeker answers the comparison instead (stage_url leads there).
        return redirect(stage_url(worker))
    # Found from the session's worker only: nobody can reach another conversation's survey.
    conversation = conversation_for_post_survey(worker)
    if conversation is None:
        services.skip_post_chat(worker)
        return redirect(stage_url(worker))
    if worker.is_seeker:
        return _seeker_post_chat(request, worker, conversation)
    return _supporter_post_chat(request, worker, conversation)
