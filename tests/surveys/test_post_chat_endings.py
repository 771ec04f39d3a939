"""Post-chat surveys that fit how the chat ended, through the pages of both sides.

Nobody rates a partner who wrote nothing; the seeker rates her supporter's empathy and topic
only when he wrote; "did it end naturally" is asked only after `finished`; the supporter rates
the seeker's detail only when she wrote. A question not asked is stored as null, whatever the
browser posts for it.
"""

from __future__ import annotations

import pytest
from django.test import Client

from crowd.models import Worker
from surveys import services
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey
from surveys.selectors import SEEKER_SCORED, SUPPORTER_SCORED
from tests.surveys.endings import (
    BY_NAME,
    ENDINGS,
    SEEKER,
    SILENT_SEEKER,
    SILENT_SUPPORTER,
    Ending,
    chat_that_ends,
)
from tests.surveys.factories import seeker_post_answers, supporter_post_answers

pytestmark = pytest.mark.django_db


def scored_questions(page: str) -> tuple[str, ...]:
    """The scored questions a survey page shows, in the order of the page."""
    found = [(page.find(f'name="{name}"'), name) for name in SEEKER_SCORED + SUPPORTER_SCORED]
    return tuple(name for at, name in sorted(found) if at >= 0)


def _answerer(ending: Ending, alice_client: Client, bob_client: Client) -> Client:
    return alice_client if ending.answers == SEEKER else bob_client


@pytest.mark.parametrize("ending", ENDINGS, ids=str)
def test_the_page_asks_only_what_fits_the_ending(
    ending: Ending, alice_client: Client, bob_client: Client
) -> None:
    chat_that_ends(ending, alice_client, bob_client)

    page = _answerer(ending, alice_client, bob_client).get("/surveys/post-chat/")

    assert page.status_code == 200
    body = page.content.decode()
    assert scored_questions(body) == ending.asked
    if ending.notice:
        assert ending.notice in body
    else:
        assert 'class="survey-ending"' not in body
    partner_wrote = ending.supporter_wrote if ending.answers == SEEKER else ending.seeker_wrote
    assert (SILENT_SUPPORTER in body or SILENT_SEEKER in body) is not partner_wrote
    assert ("come to a natural end" in body) is ("ended_naturally" in ending.asked)


@pytest.mark.parametrize("ending", ENDINGS, ids=str)
def test_it_stores_what_was_asked_and_null_for_the_rest(
    ending: Ending, alice_client: Client, bob_client: Client
) -> None:
    pair = chat_that_ends(ending, alice_client, bob_client)
    # Every scored answer is posted, as a forged form would: only the asked ones are kept.
    if ending.answers == SEEKER:
        posted = seeker_post_answers(ended_naturally="no", final_emotion_intensity="3")
        model: type[SeekerPostChatSurvey] | type[SupporterPostChatSurvey] = SeekerPostChatSurvey
        scored, worker = SEEKER_SCORED, pair.seeker
        expected = {
            "ended_naturally": False,
            "final_emotion_intensity": 3,
            "empathy": 5,
            "relevance": 4,
        }
    else:
        posted = supporter_post_answers(seeker_detail="2")
        model, scored, worker = SupporterPostChatSurvey, SUPPORTER_SCORED, pair.supporter
        expected = {"seeker_detail": 2}

    response = _answerer(ending, alice_client, bob_client).post("/surveys/post-chat/", posted)

    assert response.status_code == 302, response.content.decode()[:800]
    assert response["Location"] == "/done/"
    survey = model.objects.get(conversation=pair.conversation)
    stored = {name: getattr(survey, name) for name in scored}
    assert stored == {name: expected[name] if name in ending.asked else None for name in scored}
    assert survey.question1 == posted["question1"]
    assert survey.submitted_at is not None
    assert Worker.objects.get(pk=worker.pk).stage == Worker.Stage.DONE


@pytest.mark.parametrize(
    ("ending", "left_out", "message"),
    [
        (BY_NAME["supporter-left"], "empathy", "Choose a number from 1 to 5."),
        (
            BY_NAME["supporter-left-before-writing"],
            "final_emotion_intensity",
            "Choose how intense the emotion is now",
        ),
        (
            BY_NAME["supporter-reports-seeker-silent"],
            "seeker_detail",
            "Choose a number from 1 to 5.",
        ),
    ],
    ids=["supporter-left", "supporter-left-before-writing", "supporter-reports"],
)
def test_a_question_asked_must_still_be_answered(
    ending: Ending, left_out: str, message: str, alice_client: Client, bob_client: Client
) -> None:
    pair = chat_that_ends(ending, alice_client, bob_client)
    answers = seeker_post_answers() if ending.answers == SEEKER else supporter_post_answers()
    del answers[left_out]

    response = _answerer(ending, alice_client, bob_client).post("/surveys/post-chat/", answers)

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f"{answers['question1']}</textarea>" in body  # nothing typed is lost
    assert not SeekerPostChatSurvey.objects.exists()
    assert not SupporterPostChatSurvey.objects.exists()
    worker = pair.seeker if ending.answers == SEEKER else pair.supporter
    assert Worker.objects.get(pk=worker.pk).stage == Worker.Stage.POST_SURVEY


def test_the_seeker_left_alone_need_not_say_whether_it_ended_naturally(
    alice_client: Client, bob_client: Client
) -> None:
    pair = chat_that_ends(BY_NAME["supporter-left"], alice_client, bob_client)
    answers = seeker_post_answers()
    del answers["ended_naturally"]

    response = alice_client.post("/surveys/post-chat/", answers)

    assert response["Location"] == "/done/"
    survey = SeekerPostChatSurvey.objects.get(conversation=pair.conversation)
    assert (survey.ended_naturally, survey.empathy) == (None, 5)


def test_a_supporter_with_nothing_to_rate_sends_an_empty_survey(
    alice_client: Client, bob_client: Client
) -> None:
    pair = chat_that_ends(BY_NAME["seeker-left-before-writing"], alice_client, bob_client)
    page = bob_client.get("/surveys/post-chat/").content.decode()
    assert "Is there anything you would like to tell us about what happened?" in page
    assert "What did you like or dislike" not in page

    response = bob_client.post("/surveys/post-chat/", {})

    assert response["Location"] == "/done/"
    survey = SupporterPostChatSurvey.objects.get(conversation=pair.conversation)
    assert (survey.seeker_detail, survey.question1, survey.question2) == (None, "", "")


def test_the_service_stores_null_for_a_question_not_asked_whatever_it_is_given(
    alice_client: Client, bob_client: Client
) -> None:
    pair = chat_that_ends(BY_NAME["supporter-left-before-writing"], alice_client, bob_client)
    forged = {"ended_naturally": True, "final_emotion_intensity": 2, "empathy": 5, "relevance": 5}

    survey = services.submit_seeker_post_chat(pair.seeker, forged)

    survey.refresh_from_db()
    assert (survey.final_emotion_intensity, survey.ended_naturally) == (2, None)
    assert (survey.empathy, survey.relevance) == (None, None)


def test_the_service_refuses_answers_missing_a_question_asked(
    alice_client: Client, bob_client: Client
) -> None:
    pair = chat_that_ends(BY_NAME["finished-seeker"], alice_client, bob_client)

    with pytest.raises(services.SurveyError, match="missing: ended_naturally, relevance"):
        services.submit_seeker_post_chat(
            pair.seeker, {"final_emotion_intensity": 2, "empathy": 4, "question1": "kind"}
        )

    assert not SeekerPostChatSurvey.objects.exists()
    assert Worker.objects.get(pk=pair.seeker.pk).stage == Worker.Stage.POST_SURVEY
