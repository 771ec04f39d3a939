"""The reviewers' queue: staff only, claims with expiry, decisions that race cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from chat.models import Conversation, Utterance
from quality.judging import judge_pending
from quality.models import Correction, Flag, Review, ReviewClaim
from tests.quality.factories import make_conversation, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> Client:
    client = Client()
    client.force_login(make_staff("alice"))
    return client


@pytest.fixture
def bob() -> Client:
    client = Client()
    client.force_login(make_staff("bob"))
    return client


@pytest.fixture
def in_review() -> Conversation:
    """Fails relevance and empathy (2 of 4 supporter criteria) and copies a tutorial example."""
    conversation = make_conversation(relevance=3, empathy=2)
    Flag.objects.create(conversation=conversation, kind=Flag.Kind.COPIED_EXAMPLE)
    judge_pending()
    conversation.refresh_from_db()
    assert conversation.quality_status == "review"
    return conversation


def test_it_lists_conversations_needing_review_oldest_first_with_reasons(
    alice: Client, in_review: Conversation
) -> None:
    newer = make_conversation(seeker_words=1)
    judge_pending()
    Conversation.objects.filter(pk=in_review.pk).update(ended_at=timezone.now() - timedelta(days=1))
    Conversation.objects.filter(pk=newer.pk).update(ended_at=timezone.now())
    make_conversation()  # approved: not in the queue
    judge_pending()

    response = alice.get("/quality/review/")
    assert response.status_code == 200
    rows = [row.conversation_id for row in response.context["rows"]]
    assert rows == [in_review.pk, newer.pk]
    first = response.context["rows"][0]
    assert "empathy failed" in first.reasons
    assert "relevance failed" in first.reasons
    assert "flag: Copies a tutorial example" in first.reasons
    assert b"relevance failed" in response.content


def test_it_refuses_outsiders(in_review: Conversation) -> None:
    charlie = Client()
    charlie.force_login(User.objects.create_user("charlie", password="pw"))
    for url in ["/quality/review/", f"/quality/review/{in_review.pk}/", "/quality/releases/"]:
        assert charlie.get(url).status_code == 302  # to the staff login page
        assert Client().get(url).status_code == 302
    response = charlie.post(
        f"/quality/review/{in_review.pk}/decide/", {"verdict": "approved", "reason": "x"}
    )
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.quality_status == "review"


def test_the_detail_page_shows_the_whole_conversation_and_surveys(
    alice: Client, in_review: Conversation
) -> None:
    Utterance.objects.filter(conversation=in_review, position=14).update(feedback=5)
    response = alice.get(f"/quality/review/{in_review.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="seeker') == 8 and html.count('class="supporter') == 8
    assert "[Question]" in html
    assert "feedback 5" in html
    assert "Empathy</dt><dd>2" in html
    assert "Seeker's detail (supporter)</dt><dd>4" in html


def test_a_second_reviewer_sees_the_holder_and_cannot_decide(
    alice: Client, bob: Client, in_review: Conversation
) -> None:
    assert alice.post(f"/quality/review/{in_review.pk}/claim/").status_code == 302
    bob.post(f"/quality/review/{in_review.pk}/claim/")
    assert ReviewClaim.objects.get(conversation=in_review).reviewer.username == "alice"
    page = bob.get(f"/quality/review/{in_review.pk}/").content.decode()
    assert "<strong>alice</strong> is reviewing this conversation" in page
    assert 'name="verdict"' not in page

    response = bob.post(
        f"/quality/review/{in_review.pk}/decide/",
        {"verdict": "approved", "reason": ""},
        follow=True,
    )
    assert "claim this conversation first" in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.quality_status == "review"
    assert not Review.objects.exists()


def test_an_expired_claim_passes_to_the_next_reviewer_and_the_first_loses(
    alice: Client, bob: Client, in_review: Conversation
) -> None:
    alice.post(f"/quality/review/{in_review.pk}/claim/")
    ReviewClaim.objects.update(claimed_at=timezone.now() - timedelta(minutes=16))
    bob.post(f"/quality/review/{in_review.pk}/claim/")
    assert ReviewClaim.objects.get(conversation=in_review).reviewer.username == "bob"
    alice.post(f"/quality/review/{in_review.pk}/decide/", {"verdict": "approved", "reason": ""})
    in_review.refresh_from_db()
    assert in_review.quality_status == "review"
    bob.post(f"/quality/review/{in_review.pk}/decide/", {"verdict": "approved", "reason": ""})
    in_review.refresh_from_db()
    assert in_review.quality_status == "approved"
    assert Review.objects.get().reviewer.username == "bob"


def test_a_decision_on_an_already_decided_conversation_loses_cleanly(
    alice: Client, in_review: Conversation
) -> None:
    alice.post(f"/quality/review/{in_review.pk}/claim/")
    # Another path (e.g. the admin) decided it meanwhile: the conditional update finds nothing.
    Conversation.objects.filter(pk=in_review.pk).update(quality_status="approved")
    response = alice.post(
        f"/quality/review/{in_review.pk}/decide/",
        {"verdict": "rejected", "reason": "too short"},
        follow=True,
    )
    assert "already decided" in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.quality_status == "approved"
    assert not Review.objects.exists()
    assert ReviewClaim.objects.filter(conversation=in_review).exists()  # rolled back


def test_rejecting_needs_a_reason(alice: Client, in_review: Conversation) -> None:
    alice.post(f"/quality/review/{in_review.pk}/claim/")
    response = alice.post(
        f"/quality/review/{in_review.pk}/decide/",
        {"verdict": "rejected", "reason": "  "},
        follow=True,
    )
    assert "a reason is required to reject" in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.quality_status == "review"

    alice.post(
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
    alice: Client, in_review: Conversation
) -> None:
    utterance = Utterance.objects.get(conversation=in_review, position=1)
    alice.post(f"/quality/review/{in_review.pk}/claim/")
    before = timezone.now()
    response = alice.post(
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
    assert correction.corrected_by.username == "alice"
    assert correction.corrected_at >= before
    page = alice.get(f"/quality/review/{in_review.pk}/").content.decode()
    assert '[Reflection of feelings] <span class="muted">was Question</span>' in page


def test_a_reviewer_corrects_the_initial_intensity(alice: Client, in_review: Conversation) -> None:
    alice.post(f"/quality/review/{in_review.pk}/claim/")
    alice.post(f"/quality/review/{in_review.pk}/correct-intensity/", {"value": "2"})
    in_review.refresh_from_db()
    assert in_review.initial_emotion_intensity == 2
    correction = Correction.objects.get()
    assert (correction.original_value, correction.new_value) == ("4", "2")


def test_corrections_are_refused_without_a_claim_or_with_bad_values(
    alice: Client, bob: Client, in_review: Conversation
) -> None:
    utterance = Utterance.objects.get(conversation=in_review, position=1)
    bob.post(
        f"/quality/review/{in_review.pk}/correct-strategy/",
        {"utterance": utterance.pk, "strategy": "Information"},
    )
    alice.post(f"/quality/review/{in_review.pk}/claim/")
    alice.post(
        f"/quality/review/{in_review.pk}/correct-strategy/",
        {"utterance": utterance.pk, "strategy": "Questions"},  # a legacy label
    )
    response = alice.post(
        f"/quality/review/{in_review.pk}/correct-intensity/", {"value": "9"}, follow=True
    )
    assert "between 1 and 5" in response.content.decode()
    seeker_line = Utterance.objects.get(conversation=in_review, position=0)
    alice.post(
        f"/quality/review/{in_review.pk}/correct-strategy/",
        {"utterance": seeker_line.pk, "strategy": "Information"},
    )
    utterance.refresh_from_db()
    in_review.refresh_from_db()
    assert utterance.strategy == "Question"
    assert in_review.initial_emotion_intensity == 4
    assert not Correction.objects.exists()
