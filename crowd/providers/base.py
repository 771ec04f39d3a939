"""The interface of a crowd site's client: what settlement, sync and blocking call.

Every call either succeeds or raises ProviderError. `retryable` says whether the same call may
be sent again as it is (a 5xx, a timeout before the request was sent, a throttle); a timeout
after the request may have reached the site is `uncertain`: the caller must read the site's
state back before sending anything again (docs/crowd-sites.md, "Never paying twice").
Messages never hold credentials: clients build them from the site's answer and the call only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class ProviderError(Exception):
    """A call the site refused or did not answer."""

    def __init__(self, message: str, *, retryable: bool = False, uncertain: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        # The request may have been carried out: read the state back before any retry.
        self.uncertain = uncertain


# A submission's (assignment's) state on the site, in the platform's words.
ACTIVE = "active"  # the worker is still doing the task
AWAITING_REVIEW = "awaiting_review"  # submitted, neither approved nor rejected yet
APPROVED = "approved"
REJECTED = "rejected"
RETURNED = "returned"  # the worker gave the task back (Prolific RETURNED, MTurk returned)
TIMED_OUT = "timed_out"  # the site took it back after its time limit (MTurk abandoned)
STATES = (ACTIVE, AWAITING_REVIEW, APPROVED, REJECTED, RETURNED, TIMED_OUT)


@dataclass(frozen=True)
class Submission:
    """One worker's submission (Prolific) or assignment (MTurk)."""

    id: str  # Prolific submission id; MTurk AssignmentId
    worker_id: str  # Prolific participant id; MTurk WorkerId
    state: str  # one of STATES


@dataclass(frozen=True)
class Bonus:
    submission_id: str
    worker_id: str
    amount: Decimal  # in the study's currency, 2 decimal places


class CrowdSite(Protocol):
    """What the platform asks of a crowd site. `study` is Prolific's study id or MTurk's HIT id."""

    name: str

    def submissions(self, study: str) -> list[Submission]:
        """Every submission of the study, whatever its state."""

    def approve(self, submission: Submission) -> None:
        """Approve it (pays its base reward). Approving an approved submission succeeds."""

    def reject(self, submission: Submission, *, message: str, category: str) -> None:
        """Reject it, telling the worker why; `category` is Prolific's rejection category."""

    def pay_bonus(self, study: str, bonus: Bonus, *, key: str) -> str:
        """Pay one bonus; `key` identifies this payment for ever (the ledger's idempotency key).
        Returns the site's id of the payment. See bonus_paid for reading it back."""

    def bonus_paid(self, study: str, bonus: Bonus, *, key: str) -> bool:
        """Whether the site has paid this bonus (the one made with `key`): asked after a crash
        or an uncertain answer, before paying again."""

    def pause_study(self, study: str) -> None:
        """Let nobody new start the study (Prolific: pause it; MTurk: expire the HIT)."""

    def block(self, worker_id: str, *, reason: str) -> None:
        """Keep the worker out of the lab's later studies."""

    def unblock(self, worker_id: str) -> None: ...

    def allow(self, worker_id: str, *, group: str) -> None:
        """Put the worker on an allow-list (a participant group or a qualification)."""

    def disallow(self, worker_id: str, *, group: str) -> None: ...

    def message(self, worker_id: str, *, subject: str, body: str, study: str) -> None:
        """Send the worker a message through the site."""
