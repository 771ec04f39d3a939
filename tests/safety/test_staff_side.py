"""Safety flags on the staff side: the quality job's backstop, approval held back until a
reviewer resolves the flag with a note, and the safety page, dashboard and live list."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Conversation, Utterance
from quality.errors import QualityError
from quality.judging import judge_pending
from quality.models import Flag
from quality.review import claim_for_review, decide_review
from safety import live
from safety.review import SafetyError, resolve_flag
from tests.cast import RITA, account
from tests.quality.factories import make_conversation

pytestmark = pytest.mark.django_db

CRISIS = "I've been saving up my pills for when it gets too much"


def _unscreened_crisis() -> Conversation:
    """A finished conversation that would be approved, whose message 3 was a crisis that no
    live screening read (its process died between the acknowledgement and the screening)."""
    conversation = make_conversation()
    Utterance.objects.filter(conversation=conversation, position=3).update(text=CRISIS)
    conversation.refresh_from_db()
    assert conversation.safety_screened < conversation.last_seq
    return conversation


def test_the_quality_job_screens_what_the_live_screening_missed_and_holds_it_back() -> None:
    conversation = _unscreened_crisis()
    judge_pending()
    conversation.refresh_from_db()
    flags = list(
        Flag.objects.filter(conversation=conversation).values_list("kind", "utterance__position")
    )
    assert flags == [("crisis_suicide_self_harm", 3)]
    assert conversation.quality_status == "review"
    assert conversation.safety_screened == conversation.last_seq


def test_the_backstop_adds_no_second_flag_to_a_message_flagged_live() -> None:
    conversation = _unscreened_crisis()
    screened = live.screen_message(conversation.pk, 3, "seeker", CRISIS)
    assert screened is not None and len(screened.flag_ids) == 1
    assert live.screen_stored([conversation.pk]) == 0
    assert Flag.objects.filter(conversation=conversation).count() == 1


def test_a_conversation_screened_live_is_not_screened_again() -> None:
    conversation = make_conversation()
    Conversation.objects.filter(pk=conversation.pk).update(safety_screened=conversation.last_seq)
    Utterance.objects.filter(conversation=conversation, position=3).update(text=CRISIS)
    judge_pending()
    conversation.refresh_from_db()
    assert conversation.quality_status == "approved"
    assert not Flag.objects.filter(conversation=conversation).exists()


def test_approval_waits_for_the_flag_to_be_resolved_with_a_note() -> None:
    conversation = _unscreened_crisis()
    judge_pending()
    conversation.refresh_from_db()
    rita = account(RITA)
    flag = Flag.objects.get(conversation=conversation)
    claim_for_review(conversation, rita)
    with pytest.raises(QualityError, match="safety flags"):
        decide_review(conversation, rita, "approved", "")
    conversation.refresh_from_db()
    assert conversation.quality_status == "review"

    with pytest.raises(SafetyError, match="at least"):
        resolve_flag(flag.pk, rita, "ok")
    resolved = resolve_flag(flag.pk, rita, "Joined the chat; the seeker is safe and has help.")
    assert resolved.resolved_by == rita and resolved.resolved_at is not None
    assert resolved.resolution_note.startswith("Joined the chat")
    with pytest.raises(SafetyError, match="already resolved"):
        resolve_flag(flag.pk, rita, "A second note that must not replace the first.")

    decide_review(conversation, rita, "approved", "")
    conversation.refresh_from_db()
    assert conversation.quality_status == "approved"


def test_rejecting_leaves_the_safety_flag_open() -> None:
    conversation = _unscreened_crisis()
    judge_pending()
    conversation.refresh_from_db()
    rita = account(RITA)
    claim_for_review(conversation, rita)
    decide_review(conversation, rita, "rejected", "The chat went off topic.")
    flag = Flag.objects.get(conversation=conversation)
    assert flag.resolved_at is None


def test_the_safety_page_lists_and_resolves_flags(rita_client: Client, otto_client: Client) -> None:
    conversation = _unscreened_crisis()
    judge_pending()
    flag = Flag.objects.get(conversation=conversation)
    page = rita_client.get("/safety/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Safety: suicide or self-harm" in body and CRISIS.replace("'", "&#x27;") in body
    assert f'id="flag-{flag.pk}"' in body

    refused = rita_client.post(f"/safety/{flag.pk}/resolve/", {"note": "  "}, follow=True)
    assert "was not resolved" in refused.content.decode()
    flag.refresh_from_db()
    assert flag.resolved_at is None
    done = rita_client.post(
        f"/safety/{flag.pk}/resolve/", {"note": "Wrote to the seeker; she has help."}, follow=True
    )
    assert "is resolved" in done.content.decode()
    flag.refresh_from_db()
    assert flag.resolution_note == "Wrote to the seeker; she has help."
    assert "Wrote to the seeker; she has help." in rita_client.get("/safety/").content.decode()

    assert otto_client.get("/safety/").status_code == 302
    assert otto_client.post(f"/safety/{flag.pk}/resolve/", {"note": "x" * 20}).status_code == 302


def test_the_dashboard_and_the_live_list_show_open_alerts(rita_client: Client) -> None:
    conversation = _unscreened_crisis()
    judge_pending()
    for url in (f"/runs/{conversation.run.name}/dashboard/", "/chat/live/"):
        body = rita_client.get(url).content.decode()
        assert 'data-testid="safety-alerts"' in body, url
        assert f"in conversation #{conversation.pk}" in body, url
        assert f'href="/chat/live/{conversation.pk}/"' in body, url
