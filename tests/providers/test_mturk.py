"""MTurkSite against the local MTurk server (tests/providers/mturk_server.py), through boto3."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest

from crowd.providers.base import (
    APPROVED,
    AWAITING_REVIEW,
    REJECTED,
    Bonus,
    CrowdSite,
    ProviderError,
    Submission,
)
from crowd.providers.mturk import MTurkSite, request_token
from tests.providers.mturk_server import FAKE_SECRET_ACCESS_KEY, MTurkServer

HIT = "3HITAAAAAAAAAAAAAAAAAAAAAAAAA1"
QUAL = "3QUALAAAAAAAAAAAAAAAAAAAAAAAA1"
WORKER = "A1WORKERAAAAAA"
ASSIGNMENT = "3ASSIGNAAAAAAAAAAAAAAAAAAAAA1"


def site_for(server: MTurkServer, *, timeout: float = 1.0, retries: int = 3) -> MTurkSite:
    return MTurkSite(
        sandbox=True,
        endpoint_url=server.url,
        region="us-east-1",
        timeout=timeout,
        allow_qualification=QUAL,
        retries=retries,
    )


@pytest.fixture
def site(mturk_server: MTurkServer) -> MTurkSite:
    return site_for(mturk_server)


@pytest.fixture
def submitted(mturk_server: MTurkServer) -> Submission:
    mturk_server.add_assignment(HIT, ASSIGNMENT, WORKER)
    return Submission(id=ASSIGNMENT, worker_id=WORKER, state=AWAITING_REVIEW)


def bonus(amount: str = "1.50") -> Bonus:
    return Bonus(submission_id=ASSIGNMENT, worker_id=WORKER, amount=Decimal(amount))


def test_it_is_a_crowd_site(site: MTurkSite) -> None:
    crowd_site: CrowdSite = site
    assert crowd_site.name == "mturk"
    assert "Secret" not in repr(site)


def test_requests_are_mturks_json_protocol_signed(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    site.approve(submitted)
    [request] = [r for r in mturk_server.requests if r.operation == "ApproveAssignment"]
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["x-amz-target"] == "MTurkRequesterServiceV20170117.ApproveAssignment"
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIAFAKE")
    assert "/us-east-1/mturk-requester/aws4_request" in headers["authorization"]


def test_the_server_refuses_an_unsigned_request(mturk_server: MTurkServer) -> None:
    request = urllib.request.Request(
        mturk_server.url + "/",
        data=json.dumps({"HITId": HIT}).encode(),
        headers={
            "X-Amz-Target": "MTurkRequesterServiceV20170117.GetHIT",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400


def test_submissions_follow_next_token_and_map_states(
    site: MTurkSite, mturk_server: MTurkServer
) -> None:
    mturk_server.page_size = 2
    statuses = ["Submitted", "Approved", "Rejected", "Submitted", "Approved"]
    for i, status in enumerate(statuses):
        mturk_server.add_assignment(HIT, f"3ASSIGN{i}", f"A1WORKER{i}", status)
    # Never listed by MTurk: being worked on, returned, abandoned.
    mturk_server.add_assignment(HIT, "3ASSIGNACCEPTED", "A1WORKERX", "Accepted")
    mturk_server.add_assignment(HIT, "3ASSIGNRETURNED", "A1WORKERY", "Returned")

    subs = site.submissions(HIT)

    assert sorted((s.id, s.worker_id, s.state) for s in subs) == [
        ("3ASSIGN0", "A1WORKER0", AWAITING_REVIEW),
        ("3ASSIGN1", "A1WORKER1", APPROVED),
        ("3ASSIGN2", "A1WORKER2", REJECTED),
        ("3ASSIGN3", "A1WORKER3", AWAITING_REVIEW),
        ("3ASSIGN4", "A1WORKER4", APPROVED),
    ]
    calls = mturk_server.calls("ListAssignmentsForHIT")
    assert len(calls) >= 3
    assert "NextToken" not in calls[0]
    assert [c.get("NextToken") for c in calls[1:3]] == ["page-2", "page-4"]
    assert all(set(c["AssignmentStatuses"]) == {"Submitted", "Approved", "Rejected"} for c in calls)
    counts = site.hit_counts(HIT)
    assert (counts.pending, counts.completed) == (1, 5)


def test_approve_then_approve_again(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    site.approve(submitted)
    assert mturk_server.status(ASSIGNMENT) == "Approved"
    site.approve(submitted)  # MTurk refuses the second one: still a success
    assert len(mturk_server.calls("ApproveAssignment")) == 2
    assert mturk_server.status(ASSIGNMENT) == "Approved"


def test_approving_a_rejected_one_unknowingly_fails(
    site: MTurkSite, mturk_server: MTurkServer
) -> None:
    mturk_server.add_assignment(HIT, ASSIGNMENT, WORKER, "Rejected")
    with pytest.raises(ProviderError) as caught:
        site.approve(Submission(ASSIGNMENT, WORKER, AWAITING_REVIEW))
    assert "status of: Submitted" in str(caught.value)
    assert not caught.value.retryable
    site.approve(Submission(ASSIGNMENT, WORKER, REJECTED))  # the platform overrides it
    assert mturk_server.status(ASSIGNMENT) == "Approved"
    assert mturk_server.calls("ApproveAssignment")[-1]["OverrideRejection"] is True


def test_reject_with_feedback(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    site.reject(submitted, message="The conversation was left half-way.", category="LOW_EFFORT")
    assert mturk_server.status(ASSIGNMENT) == "Rejected"
    assert mturk_server.assignments[ASSIGNMENT].feedback == "The conversation was left half-way."
    assert "category" not in json.dumps(mturk_server.calls("RejectAssignment")).lower()
    site.reject(submitted, message="again", category="LOW_EFFORT")  # already rejected: fine
    assert mturk_server.assignments[ASSIGNMENT].feedback == "The conversation was left half-way."


def test_bonus_paid_once_for_one_key(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    assert not site.bonus_paid(HIT, bonus(), key="bonus-1")
    assert site.pay_bonus(HIT, bonus(), key="bonus-1") == "bonus-1"
    assert site.pay_bonus(HIT, bonus(), key="bonus-1") == "bonus-1"  # the ledger's retry
    assert mturk_server.bonuses(WORKER) == [Decimal("1.50")]
    [first, second] = mturk_server.calls("SendBonus")
    assert first["UniqueRequestToken"] == second["UniqueRequestToken"] == "bonus-1"
    assert first["BonusAmount"] == "1.50"
    assert first["AssignmentId"] == ASSIGNMENT and first["WorkerId"] == WORKER
    assert site.bonus_paid(HIT, bonus(), key="bonus-1")


def test_bonus_with_two_keys_is_paid_twice(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    site.pay_bonus(HIT, bonus("2"), key="bonus-1")
    site.pay_bonus(HIT, bonus("2"), key="bonus-2")
    assert mturk_server.bonuses(WORKER) == [Decimal("2.00"), Decimal("2.00")]
    assert mturk_server.calls("SendBonus")[0]["BonusAmount"] == "2.00"


def test_a_long_key_becomes_a_stable_64_character_token(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    key = "bonus:" + "x" * 100
    site.pay_bonus(HIT, bonus(), key=key)
    site.pay_bonus(HIT, bonus(), key=key)
    tokens = {c["UniqueRequestToken"] for c in mturk_server.calls("SendBonus")}
    assert tokens == {request_token(key)} and len(request_token(key)) == 64
    assert mturk_server.bonuses(WORKER) == [Decimal("1.50")]


def test_an_amount_with_a_fraction_of_a_cent_is_refused(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    with pytest.raises(ProviderError):
        site.pay_bonus(HIT, bonus("1.505"), key="bonus-1")
    assert mturk_server.calls("SendBonus") == []


def test_bonus_paid_compares_the_amount(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    site.pay_bonus(HIT, bonus("1.50"), key="bonus-1")
    assert not site.bonus_paid(HIT, bonus("1.60"), key="bonus-1")
    assert not site.bonus_paid(HIT, bonus("1.50"), key="another-key")
    assert mturk_server.calls("ListBonusPayments")[0] == {
        "AssignmentId": ASSIGNMENT,
        "MaxResults": 100,
    }


def test_after_24_hours_the_token_is_forgotten_but_bonus_paid_is_not(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    site.pay_bonus(HIT, bonus(), key="bonus-1")
    mturk_server.advance(25 * 3600)
    assert site.bonus_paid(HIT, bonus(), key="bonus-1")  # what the ledger asks before paying


def test_two_5xx_then_success_pays_once(
    site: MTurkSite, mturk_server: MTurkServer, submitted: Submission
) -> None:
    mturk_server.fail("SendBonus", 2)
    site.pay_bonus(HIT, bonus(), key="bonus-1")
    assert len(mturk_server.calls("SendBonus")) == 3
    assert mturk_server.bonuses(WORKER) == [Decimal("1.50")]


def test_5xx_beyond_the_retries_is_retryable(
    mturk_server: MTurkServer, submitted: Submission
) -> None:
    site = site_for(mturk_server, retries=2)
    mturk_server.fail("ApproveAssignment", 5, status=503)
    with pytest.raises(ProviderError) as caught:
        site.approve(submitted)
    assert caught.value.retryable and not caught.value.uncertain
    assert len(mturk_server.calls("ApproveAssignment")) == 3  # the first and two retries
    assert mturk_server.status(ASSIGNMENT) == "Submitted"


def test_read_timeout_on_send_bonus_is_uncertain(
    mturk_server: MTurkServer, submitted: Submission
) -> None:
    site = site_for(mturk_server, timeout=0.5, retries=1)
    mturk_server.hang("SendBonus", 3.0, times=2)  # the first attempt and botocore's retry
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        site.pay_bonus(HIT, bonus(), key="bonus-1")
    assert caught.value.uncertain and not caught.value.retryable
    assert time.monotonic() - started < 3
    assert site.bonus_paid(HIT, bonus(), key="bonus-1")  # the ledger reads it back
    site.pay_bonus(HIT, bonus(), key="bonus-1")  # and a retry with the same key
    assert mturk_server.bonuses(WORKER) == [Decimal("1.50")]


def test_a_timeout_botocore_retries_is_answered_by_the_token(
    mturk_server: MTurkServer, submitted: Submission
) -> None:
    site = site_for(mturk_server, timeout=0.5, retries=1)
    mturk_server.hang("SendBonus", 3.0, times=1)
    assert site.pay_bonus(HIT, bonus(), key="bonus-1") == "bonus-1"
    assert len(mturk_server.calls("SendBonus")) == 2
    assert mturk_server.bonuses(WORKER) == [Decimal("1.50")]


def test_cut_after_send_bonus_is_uncertain_and_paid(
    mturk_server: MTurkServer, submitted: Submission
) -> None:
    site = site_for(mturk_server, retries=1)
    mturk_server.cut_after("SendBonus", times=2)
    with pytest.raises(ProviderError) as caught:
        site.pay_bonus(HIT, bonus(), key="bonus-1")
    assert caught.value.uncertain
    assert site.bonus_paid(HIT, bonus(), key="bonus-1")
    site.pay_bonus(HIT, bonus(), key="bonus-1")
    assert mturk_server.bonuses(WORKER) == [Decimal("1.50")]


def test_a_request_error_is_final_with_mturks_message_and_no_secret(
    site: MTurkSite, mturk_server: MTurkServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore's own debug lines too
    unknown = Submission("3NOSUCHASSIGNMENT", WORKER, AWAITING_REVIEW)
    with pytest.raises(ProviderError) as caught:
        site.approve(unknown)
    error = caught.value
    assert not error.retryable and not error.uncertain
    assert "Assignment 3NOSUCHASSIGNMENT does not exist" in str(error)
    assert "RequestError" in str(error)
    assert len(mturk_server.calls("ApproveAssignment")) == 1  # not retried
    with pytest.raises(ProviderError) as bonus_error:
        site.pay_bonus(HIT, Bonus("3NOSUCHASSIGNMENT", WORKER, Decimal("1")), key="k")
    assert "does not exist" in str(bonus_error.value)
    for text in (str(error), repr(error), str(bonus_error.value), caplog.text, repr(site)):
        assert FAKE_SECRET_ACCESS_KEY not in text
    assert "MTurk ApproveAssignment refused" in caplog.text


def test_no_credentials_is_a_final_error(
    mturk_server: MTurkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ProviderError) as caught:
        site_for(mturk_server).submissions(HIT)
    assert "no AWS credentials" in str(caught.value) and not caught.value.retryable
    assert mturk_server.requests == []


def test_block_and_unblock(site: MTurkSite, mturk_server: MTurkServer) -> None:
    site.block(WORKER, reason="Abusive messages in a conversation.")
    assert mturk_server.blocks == {WORKER: "Abusive messages in a conversation."}
    site.unblock(WORKER)
    assert mturk_server.blocks == {}
    assert mturk_server.calls("DeleteWorkerBlock") == [{"WorkerId": WORKER}]


def test_allow_and_disallow(site: MTurkSite, mturk_server: MTurkServer) -> None:
    other = "3OTHERQUALAAAAAAAAAAAAAAAAAAA1"
    mturk_server.add_qualification_type(QUAL)
    mturk_server.add_qualification_type(other)
    site.allow(WORKER, group="")
    site.allow(WORKER, group=other)
    assert mturk_server.scores == {(QUAL, WORKER): 1, (other, WORKER): 1}
    assert mturk_server.calls("AssociateQualificationWithWorker")[0] == {
        "QualificationTypeId": QUAL,
        "WorkerId": WORKER,
        "IntegerValue": 1,
        "SendNotification": False,
    }
    site.disallow(WORKER, group=other)
    assert mturk_server.scores == {(QUAL, WORKER): 1}
    with pytest.raises(ProviderError) as caught:
        site.allow(WORKER, group="3NOSUCHQUALAAAAAAAAAAAAAAAAAA1")
    assert "does not exist" in str(caught.value)


def test_message(site: MTurkSite, mturk_server: MTurkServer) -> None:
    site.message(WORKER, subject="Your bonus", body="Thank you for your support.", study=HIT)
    assert mturk_server.notifications == [
        {"Subject": "Your bonus", "MessageText": "Thank you for your support.", "To": [WORKER]}
    ]
    mturk_server.undeliverable.add(WORKER)
    with pytest.raises(ProviderError) as caught:
        site.message(WORKER, subject="Again", body="Hello", study=HIT)
    assert "HardFailure" in str(caught.value) and not caught.value.retryable
