"""The reviewers' queue: staff only, claims with expiry, decisions that race cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chat.models import Conversation, Utterance
from quality.judging import judge_pending
from quality.models import Correction, Flag, Review, ReviewClaim
from tests.chat.factories import set_times
from tests.quality.factories import make_conversation

pytestmark = pytest.mark.django_db

# Rita and Vera are the reviewers (rita_client, vera_client); Otto is logged in, not staff.


@pytest.fixture
def in_review() -> Conversation:
    """Fails relevance and empathy (2 of 4 supporter criteria), and the supporter's last line
    copies a tutorial example (flagged by the chat). The seeker rated the last prompt 5."""
    conversation = make_conversation(relevance=3, empathy=2, copies_example=True, feedback=(5,))
    assert Flag.objects.filter(conversation=conversation, kind=Flag.Kind.COPIED_EXAMPLE).exists()
    judge_pending()
    conversation.refresh_from_db()
    assert conversation.quality_status == "review"
    return conversation


def test_it_lists_conversations_needing_review_oldest_first_with_reasons(
    rita_client: Client, in_review: Conversation
) -> None:
    newer = make_conversation(seeker_words=1)
    judge_pending()
    # Both ended just now: the first one is moved back a day.
    set_times(in_review, ended_at=timezone.now() - timedelta(days=1))
    set_times(newer, ended_at=timezone.now())
    make_conversation()  # approved: not in the queue
    judge_pending()

    response = rita_client.get("/quality/review/")
    assert response.status_code == 200
    rows = [row.conversation_id for row in response.context["rows"]]
    assert rows == [in_review.pk, newer.pk]
    first = response.context["rows"][0]
    assert "empathy failed" in first.reasons
    assert "relevance failed" in first.reasons
    assert "flag: Copies a tutorial example" in first.reasons
    assert b"relevance failed" in response.content


def test_it_refuses_outsiders(in_review: Conversation, otto_client: Client) -> None:
    for url in ["/quality/review/", f"/quality/review/{in_review.pk}/", "/quality/releases/"]:
        assert otto_client.get(url).status_code == 302  # to the staff login page
        assert Client().get(url).status_code == 302
    response = otto_client.post(
        f"/quality/review/{in_review.pk}/decide/", {"verdict": "approved", "reason": "x"}
    )
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.quality_status == "review"


def test_the_detail_page_shows_the_whole_conversation_and_surveys(
    rita_client: Client, in_review: Conversation
) -> None:
    assert Utterance.objects.get(conversation=in_review, position=15).feedback == 5
    response = rita_client.get(f"/quality/review/{in_review.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="seeker') == 8 and html.count('class="supporter') == 8
    assert "[Question]" in html
    assert "feedback 5" in html
    assert "Empathy</dt><dd>2" in html
    assert "Seeker's detail (supporter)</dt><dd>4" in html


def test_a_second_reviewer_sees_the_holder_and_cannot_decide(
    rita_client: Client, vera_client: Client, in_review: Conversation
) -> None:
    assert rita_client.post(f"/quality/review/{in_review.pk}/claim/").status_code == 302
    vera_client.post(f"/quality/review/{in_review.pk}/claim/")
    assert ReviewClaim.objects.get(conversation=in_review).reviewer.username == "rita"
    page = vera_client.get(f"/quality/review/{in_review.pk}/").content.decode()
    assert "<strong>rita</strong> is reviewing this conversation" in page
    assert 'name="verdict"' not in page

    response = vera_client.post(
        f"/quality/review/{in_review.pk}/decide/",
        {"verdict": "approved", "reason": ""},
        follow=True,
    )
    assert "claim this conversation first" in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.quality_status == "review"
    assert not Review.objects.exists()


def test_an_expired_claim_passes_to_the_next_reviewer_and_the_first_loses(
    rita_client: Client, vera_client: Client, in_review: Conversation
) -> None:
    rita_client.post(f"/quality/review/{in_review.pk}/claim/")
    ReviewClaim.objects.update(claimed_at=timezone.now() - timedelta(minutes=16))
    vera_client.post(f"/quality/review/{in_review.pk}/claim/")
    assert ReviewClaim.objects.get(conversation=in_review).reviewer.username == "vera"
    rita_client.post(
        f"/quality/review/{in_review.pk}/decide/", {"verdict": "approved", "reason": ""}
    )
    in_review.refresh_from_db()
    assert in_review.quality_status == "review"
    vera_client.post(
        f"/quality/review/{in_review.pk}/decide/", {"verdict": "approved", "reason": ""}
    )
    in_review.refresh_from_db()
    assert in_review.quality_status == "approved"
    assert Review.objects.get().reviewer.username == "vera"


def test_a_decision_on_an_already_decided_conversation_loses_cleanly(
    rita_client: Client, in_review: Conversation
) -> None:
    rita_client.post(f"/quality/review/{in_review.pk}/claim/")
    # Another path (e.g. the admin) decided it meanwhile: the conditional update finds nothing.
    Conversation.objects.filter(pk=in_review.pk).update(quality_status="approved")
    response = rita_client.post(
        f"/quality/review/{in_review.pk}/decide/",
        {"verdict": "rejected", "reason": "too short"},
        follow=True,
    )
    assert "already decided" in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.quality_status == "approved"
    assert not Review.objects.exists()
    assert ReviewClaim.objects.filter(conversation=in_review).exists()  # rolled back


def test_rejecting_needs_a_reason(rita_client: Client, in_review: Conversation) -> None:
    rita_client.post(f"/quality/review/{in_review.pk}/claim/")
    response = rita_client.post(
        f"/quality/review/{in_review.pk}/decide/",
        {"verdict": "rejected", "reason": "  "},
        follow=True,
    )
    assert "a reason is required to reject" in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.quality_status == "review"

    rita_client.post(
        f"/quality/review/{in_review.pk}/decide/",
        {"verdict": "rejected", "reason": "supporter copied the tutorial"},
    )
    in_review.refresh_from_db()
    assert in_review.quality_status == "rejected"
    review = Review.objects.get()
    assert (review.verdict, review.reason) == ("rejected", "supporter copied the tutorial")
    assert not Flag.objects.filter(resolved_at__isnull=True).exists()
    assert not ReviewClaim.objects.exists()


def test_a_reviewer_corrects_a_strategy_and_the_original_is_kept(
    rita_client: Client, in_review: Conversation
) -> None:
    utterance = Utterance.objects.get(conversation=in_review, position=2)
    rita_client.post(f"/quality/review/{in_review.pk}/claim/")
    before = timezone.now()
    response = rita_client.post(
        f"/quality/review/{in_review.pk}/correct-strategy/",
        {
            "utterance": utterance.pk,
            "strategy": "Reflection of feelings",
            "reason": "names feelings",
        },
    )
    assert response.status_code == 302
    utterance.refresh_from_db()
    assert utterance.strategy == "Reflection of feelings"
    correction = Correction.objects.get()
    assert (correction.field, correction.original_value, correction.new_value) == (
        "strategy",
        "Question",
        "Reflection of feelings",
    )
    assert correction.corrected_by.username == "rita"
    assert correction.corrected_at >= before
    page = rita_client.get(f"/quality/review/{in_review.pk}/").content.decode()
    assert '[Reflection of feelings] <span class="muted">was Question</span>' in page


def test_a_reviewer_corrects_the_initial_intensity(
    rita_client: Client, in_review: Conversation
) -> None:
    rita_client.post(f"/quality/review/{in_review.pk}/claim/")
    rita_client.post(f"/quality/review/{in_review.pk}/correct-intensity/", {"value": "2"})
    in_review.refresh_from_db()
    assert in_review.initial_emotion_intensity == 2
    correction = Correction.objects.get()
    assert (correction.original_value, correction.new_value) == ("4", "2")


def test_corrections_are_refused_without_a_claim_or_with_bad_values(
    rita_client: Client, vera_client: Client, in_review: Conversation
) -> None:
    utterance = Utterance.objects.get(conversation=in_review, position=2)
    vera_client.post(
        f"/quality/review/{in_review.pk}/correct-strategy/",
        {"utterance": utterance.pk, "strategy": "Information"},
    )
    rita_client.post(f"/quality/review/{in_review.pk}/claim/")
    rita_client.post(
        f"/quality/review/{in_review.pk}/correct-strategy/",
        {"utterance": utterance.pk, "strategy": "Questions"},  # a legacy label
    )
    response = rita_client.post(
        f"/quality/review/{in_review.pk}/correct-intensity/", {"value": "9"}, follow=True
    )
    assert "between 1 and 5" in response.content.decode()
    seeker_line = Utterance.objects.get(conversation=in_review, position=1)
    rita_client.post(
        f"/quality/review/{in_review.pk}/correct-strategy/",
        {"utterance": seeker_line.pk, "strategy": "Information"},
    )
    utterance.refresh_from_db()
    in_review.refresh_from_db()
    assert utterance.strategy == "Question"
    assert in_review.initial_emotion_intensity == 4
    assert not Correction.objects.exists()
