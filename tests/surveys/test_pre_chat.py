"""The seeker's pre-chat survey: validation, one submission, the way to the waiting room."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from crowd.models import Worker
from surveys.models import PreChatSurvey
from tests.cast import ALICE, BOB
from tests.crowd.factories import enter, quick_run
from tests.surveys.factories import fill_pre_chat, situation

pytestmark = pytest.mark.django_db


def test_it_stores_the_survey_and_sends_the_seeker_to_the_waiting_room(
    alice_client: Client,
) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)
    assert alice_client.get("/surveys/pre-chat/").status_code == 200

    response = fill_pre_chat(alice_client, situation="  " + situation(25) + "\n")

    assert response.status_code == 302
    assert response["Location"] == "/chat/waiting/"
    survey = PreChatSurvey.objects.get(worker=alice)
    assert (survey.problem_type, survey.emotion_type) == ("job crisis", "anxiety")
    assert survey.initial_emotion_intensity == 4
    assert survey.situation == situation(25)
    assert survey.experience_type == "Current Experience"
    assert survey.run == run
    alice.refresh_from_db()
    assert alice.stage == Worker.Stage.WAITING
    assert alice.waiting_since is not None


@pytest.mark.parametrize(
    ("words", "accepted", "message"),
    [
        (19, False, "Please write at least 20 words (you wrote 19)."),
        (20, True, ""),
        (80, True, ""),
        (81, False, "Please keep it to at most 80 words (you wrote 81)."),
    ],
)
def test_it_counts_the_situation_words_at_the_limits(
    alice_client: Client, words: int, accepted: bool, message: str
) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)

    response = fill_pre_chat(alice_client, situation=situation(words))

    assert PreChatSurvey.objects.filter(worker=alice).exists() is accepted
    if accepted:
        assert response.status_code == 302
    else:
        assert response.status_code == 400
        assert message in response.content.decode()


def test_it_uses_the_run_word_limits(alice_client: Client) -> None:
    run = quick_run(situation_min_words=5, situation_max_words=10)
    alice = enter(ALICE, run, client=alice_client)

    assert fill_pre_chat(alice_client, situation=situation(11)).status_code == 400
    assert fill_pre_chat(alice_client, situation=situation(5)).status_code == 302
    assert PreChatSurvey.objects.get(worker=alice).situation == situation(5)


@pytest.mark.parametrize("intensity", ["0", "6", "", "three"])
def test_it_refuses_an_intensity_outside_1_to_5(alice_client: Client, intensity: str) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)

    response = fill_pre_chat(alice_client, initial_emotion_intensity=intensity)

    assert response.status_code == 400
    assert "from 1 to 5" in response.content.decode()
    assert not PreChatSurvey.objects.filter(worker=alice).exists()


def test_it_refuses_an_option_not_in_the_run(alice_client: Client) -> None:
    # "Sleep Problems" is in the released dataset but not in the default five.
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)

    response = fill_pre_chat(alice_client, problem_type="Sleep Problems", emotion_type="guilt")

    body = response.content.decode()
    assert response.status_code == 400
    assert "Choose one of the listed problems." in body
    assert "Choose one of the listed emotions." in body
    assert not PreChatSurvey.objects.filter(worker=alice).exists()


def test_it_offers_the_options_the_run_configures(alice_client: Client) -> None:
    run = quick_run(problem_options=["Sleep Problems", "job crisis"], emotion_options=["guilt"])
    alice = enter(ALICE, run, client=alice_client)
    page = alice_client.get("/surveys/pre-chat/").content.decode()
    assert 'value="Sleep Problems"' in page
    assert 'value="academic pressure"' not in page

    assert fill_pre_chat(alice_client, problem_type="academic pressure").status_code == 400
    response = fill_pre_chat(alice_client, problem_type="Sleep Problems", emotion_type="guilt")

    assert response.status_code == 302
    assert PreChatSurvey.objects.get(worker=alice).problem_type == "Sleep Problems"


def test_it_refuses_an_unknown_experience_origin(alice_client: Client) -> None:
    run = quick_run()
    enter(ALICE, run, client=alice_client)
    response = fill_pre_chat(alice_client, experience_type="Future Experience")
    assert response.status_code == 400
    assert "Choose one of the listed answers." in response.content.decode()


def test_it_keeps_the_answers_and_links_the_errors_when_one_is_wrong(alice_client: Client) -> None:
    run = quick_run()
    enter(ALICE, run, client=alice_client)

    response = fill_pre_chat(alice_client, situation="Too short to count.", emotion_type="anger")

    body = response.content.decode()
    assert response.status_code == 400
    assert "Too short to count.</textarea>" in body
    assert re.search(r'value="anger"[^>]*\bchecked', body)
    assert not re.search(r'value="fear"[^>]*\bchecked', body)
    assert re.search(r'value="job crisis"[^>]*\bchecked', body)
    assert 'id="id_situation-error"' in body
    assert 'aria-describedby="id_situation-help id_situation-count id_situation-error"' in body
    assert 'href="#id_situation-group"' in body


def test_it_stores_one_survey_when_the_form_is_sent_twice(alice_client: Client) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)

    first = fill_pre_chat(alice_client, problem_type="job crisis")
    second = fill_pre_chat(alice_client, problem_type="academic pressure")

    assert first.status_code == second.status_code == 302
    assert second["Location"] == "/chat/waiting/"
    assert PreChatSurvey.objects.filter(worker=alice).count() == 1
    assert PreChatSurvey.objects.get(worker=alice).problem_type == "job crisis"


def test_it_sends_a_supporter_and_a_seeker_at_another_stage_to_their_own_page(
    alice_client: Client, bob_client: Client
) -> None:
    run = quick_run()
    enter(ALICE, run, client=alice_client, consent=False)
    bob = enter(BOB, run, client=bob_client)

    assert alice_client.get("/surveys/pre-chat/")["Location"] == "/consent/"
    response = fill_pre_chat(bob_client)
    assert response.status_code == 302
    assert response["Location"] == "/tutorial/"
    assert not PreChatSurvey.objects.filter(worker=bob).exists()


def test_it_refuses_a_browser_without_a_worker() -> None:
    quick_run()
    response = Client().post("/surveys/pre-chat/", {"problem_type": "job crisis"})
    assert response.status_code == 403
    assert not PreChatSurvey.objects.exists()


@pytest.mark.parametrize(
    ("text", "counted"),
    [
        ("\u200b " * 30, 0),  # thirty zero-width spaces are no words
        (situation(19) + " \u2060 \ufeff \u200c \u200d \u3164", 19),
        (situation(19) + " \u034f\ufe0f \u2800", 19),  # a lone joiner mark, a blank pattern
    ],
)
def test_it_does_not_count_invisible_words(alice_client: Client, text: str, counted: int) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)

    response = fill_pre_chat(alice_client, situation=text)

    assert response.status_code == 400
    assert f"(you wrote {counted})" in response.content.decode()
    assert not PreChatSurvey.objects.filter(worker=alice).exists()


@pytest.mark.parametrize("bad", ["\x07", "\x1b[31m", "\x00"])
def test_it_refuses_control_characters_and_keeps_nothing(alice_client: Client, bad: str) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)

    response = fill_pre_chat(alice_client, situation=situation(25) + bad)

    assert response.status_code == 400
    assert not PreChatSurvey.objects.filter(worker=alice).exists()


def test_it_stores_browser_line_ends_as_newlines(alice_client: Client) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)
    text = situation(10) + "\r\n" + situation(15)

    assert fill_pre_chat(alice_client, situation=text).status_code == 302

    assert PreChatSurvey.objects.get(worker=alice).situation == text.replace("\r\n", "\n")
