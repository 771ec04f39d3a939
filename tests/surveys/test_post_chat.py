"""Post-chat surveys: tied to the worker's own conversation, stored once, then the status page."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Conversation
from crowd.models import Worker
from surveys import services
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey
from tests.cast import ALICE, CAROL, DAVE
from tests.chat.factories import end, make_pair, say
from tests.crowd.factories import device_of, enter, quick_run, use_device
from tests.surveys.factories import seeker_post_answers, supporter_post_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_chat(alice_client: Client, bob_client: Client) -> Conversation:
    """Alice (seeker) and Bob (supporter) chatted, and Alice ended it after the minimum."""
    pair = make_pair(quick_run(), seeker_client=alice_client, supporter_client=bob_client)
    say(pair, pair.seeker, "I lost my job and I am scared.")
    say(pair, pair.supporter, "That sounds frightening. What happened?")
    end(pair, pair.seeker, "finished")
    pair.conversation.refresh_from_db()
    return pair.conversation


def test_it_stores_the_seeker_survey_and_shows_the_status_page(
    alice_client: Client, finished_chat: Conversation
) -> None:
    page = alice_client.get("/surveys/post-chat/")
    assert page.status_code == 200
    assert "Before the chat you rated it 4 out of 5." in page.content.decode()

    response = alice_client.post("/surveys/post-chat/", seeker_post_answers())

    assert response.status_code == 302
    assert response["Location"] == "/done/"
    survey = SeekerPostChatSurvey.objects.get(conversation=finished_chat)
    assert survey.worker == finished_chat.seeker
    assert survey.ended_naturally is True
    assert (survey.final_emotion_intensity, survey.empathy, survey.relevance) == (2, 5, 4)
    assert (survey.question1, survey.question2) == ("They listened well.", "Nothing.")
    assert survey.email == "alice@example.org"
    assert survey.submitted_at is not None
    alice = Worker.objects.get(pk=finished_chat.seeker_id)
    assert alice.stage == Worker.Stage.DONE
    assert alice_client.get("/done/").status_code == 200


def test_it_stores_the_supporter_survey(bob_client: Client, finished_chat: Conversation) -> None:
    page = bob_client.get("/surveys/post-chat/").content.decode()
    assert "How much detail did the seeker give about their problem?" in page
    assert "empathy" not in page

    response = bob_client.post("/surveys/post-chat/", supporter_post_answers())

    assert response["Location"] == "/done/"
    survey = SupporterPostChatSurvey.objects.get(conversation=finished_chat)
    assert survey.worker_id == finished_chat.supporter_id
    assert survey.seeker_detail == 4
    assert survey.question2 == "More time."
    assert Worker.objects.get(pk=finished_chat.supporter_id).stage == Worker.Stage.DONE


def test_it_keeps_the_first_answers_when_the_seeker_submits_twice(
    alice_client: Client, finished_chat: Conversation
) -> None:
    alice_client.post("/surveys/post-chat/", seeker_post_answers(empathy="5"))
    second = alice_client.post("/surveys/post-chat/", seeker_post_answers(empathy="1"))

    assert second.status_code == 302
    assert second["Location"] == "/done/"
    assert SeekerPostChatSurvey.objects.filter(conversation=finished_chat).count() == 1
    assert SeekerPostChatSurvey.objects.get(conversation=finished_chat).empathy == 5


def test_it_keeps_the_first_answers_when_the_service_is_called_twice(
    finished_chat: Conversation,
) -> None:
    # Two tabs that both passed the stage check before either stored anything.
    bob = Worker.objects.get(pk=finished_chat.supporter_id)
    first = services.submit_supporter_post_chat(bob, {"seeker_detail": 5})
    second = services.submit_supporter_post_chat(bob, {"seeker_detail": 1, "question1": "x"})

    assert first.pk == second.pk
    survey = SupporterPostChatSurvey.objects.get(conversation=finished_chat)
    assert (survey.seeker_detail, survey.question1) == (5, "")


def test_it_keeps_the_first_answers_when_the_supporter_submits_twice(
    bob_client: Client, finished_chat: Conversation
) -> None:
    bob_client.post("/surveys/post-chat/", supporter_post_answers(seeker_detail="2"))
    second = bob_client.post("/surveys/post-chat/", supporter_post_answers(seeker_detail="5"))

    assert second["Location"] == "/done/"
    assert SupporterPostChatSurvey.objects.get(conversation=finished_chat).seeker_detail == 2


def test_it_never_lets_a_worker_of_another_conversation_answer_for_this_one(
    alice_client: Client,
    bob_client: Client,
    carol_client: Client,
    dave_client: Client,
    finished_chat: Conversation,
) -> None:
    other = make_pair(
        finished_chat.run,
        seeker=CAROL,
        supporter=DAVE,
        seeker_client=carol_client,
        supporter_client=dave_client,
    )

    # Carol is still chatting: she cannot reach any post-chat survey, even naming Alice's chat.
    response = carol_client.post(
        "/surveys/post-chat/", {**seeker_post_answers(), "conversation": finished_chat.pk}
    )
    assert response["Location"] == "/chat/room/"
    assert not SeekerPostChatSurvey.objects.exists()

    # Once her own chat has ended, what she sends is stored on her own conversation only.
    say(other, other.seeker, "My sister stopped talking to me.")
    say(other, other.supporter, "I am sorry. When did it start?")
    end(other, other.seeker, "finished")
    carol_client.post(
        "/surveys/post-chat/",
        {**seeker_post_answers(empathy="1"), "conversation": finished_chat.pk},
    )
    assert SeekerPostChatSurvey.objects.get(conversation=other.conversation).empathy == 1
    assert not SeekerPostChatSurvey.objects.filter(conversation=finished_chat).exists()

    # Dave, a supporter, cannot store a seeker's survey through the service either.
    dave = other.supporter
    with pytest.raises(services.SurveyError):
        services.submit_seeker_post_chat(dave, {})
    assert not SeekerPostChatSurvey.objects.filter(conversation=finished_chat).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("final_emotion_intensity", "0", "Choose a number from 1 to 5."),
        ("empathy", "6", "Choose a number from 1 to 5."),
        ("relevance", "", "Choose a number from 1 to 5."),
        ("ended_naturally", "", "Say whether the conversation ended naturally."),
        ("email", "not-an-email", "Enter a valid email address, or leave it empty."),
        ("question2", "x" * 2001, "Please keep your answer under 2000 characters."),
    ],
)
def test_it_validates_the_seeker_answers(
    alice_client: Client, finished_chat: Conversation, field: str, value: str, message: str
) -> None:
    response = alice_client.post("/surveys/post-chat/", seeker_post_answers(**{field: value}))

    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert "They listened well.</textarea>" in body  # the other answers are kept
    assert not SeekerPostChatSurvey.objects.exists()
    assert Worker.objects.get(pk=finished_chat.seeker_id).stage == Worker.Stage.POST_SURVEY


def test_it_accepts_a_seeker_survey_without_email_or_open_answers(
    alice_client: Client, finished_chat: Conversation
) -> None:
    answers = seeker_post_answers(email="", question1="", question2="", ended_naturally="no")
    assert alice_client.post("/surveys/post-chat/", answers).status_code == 302
    survey = SeekerPostChatSurvey.objects.get(conversation=finished_chat)
    assert (survey.email, survey.ended_naturally) == ("", False)


def test_it_validates_the_supporter_answers(
    bob_client: Client, finished_chat: Conversation
) -> None:
    response = bob_client.post("/surveys/post-chat/", supporter_post_answers(seeker_detail="9"))
    assert response.status_code == 400
    assert "Choose a number from 1 to 5." in response.content.decode()
    assert not SupporterPostChatSurvey.objects.exists()


def test_it_brings_a_worker_who_closed_the_tab_back_to_the_survey(
    finished_chat: Conversation,
) -> None:
    # A new session of her browser, the same entry link: routed by stage to the post-chat survey.
    link = {"role": "seeker", "PROLIFIC_PID": ALICE.pid, "STUDY_ID": "study-1", "run": "study"}
    returning = use_device(Client(), device_of(link))
    response = returning.get("/start/", link)
    assert response["Location"] == "/surveys/post-chat/"
    assert returning.get("/surveys/post-chat/").status_code == 200


def test_it_sends_a_worker_with_no_ended_conversation_to_the_status_page(
    alice_client: Client,
) -> None:
    from crowd.services import TaskOutcome, finish_worker

    alice = enter(ALICE, quick_run(), client=alice_client)
    # Sent to the post-chat survey (as an ending would) without any conversation behind it.
    finish_worker(alice, TaskOutcome.LEFT_EARLY, post_survey=True)

    response = alice_client.get("/surveys/post-chat/")

    assert response["Location"] == "/done/"
    assert Worker.objects.get(pk=alice.pk).stage == Worker.Stage.DONE
    assert not SeekerPostChatSurvey.objects.exists()
