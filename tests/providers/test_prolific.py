"""ProlificSite against the local Prolific stand-in (tests/providers/prolific_server.py)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from crowd.providers.base import (
    ACTIVE,
    APPROVED,
    AWAITING_REVIEW,
    REJECTED,
    RETURNED,
    TIMED_OUT,
    Bonus,
    ProviderError,
    Submission,
)
from crowd.providers.prolific import ProlificSite
from tests.providers.prolific_server import ProlificServer

STUDY = "study-1"
LONG_MESSAGE = (
    "Your answers were submitted in under a minute and none of the three attention checks "
    "was passed, so we cannot use them."
)
assert len(LONG_MESSAGE) >= 100

MakeSite = Callable[..., ProlificSite]


class Waits(list[float]):
    """What the client would have slept between attempts (it does not, in tests)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def make_site(prolific_server: ProlificServer) -> Iterator[MakeSite]:
    sites: list[ProlificSite] = []

    def make(**kwargs: Any) -> ProlificSite:
        kwargs.setdefault("base_url", prolific_server.url)
        kwargs.setdefault("token", prolific_server.token)
        kwargs.setdefault("timeout", 2.0)
        kwargs.setdefault("retries", 3)
        kwargs.setdefault("backoff", 0.01)
        site = ProlificSite(**kwargs)
        site.sleep = Waits()
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


def waits(site: ProlificSite) -> list[float]:
    assert isinstance(site.sleep, Waits)
    return list(site.sleep)


def submission(server: ProlificServer, participant: str = "w1") -> Submission:
    sub_id = server.add_submission(STUDY, participant)
    return Submission(id=sub_id, worker_id=participant, state=AWAITING_REVIEW)


def bonus_for(sub: Submission, amount: str = "1.50") -> Bonus:
    return Bonus(submission_id=sub.id, worker_id=sub.worker_id, amount=Decimal(amount))


def transition_path(sub: Submission) -> str:
    return f"submissions/{sub.id}/transition/"


# --- submissions ---------------------------------------------------------------------------


def test_submissions_lists_every_page_with_mapped_states(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    prolific_server.max_page_size = 2
    expected = {}
    for n, (status, state) in enumerate(
        [
            ("RESERVED", ACTIVE),
            ("ACTIVE", ACTIVE),
            ("AWAITING REVIEW", AWAITING_REVIEW),
            ("APPROVED", APPROVED),
            ("REJECTED", REJECTED),
            ("RETURNED", RETURNED),
            ("TIMED-OUT", TIMED_OUT),
        ]
    ):
        sub_id = prolific_server.add_submission(STUDY, f"w{n}", status)
        expected[sub_id] = (f"w{n}", state)
    prolific_server.add_submission("other-study", "stranger")

    found = make_site().submissions(STUDY)

    assert {s.id: (s.worker_id, s.state) for s in found} == expected
    assert len(found) == 7
    assert len(prolific_server.calls("GET", "submissions/")) == 4  # 2 + 2 + 2 + 1


def test_submissions_refuses_an_unknown_status(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    prolific_server.add_submission(STUDY, "w1", "SOMETHING NEW")
    with pytest.raises(ProviderError, match="unknown status"):
        make_site().submissions(STUDY)


# --- approve and reject --------------------------------------------------------------------


def test_approve(prolific_server: ProlificServer, make_site: MakeSite) -> None:
    sub = submission(prolific_server)
    site = make_site()

    site.approve(sub)
    site.approve(sub)  # approving an approved submission succeeds

    assert prolific_server.status(sub.id) == "APPROVED"
    assert [r.body for r in prolific_server.calls("POST", transition_path(sub))] == [
        {"action": "APPROVE"},
        {"action": "APPROVE"},
    ]


def test_a_refused_transition_is_not_retried_and_says_why(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub_id = prolific_server.add_submission(STUDY, "w1", "REJECTED")
    sub = Submission(id=sub_id, worker_id="w1", state=REJECTED)

    with pytest.raises(ProviderError) as caught:
        make_site().approve(sub)

    assert not caught.value.retryable and not caught.value.uncertain
    assert "Cannot APPROVE a submission in status REJECTED" in str(caught.value)
    assert len(prolific_server.calls("POST", transition_path(sub))) == 1


@pytest.mark.parametrize(
    ("message", "category", "why"),
    [
        (LONG_MESSAGE[:99], "FAILED_CHECK", "at least 100"),
        ("  " + LONG_MESSAGE[:98] + "   ", "FAILED_CHECK", "at least 100"),
        (LONG_MESSAGE, "FAILED_ATTENTION", "not a Prolific rejection category"),
        (LONG_MESSAGE, "failed_check", "not a Prolific rejection category"),
    ],
)
def test_reject_is_refused_locally(
    prolific_server: ProlificServer, make_site: MakeSite, message: str, category: str, why: str
) -> None:
    sub = submission(prolific_server)

    with pytest.raises(ProviderError, match=why) as caught:
        make_site().reject(sub, message=message, category=category)

    assert not caught.value.retryable
    assert prolific_server.requests == []
    assert prolific_server.status(sub.id) == "AWAITING REVIEW"


def test_reject_with_100_characters(prolific_server: ProlificServer, make_site: MakeSite) -> None:
    sub = submission(prolific_server)
    message = LONG_MESSAGE[:99] + "."

    make_site().reject(sub, message=message, category="LOW_EFFORT")

    assert prolific_server.status(sub.id) == "REJECTED"
    [call] = prolific_server.calls("POST", transition_path(sub))
    assert call.body == {"action": "REJECT", "message": message, "rejection_category": "LOW_EFFORT"}


# --- retries -------------------------------------------------------------------------------


def test_5xx_twice_then_success_is_retried_with_backoff(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub = submission(prolific_server)
    prolific_server.fail_next(transition_path(sub), 1, 500)
    prolific_server.fail_next(transition_path(sub), 1, 503)
    site = make_site(backoff=0.25)

    site.approve(sub)

    assert prolific_server.status(sub.id) == "APPROVED"
    assert len(prolific_server.calls("POST", transition_path(sub))) == 3
    assert waits(site) == [0.25, 0.5]


def test_5xx_until_retries_run_out_is_retryable(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub = submission(prolific_server)
    prolific_server.fail_next(transition_path(sub), 5, 503)
    site = make_site(retries=3)

    with pytest.raises(ProviderError) as caught:
        site.approve(sub)

    assert caught.value.retryable and not caught.value.uncertain
    assert "HTTP 503" in str(caught.value)
    assert len(prolific_server.calls("POST", transition_path(sub))) == 4
    assert prolific_server.status(sub.id) == "AWAITING REVIEW"


def test_429_on_pay_is_retried_and_pays_once(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub = submission(prolific_server)
    site = make_site()
    payment_id = site.create_bonus(STUDY, bonus_for(sub))
    pay = f"bulk-bonus-payments/{payment_id}/pay/"
    prolific_server.fail_next(pay, 2, 429)

    site.pay_created_bonus(payment_id)

    assert len(prolific_server.calls("POST", pay)) == 3
    assert prolific_server.bonuses_paid("w1") == [Decimal("1.50")]
    assert len(waits(site)) == 2


def test_5xx_on_pay_is_uncertain_and_not_retried(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub = submission(prolific_server)
    site = make_site()
    payment_id = site.create_bonus(STUDY, bonus_for(sub))
    pay = f"bulk-bonus-payments/{payment_id}/pay/"
    prolific_server.fail_next(pay, 1, 500)

    with pytest.raises(ProviderError) as caught:
        site.pay_created_bonus(payment_id)

    assert caught.value.uncertain and not caught.value.retryable
    assert len(prolific_server.calls("POST", pay)) == 1
    assert site.bonus_paid(STUDY, bonus_for(sub), key="k1") is False


def test_connection_refused_is_retryable_after_retries(make_site: MakeSite) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = make_site(base_url=f"http://127.0.0.1:{port}/api/v1/", token="unused-token", retries=2)

    with pytest.raises(ProviderError) as caught:
        site.submissions(STUDY)

    assert caught.value.retryable and not caught.value.uncertain
    assert "could not connect" in str(caught.value)
    assert caught.value.__context__ is None  # httpx's error, holding the request, stays behind
    assert waits(site) == [0.01, 0.02]


# --- bonuses -------------------------------------------------------------------------------


def test_pay_bonus_sets_up_one_bulk_bonus_and_pays_it(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub = submission(prolific_server)
    other = submission(prolific_server, "w2")
    site = make_site()

    payment_id = site.pay_bonus(STUDY, bonus_for(sub, "1.5"), key="ledger-1")

    [created] = prolific_server.calls("POST", "submissions/bonus-payments/")
    assert created.body == {"study_id": STUDY, "csv_bonuses": "w1,1.50\n"}
    assert prolific_server.bulk[payment_id]["times_paid"] == 1
    assert prolific_server.bonuses_paid("w1") == [Decimal("1.50")]
    assert site.bonus_paid(STUDY, bonus_for(sub, "1.50"), key="ledger-1") is True
    assert site.bonus_paid(STUDY, bonus_for(sub, "2.00"), key="ledger-2") is False
    assert site.bonus_paid(STUDY, bonus_for(other, "1.50"), key="ledger-3") is False


def test_paying_a_bulk_bonus_twice_pays_twice(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    """The stand-in is as unforgiving as Prolific: why the client never resends a pay."""
    sub = submission(prolific_server)
    site = make_site()
    payment_id = site.create_bonus(STUDY, bonus_for(sub))

    site.pay_created_bonus(payment_id)
    site.pay_created_bonus(payment_id)

    assert prolific_server.bonuses_paid("w1") == [Decimal("1.50"), Decimal("1.50")]


def test_bonus_for_someone_not_in_the_study_is_refused(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    submission(prolific_server)
    stranger = Bonus(submission_id="nope", worker_id="stranger", amount=Decimal("1.00"))

    with pytest.raises(ProviderError, match="Not in this study: stranger") as caught:
        make_site().pay_bonus(STUDY, stranger, key="k")

    assert not caught.value.retryable
    assert prolific_server.payments == []


def test_read_timeout_on_pay_is_uncertain_and_bonus_paid_sees_the_payment(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub = submission(prolific_server)
    site = make_site(timeout=0.5)
    payment_id = site.create_bonus(STUDY, bonus_for(sub))
    pay = f"bulk-bonus-payments/{payment_id}/pay/"
    prolific_server.hang_next(pay, 2.0, carry_out=True)

    with pytest.raises(ProviderError) as caught:
        site.pay_created_bonus(payment_id)

    assert caught.value.uncertain and not caught.value.retryable
    assert len(prolific_server.calls("POST", pay)) == 1
    assert site.bonus_paid(STUDY, bonus_for(sub), key="k1") is True
    assert prolific_server.bonuses_paid("w1") == [Decimal("1.50")]


def test_read_timeout_on_pay_before_it_was_carried_out(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub = submission(prolific_server)
    site = make_site(timeout=0.5)
    payment_id = site.create_bonus(STUDY, bonus_for(sub))
    pay = f"bulk-bonus-payments/{payment_id}/pay/"
    prolific_server.hang_next(pay, 2.0, carry_out=False)

    with pytest.raises(ProviderError) as caught:
        site.pay_created_bonus(payment_id)

    assert caught.value.uncertain
    assert len(prolific_server.calls("POST", pay)) == 1
    assert site.bonus_paid(STUDY, bonus_for(sub), key="k1") is False
    assert prolific_server.bonuses_paid("w1") == []


def test_connection_cut_after_pay_is_uncertain_and_paid_once(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    sub = submission(prolific_server)
    site = make_site()
    payment_id = site.create_bonus(STUDY, bonus_for(sub))
    pay = f"bulk-bonus-payments/{payment_id}/pay/"
    prolific_server.cut_after_next(pay)

    with pytest.raises(ProviderError) as caught:
        site.pay_created_bonus(payment_id)

    assert caught.value.uncertain and not caught.value.retryable
    assert payment_id in str(caught.value)
    assert caught.value.__context__ is None
    assert site.bonus_paid(STUDY, bonus_for(sub), key="k1") is True
    assert len(prolific_server.calls("POST", pay)) == 1
    assert prolific_server.bonuses_paid("w1") == [Decimal("1.50")]


def test_read_timeout_on_a_transition_is_retried(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    """Prolific documents the transition as idempotent: sent again, it is ignored."""
    sub = submission(prolific_server)
    prolific_server.hang_next(transition_path(sub), 2.0, carry_out=True)
    site = make_site(timeout=0.5)

    site.approve(sub)

    assert prolific_server.status(sub.id) == "APPROVED"
    assert len(prolific_server.calls("POST", transition_path(sub))) == 2


# --- credentials ---------------------------------------------------------------------------


def test_wrong_token_is_a_401_without_the_token(
    prolific_server: ProlificServer, make_site: MakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-secret-token-5b2e9d"
    site = make_site(token=secret)

    with pytest.raises(ProviderError) as caught:
        site.submissions(STUDY)

    assert not caught.value.retryable
    assert "HTTP 401" in str(caught.value)
    assert "[token]" in str(caught.value)  # the server echoed it; the client scrubbed it
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)
    assert secret not in caplog.text
    assert prolific_server.requests[0].authorized is False


def test_5xx_answers_and_retry_logs_hold_no_token(
    prolific_server: ProlificServer, make_site: MakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sub = submission(prolific_server)
    prolific_server.fail_next(transition_path(sub), 3, 500)
    site = make_site(retries=2)

    with pytest.raises(ProviderError) as caught:
        site.approve(sub)

    assert "HTTP 500" in str(caught.value)
    assert "[token]" in str(caught.value)  # echoed by the server, scrubbed by the client
    assert "retry 1 of 2" in caplog.text
    assert prolific_server.token not in str(caught.value)
    assert prolific_server.token not in caplog.text
    assert prolific_server.token not in repr(site)


# --- participant groups and messages --------------------------------------------------------


def test_block_and_unblock_use_the_block_list_group(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    prolific_server.add_group("blocklist", {"someone-else"})
    site = make_site(block_group="blocklist")
    path = "participant-groups/blocklist/participants/"

    site.block("w1", reason="abusive messages")
    assert prolific_server.members("blocklist") == {"someone-else", "w1"}
    site.unblock("w1")
    assert prolific_server.members("blocklist") == {"someone-else"}

    assert [(r.method, r.body) for r in prolific_server.requests if r.path == path] == [
        ("POST", {"participant_ids": ["w1"]}),
        ("DELETE", {"participant_ids": ["w1"]}),
    ]


def test_block_without_a_block_list_group_is_refused(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    with pytest.raises(ProviderError, match="block-list"):
        make_site().block("w1", reason="x")
    assert prolific_server.requests == []


def test_allow_and_disallow(prolific_server: ProlificServer, make_site: MakeSite) -> None:
    prolific_server.add_group("returning")
    site = make_site()

    site.allow("w1", group="returning")
    site.allow("w2", group="returning")
    assert prolific_server.members("returning") == {"w1", "w2"}
    site.disallow("w1", group="returning")
    assert prolific_server.members("returning") == {"w2"}


def test_allow_into_an_unknown_group_is_refused(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    with pytest.raises(ProviderError, match="HTTP 404") as caught:
        make_site().allow("w1", group="missing")
    assert not caught.value.retryable


def test_message(prolific_server: ProlificServer, make_site: MakeSite) -> None:
    make_site().message("w1", subject="Your bonus", body="Thank you for the chat.", study=STUDY)

    assert prolific_server.messages == [
        {
            "recipient_id": "w1",
            "body": "Your bonus\n\nThank you for the chat.",
            "study_id": STUDY,
        }
    ]


def test_message_cut_after_sending_is_uncertain_and_not_resent(
    prolific_server: ProlificServer, make_site: MakeSite
) -> None:
    prolific_server.cut_after_next("messages/")

    with pytest.raises(ProviderError) as caught:
        make_site().message("w1", subject="", body="Hello", study=STUDY)

    assert caught.value.uncertain
    assert len(prolific_server.messages) == 1
    assert len(prolific_server.calls("POST", "messages/")) == 1
