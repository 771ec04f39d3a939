"""Amazon Mechanical Turk's requester API through boto3: the CrowdSite of MTurk HITs.

`study` is a HIT id and a submission is an assignment. The shapes are those of botocore's service
model (botocore/data/mturk/2017-01-17/service-2.json), which boto3 serialises as JSON 1.1.

Credentials are boto3's own: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment (or
its other usual sources), never Django settings; no message, log line or repr() here holds them.

What MTurk does not tell: ListAssignmentsForHIT lists only submitted assignments (Submitted,
Approved, Rejected). An assignment being worked on, returned by its worker or abandoned when its
time ran out is never listed, and no call names it; the HIT's counts (`hit_counts`) are all the
platform can learn of them. So `submissions` never yields ACTIVE, RETURNED or TIMED_OUT.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from crowd.providers.base import (
    APPROVED,
    AWAITING_REVIEW,
    REJECTED,
    Bonus,
    ProviderError,
    Submission,
)

log = logging.getLogger(__name__)

SANDBOX_URL = "https://mturk-requester-sandbox.us-east-1.amazonaws.com"
PRODUCTION_URL = "https://mturk-requester.us-east-1.amazonaws.com"

_STATES = {"Submitted": AWAITING_REVIEW, "Approved": APPROVED, "Rejected": REJECTED}
# MTurk's limit on UniqueRequestToken (IdempotencyToken in the service model).
_TOKEN_MAX = 64
_PAGE = 100  # ResultSize's maximum
_CENT = Decimal("0.01")
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException"}
# The worker sees the Reason; its ref lets bonus_paid tell this payment from another one.
_BONUS_REASON = "A bonus for your work on this study, thank you. (ref {ref})"


def request_token(key: str) -> str:
    """The UniqueRequestToken of a ledger key: the key itself, or its SHA-256 when too long."""
    if 1 <= len(key) <= _TOKEN_MAX:
        return key
    return hashlib.sha256(key.encode()).hexdigest()  # 64 hex characters, stable


def bonus_ref(key: str) -> str:
    """A short stable reference of the key, written into the bonus's Reason."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def bonus_amount(amount: Decimal) -> str:
    """MTurk's CurrencyAmount: US dollars with two decimals; money is never rounded here."""
    try:
        exact = amount.quantize(_CENT)
    except InvalidOperation:
        exact = None
    if exact is None or exact != amount or exact <= 0:
        raise ProviderError(f"MTurk bonus amount {amount} is not a positive amount in cents")
    return f"{exact:.2f}"


@dataclass(frozen=True)
class HitCounts:
    """A HIT's assignment counts: the only trace of assignments MTurk does not list."""

    status: str
    max_assignments: int
    pending: int  # accepted and being worked on
    available: int  # not taken yet, including the returned and abandoned ones
    completed: int  # submitted (whatever their review)


class MTurkSite:
    """The CrowdSite of MTurk, one boto3 client per instance."""

    name = "mturk"

    def __init__(
        self,
        *,
        sandbox: bool,
        endpoint_url: str | None = None,
        region: str | None = None,
        timeout: float | None = None,
        allow_qualification: str = "",
        retries: int = 3,
    ) -> None:
        """`retries` is botocore's max_attempts: the attempts after the first one. None falls
        back on MTURK_ENDPOINT_URL (then the sandbox flag), MTURK_REGION and
        CROWD_SITE_TIMEOUT_SECONDS."""
        from django.conf import settings

        self.sandbox = sandbox
        self.endpoint_url = (
            endpoint_url
            or getattr(settings, "MTURK_ENDPOINT_URL", "")
            or (SANDBOX_URL if sandbox else PRODUCTION_URL)
        )
        self.region = region or getattr(settings, "MTURK_REGION", "") or "us-east-1"
        seconds = timeout if timeout is not None else settings.CROWD_SITE_TIMEOUT_SECONDS
        self.allow_qualification = allow_qualification
        config = Config(
            connect_timeout=seconds,
            read_timeout=seconds,
            retries={"max_attempts": max(0, retries), "mode": "standard"},
        )
        # A session of its own: boto3's default session is not safe to share between threads.
        self._client: Any = boto3.session.Session().client(
            "mturk", region_name=self.region, endpoint_url=self.endpoint_url, config=config
        )

    def __repr__(self) -> str:
        return f"MTurkSite(endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    # -- reading ------------------------------------------------------------------------------

    def submissions(self, study: str) -> list[Submission]:
        """Every submitted assignment of the HIT; see the module's docstring for the others."""
        found: dict[str, Submission] = {}
        for item in self._pages(
            "ListAssignmentsForHIT",
            "Assignments",
            HITId=study,
            AssignmentStatuses=list(_STATES),
        ):
            status = str(item.get("AssignmentStatus", ""))
            if status not in _STATES:
                raise ProviderError(f"MTurk ListAssignmentsForHIT: unknown status {status!r}")
            sub = Submission(
                id=str(item["AssignmentId"]), worker_id=str(item["WorkerId"]), state=_STATES[status]
            )
            found[sub.id] = sub
        return list(found.values())

    def hit_counts(self, study: str) -> HitCounts:
        """GetHIT's counts: how many assignments are out, free again, or submitted."""
        hit = self._call("GetHIT", HITId=study).get("HIT", {})
        return HitCounts(
            status=str(hit.get("HITStatus", "")),
            max_assignments=int(hit.get("MaxAssignments", 0)),
            pending=int(hit.get("NumberOfAssignmentsPending", 0)),
            available=int(hit.get("NumberOfAssignmentsAvailable", 0)),
            completed=int(hit.get("NumberOfAssignmentsCompleted", 0)),
        )

    # -- review -------------------------------------------------------------------------------

    def approve(self, submission: Submission) -> None:
        """ApproveAssignment. MTurk refuses an approved one ("can be called with a status of:
        Submitted"): read back, approved is success. A rejected one is approved over the
        rejection only when the platform knows it is rejected (OverrideRejection)."""
        try:
            self._call(
                "ApproveAssignment",
                AssignmentId=submission.id,
                OverrideRejection=submission.state == REJECTED,
            )
        except ProviderError as exc:
            if exc.retryable or exc.uncertain or self._status(submission.id) != "Approved":
                raise

    def reject(self, submission: Submission, *, message: str, category: str) -> None:
        """RejectAssignment with the message as RequesterFeedback; MTurk has no categories, so
        `category` is not sent. Rejecting a rejected assignment succeeds, as approve does."""
        try:
            self._call("RejectAssignment", AssignmentId=submission.id, RequesterFeedback=message)
        except ProviderError as exc:
            if exc.retryable or exc.uncertain or self._status(submission.id) != "Rejected":
                raise

    def _status(self, assignment_id: str) -> str | None:
        """The assignment's status by GetAssignment, or None when that cannot be read."""
        try:
            answer = self._call("GetAssignment", AssignmentId=assignment_id)
        except ProviderError:
            return None
        return str(answer.get("Assignment", {}).get("AssignmentStatus", "")) or None

    # -- bonuses ------------------------------------------------------------------------------

    def pay_bonus(self, study: str, bonus: Bonus, *, key: str) -> str:
        """SendBonus with UniqueRequestToken from `key`: MTurk pays a token once (for 24 hours)
        and answers a repeat with an error naming the token, which is success here. Returns the
        key: MTurk gives a bonus no id of its own."""
        token = request_token(key)
        try:
            self._call(
                "SendBonus",
                WorkerId=bonus.worker_id,
                BonusAmount=bonus_amount(bonus.amount),
                AssignmentId=bonus.submission_id,
                Reason=_BONUS_REASON.format(ref=bonus_ref(key)),
                UniqueRequestToken=token,
            )
        except ProviderError as exc:
            if exc.retryable or exc.uncertain:
                raise
            said = exc.mturk_message if isinstance(exc, MTurkRefusal) else ""
            if re.search(rf"(?<![\w.:/-]){re.escape(token)}(?![\w.:/-])", said):
                return key  # an earlier attempt with this token paid it
            try:
                paid = self.bonus_paid(study, bonus, key=key)
            except ProviderError:
                raise ProviderError(
                    f"{exc} (and the bonuses could not be read back)", uncertain=True
                ) from None
            if not paid:
                raise
        return key

    def bonus_paid(self, study: str, bonus: Bonus, *, key: str) -> bool:
        """Whether the assignment has a bonus to the same worker of the same amount whose Reason
        carries this key's ref, or no ref (paid by hand). MTurk's BonusPayment holds no token,
        so this is the closest reading there is; it does not expire as the token does."""
        ref = bonus_ref(key)
        amount = bonus_amount(bonus.amount)
        for item in self._pages(
            "ListBonusPayments", "BonusPayments", AssignmentId=bonus.submission_id
        ):
            if str(item.get("WorkerId")) != bonus.worker_id:
                continue
            try:
                if Decimal(str(item.get("BonusAmount"))) != Decimal(amount):
                    continue
            except InvalidOperation:
                continue
            reason = str(item.get("Reason", ""))
            if f"(ref {ref})" in reason or "(ref " not in reason:
                return True
        return False

    # -- workers ------------------------------------------------------------------------------

    def pause_study(self, study: str) -> None:
        """Expire the HIT now (UpdateExpirationForHIT with a past time): no new worker can
        accept it; those who did may still submit."""
        self._call("UpdateExpirationForHIT", HITId=study, ExpireAt=datetime(2015, 1, 1, tzinfo=UTC))

    def block(self, worker_id: str, *, reason: str) -> None:
        """CreateWorkerBlock: the worker never sees the reason."""
        self._call("CreateWorkerBlock", WorkerId=worker_id, Reason=reason)

    def unblock(self, worker_id: str) -> None:
        self._call("DeleteWorkerBlock", WorkerId=worker_id)

    def allow(self, worker_id: str, *, group: str) -> None:
        """Grant the qualification `group` (or the lab's allow-list one) with value 1, silently:
        HITs that require it admit the worker."""
        self._call(
            "AssociateQualificationWithWorker",
            QualificationTypeId=self._qualification(group),
            WorkerId=worker_id,
            IntegerValue=1,
            SendNotification=False,
        )

    def disallow(self, worker_id: str, *, group: str) -> None:
        self._call(
            "DisassociateQualificationFromWorker",
            QualificationTypeId=self._qualification(group),
            WorkerId=worker_id,
        )

    def _qualification(self, group: str) -> str:
        qualification = group or self.allow_qualification
        if not qualification:
            raise ProviderError("MTurk: no qualification type for the allow-list")
        return qualification

    def message(self, worker_id: str, *, subject: str, body: str, study: str) -> None:
        """NotifyWorkers (an e-mail; MTurk ties it to no HIT, so `study` is not sent). MTurk
        mails only workers whose work the requester has approved or rejected."""
        answer = self._call(
            "NotifyWorkers", Subject=subject, MessageText=body, WorkerIds=[worker_id]
        )
        for failure in answer.get("NotifyWorkersFailureStatuses", []):
            if failure.get("WorkerId") in (worker_id, None):
                code = str(failure.get("NotifyWorkersFailureCode", ""))
                text = failure.get("NotifyWorkersFailureMessage", "")
                raise ProviderError(
                    f"MTurk NotifyWorkers: {code}: {text}", retryable=code == "SoftFailure"
                )

    # -- calls --------------------------------------------------------------------------------

    def _pages(self, operation: str, result_key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a listing, following NextToken until a page ends it."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page_params = dict(params, MaxResults=_PAGE)
            if token:
                page_params["NextToken"] = token
            answer = self._call(operation, **page_params)
            page = answer.get(result_key) or []
            items.extend(page)
            token = answer.get("NextToken")
            # MTurk may hand a token after the last page: an empty page ends the listing.
            if not token or not page:
                return items

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One operation, botocore retrying throttles, 5xx and lost connections; whatever is
        left over becomes a ProviderError built from MTurk's answer and the operation only."""
        method: Callable[..., dict[str, Any]] = getattr(self._client, xform_name(operation))
        what = f"MTurk {operation}"
        try:
            return method(**params)
        except ClientError as exc:
            raise _client_error(what, exc) from None
        except (ReadTimeoutError, ConnectionClosedError) as exc:
            # The request reached MTurk and may have been carried out. Repeating the others is
            # harmless (approve and reject read back, blocks and qualifications are set, not
            # added), but for NotifyWorkers, which may mail the worker twice.
            log.warning("%s: no answer (%s)", what, type(exc).__name__)
            paying = operation == "SendBonus"
            raise ProviderError(
                f"{what}: no answer from MTurk ({type(exc).__name__})",
                retryable=not paying,
                uncertain=paying,
            ) from None
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            raise ProviderError(
                f"{what}: MTurk unreachable ({type(exc).__name__})", retryable=True
            ) from None
        except NoCredentialsError:
            raise ProviderError(f"{what}: no AWS credentials in the environment") from None
        except ParamValidationError as exc:
            raise ProviderError(f"{what}: invalid parameters: {exc}") from None
        except BotoCoreError as exc:
            raise ProviderError(f"{what}: {type(exc).__name__}", retryable=True) from None


class MTurkRefusal(ProviderError):
    """An error answer of MTurk's, with its own words kept apart."""

    def __init__(self, message: str, *, mturk_message: str, turk_code: str, retryable: bool):
        super().__init__(message, retryable=retryable)
        self.mturk_message = mturk_message
        self.turk_code = turk_code


def _client_error(what: str, exc: ClientError) -> MTurkRefusal:
    """MTurk's refusal: a RequestError is final; a ServiceFault or a 5xx may be sent again."""
    response: dict[str, Any] = exc.response
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", ""))
    turk_code = response.get("TurkErrorCode") or error.get("TurkErrorCode") or ""
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    throttled = code in _THROTTLED or "RateLimit" in str(turk_code)
    retryable = code in ("ServiceFault", "ServiceUnavailable") or status >= 500 or throttled
    detail = f"{code} ({turk_code})" if turk_code else code
    # MTurk's message names workers and assignments: it goes in the error (the ledger), not
    # in the log.
    log.warning("%s refused: %s", what, detail)
    return MTurkRefusal(
        f"{what}: {detail}: {message}",
        mturk_message=message,
        turk_code=str(turk_code),
        retryable=retryable,
    )
