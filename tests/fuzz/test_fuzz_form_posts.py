"""Fuzzed posts to the worker pages: the pre-chat survey and the tutorial.

Properties: no answer is a server error, and whatever is stored is what the forms promise
(text the live chat would accept, word counts within the run's limits, options that exist).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from crowd import vocabulary
from crowd.models import CollectionRun
from crowd.text import has_visible_text, normalise_text, refusal, word_count
from surveys.models import PreChatSurvey
from tests.cast import SAM, extra
from tests.crowd.factories import enter, quick_run, session_key
from tests.fuzz.strategies import FUZZ, awkward_text, plain_text
from tests.surveys.factories import SITUATION, situation
from tests.tutorial.factories import load_content
from tutorial.models import QuizAnswer

pytestmark = pytest.mark.django_db

_seekers = itertools.count(1)

form_text = st.one_of(awkward_text, plain_text, st.sampled_from(["", " ", "4", "٣", "²"]))
situations = st.one_of(
    st.just(SITUATION),
    st.integers(min_value=0, max_value=90).map(situation),
    st.tuples(st.integers(min_value=0, max_value=40), awkward_text).map(
        lambda parts: situation(parts[0]) + " " + parts[1]
    ),
    form_text,
)
pre_chat_posts = st.fixed_dictionaries(
    {},
    optional={
        "problem_type": st.one_of(st.just("job crisis"), form_text),
        "emotion_type": st.one_of(st.just("anxiety"), form_text),
        "initial_emotion_intensity": st.one_of(st.sampled_from(["1", "5", "0", "6"]), form_text),
        "situation": situations,
        "experience_type": st.one_of(st.sampled_from(vocabulary.EXPERIENCE_TYPES), form_text),
        "extra": form_text,
    },
)


def _browser_of_a_new_seeker(run: CollectionRun) -> Client:
    """A seeker at the pre-chat survey, in a browser of her own (her entry link's session)."""
    seeker = enter(extra(vocabulary.SEEKER, next(_seekers)), run)
    client = Client()
    client.cookies["sessionid"] = session_key(seeker)
    return client


def _survey_breaks_the_form(survey: PreChatSurvey, run: CollectionRun) -> str | None:
    text = survey.situation
    if refusal(text) is not None or not has_visible_text(text):
        return "a situation the chat would refuse"
    if normalise_text(text) != text:
        return "a situation not stored in its normal form"
    if not run.situation_min_words <= word_count(text) <= run.situation_max_words:
        return f"a situation of {word_count(text)} words"
    if survey.problem_type not in run.problem_options:
        return f"problem {survey.problem_type!r}"
    if survey.emotion_type not in run.emotion_options:
        return f"emotion {survey.emotion_type!r}"
    if not 1 <= survey.initial_emotion_intensity <= 5:
        return "an intensity outside 1-5"
    return None


@FUZZ
@given(post=pre_chat_posts)
def test_no_pre_chat_post_is_a_server_error_or_a_bad_row(post: dict[str, Any]) -> None:
    run = CollectionRun.objects.filter(name="fuzz-surveys").first() or quick_run("fuzz-surveys")
    client = _browser_of_a_new_seeker(run)
    # Encoded as a browser would (UTF-8, surrogates as the replacement character).
    data = {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in post.items()}

    response = client.post("/surveys/pre-chat/", data)

    assert response.status_code < 500
    for survey in PreChatSurvey.objects.filter(run=run):
        assert _survey_breaks_the_form(survey, run) is None, survey.situation


part_numbers = st.one_of(
    st.integers(min_value=-3, max_value=15).map(str),
    st.sampled_from(["99999999999999999999", "9" * 400, "1.0", "²", "٣", "%00", "1/"]),
)
options = st.one_of(st.integers(min_value=-2, max_value=6).map(str), form_text)


@FUZZ
@given(number=part_numbers, option=st.one_of(st.none(), options), method=st.booleans())
def test_no_tutorial_request_is_a_server_error(
    sam_client: Client, number: str, option: str | None, method: bool
) -> None:
    subtasks = load_content()
    if not sam_client.cookies.get("sessionid"):
        enter(SAM, client=sam_client)
    url = f"/tutorial/{number}/"
    if method:
        data = {} if option is None else {"option": option.encode("utf-8", "replace").decode()}
        response = sam_client.post(url, data)
    else:
        response = sam_client.get(url)

    assert response.status_code < 500
    for answer in QuizAnswer.objects.select_related("item"):
        assert 0 <= answer.option < len(answer.item.options)
    assert len(subtasks) == 11
