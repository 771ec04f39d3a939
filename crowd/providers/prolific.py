"""Prolific's REST API (https://docs.prolific.com/api-reference) behind the CrowdSite interface.

Every call goes through `_call`, which knows whether the request is safe to send twice:

- connect errors and connect timeouts happen before a byte of the request left, so they are
  retried (exponential backoff) and end as ProviderError(retryable=True);
- 429 is a throttle: retried, honouring Retry-After (capped), then retryable;
- a 5xx, a read timeout or a dropped connection is retried only on a call Prolific documents as
  idempotent (reads, transitions, participant-group membership, setting up a bonus, which pays
  nothing). On the others (paying a bulk bonus, sending a message) it raises
  ProviderError(uncertain=True) at once: the request may have been carried out, and paying it
  again pays twice (Prolific's "Pay bonuses" warning);
- any other 4xx raises ProviderError(retryable=False) with Prolific's own error text.

The token is sent in the Authorization header only. Error messages and log lines are built
from the method, the path and Prolific's answer, and the token is scrubbed from all of them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import TracebackType
from typing import Any

import httpx
from django.conf import settings

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

logger = logging.getLogger(__name__)
# Submission and payment ids in a path, left out of log lines (they name a person's work).
_IDS_IN_PATHS = re.compile(r"(submissions|bulk-bonus-payments)/(?!bonus-payments/)[^/\s]+")


def _without_ids(text: str) -> str:
    return _IDS_IN_PATHS.sub(r"\1/…", text)


# Prolific's statuses (Submission object page), normalised by _status_key, in the platform's
# words. SCREENED OUT is final and pays only the screen-out reward: like a return, neither
# approvable nor rejectable. PROCESSING is the short state after an approve or reject: still
# undecided as far as the platform knows, and approving again is ignored by Prolific.
STATUS_MAP = {
    "RESERVED": ACTIVE,
    "ACTIVE": ACTIVE,
    "AWAITING REVIEW": AWAITING_REVIEW,
    "PROCESSING": AWAITING_REVIEW,
    "APPROVED": APPROVED,
    "PARTIALLY APPROVED": APPROVED,
    "REJECTED": REJECTED,
    "RETURNED": RETURNED,
    "SCREENED OUT": RETURNED,
    "TIMED OUT": TIMED_OUT,
}

REJECTION_CATEGORIES = frozenset(
    {
        "TOO_QUICKLY",
        "TOO_SLOWLY",
        "FAILED_INSTRUCTIONS",
        "INCOMP_LONGITUDINAL",
        "FAILED_CHECK",
        "LOW_EFFORT",
        "MALINGERING",
        "NO_CODE",
        "BAD_CODE",
        "NO_DATA",
        "UNSUPP_DEVICE",
        "OTHER",
    }
)
MIN_REJECTION_MESSAGE = 100  # Prolific refuses a shorter rejection message
PAGE_SIZE = 100
MAX_PAGES = 1000  # a study has far fewer; stops a server that always says "next"
MAX_RETRY_AFTER = 30.0

# Failures before the request was sent: always safe to send again.
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after it may have reached Prolific.
_AFTER_SENDING = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


def _status_key(status: str) -> str:
    return status.strip().upper().replace("_", " ").replace("-", " ")


def _cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class ProlificSite:
    """The CrowdSite of Prolific: one sync httpx client, retries and credential hygiene."""

    name = "prolific"

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
        block_group: str = "",
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        url = base_url if base_url is not None else settings.PROLIFIC_API_URL
        self.base_url = url if url.endswith("/") else url + "/"
        self._token = token if token is not None else settings.PROLIFIC_API_TOKEN
        self.timeout = float(
            timeout if timeout is not None else settings.CROWD_SITE_TIMEOUT_SECONDS
        )
        self.block_group = block_group
        self.retries = max(0, retries)
        self.backoff = backoff
        # A seam for tests: how the client waits between attempts.
        self.sleep: Callable[[float], None] = time.sleep
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(self.timeout),
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"ProlificSite(base_url={self.base_url!r}, block_group={self.block_group!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ProlificSite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- submissions -------------------------------------------------------------------

    def submissions(self, study: str) -> list[Submission]:
        """Every submission of the study, page by page (GET /submissions/?study=)."""
        found: list[Submission] = []
        for page in range(1, MAX_PAGES + 1):
            data = self._call(
                "GET",
                "submissions/",
                params={"study": study, "page": page, "page_size": PAGE_SIZE},
                idempotent=True,
            )
            results = data.get("results") or []
            found.extend(self._submission(row) for row in results)
            if not results or not self._has_next(data):
                return found
        raise ProviderError(f"Prolific GET submissions/ of study {study}: too many pages")

    def approve(self, submission: Submission) -> None:
        """Approve; Prolific ignores the same transition sent twice, so it is retried."""
        self._call(
            "POST",
            f"submissions/{submission.id}/transition/",
            json_body={"action": "APPROVE"},
            idempotent=True,
        )

    def pause_study(self, study: str) -> None:
        """Pause the study (POST studies/{id}/transition/ PAUSE): no new participants join;
        those in it go on. Sent twice, it leaves the study paused."""
        self._call(
            "POST", f"studies/{study}/transition/", json_body={"action": "PAUSE"}, idempotent=True
        )

    def reject(self, submission: Submission, *, message: str, category: str) -> None:
        """Reject, checked here first: Prolific wants 100+ characters and a known category."""
        if len(message.strip()) < MIN_REJECTION_MESSAGE:
            raise ProviderError(
                f"a Prolific rejection message needs at least {MIN_REJECTION_MESSAGE} "
                f"characters, this one has {len(message.strip())}"
            )
        if category not in REJECTION_CATEGORIES:
            raise ProviderError(f"{category!r} is not a Prolific rejection category")
        self._call(
            "POST",
            f"submissions/{submission.id}/transition/",
            json_body={"action": "REJECT", "message": message, "rejection_category": category},
            idempotent=True,
        )

    # --- bonuses -----------------------------------------------------------------------

    def create_bonus(self, study: str, bonus: Bonus) -> str:
        """Set up a bulk bonus for this one participant; pays nothing yet. Returns its id,
        which the caller records before paying it (pay_created_bonus)."""
        if bonus.amount <= 0:
            raise ProviderError(f"a bonus must be positive, not {bonus.amount}")
        amount = bonus.amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        data = self._call(
            "POST",
            "submissions/bonus-payments/",
            json_body={"study_id": study, "csv_bonuses": f"{bonus.worker_id},{amount}\n"},
            # A bulk bonus set up twice and never paid costs nothing.
            idempotent=True,
        )
        payment_id = data.get("id")
        if not isinstance(payment_id, str) or not payment_id:
            raise ProviderError("Prolific POST submissions/bonus-payments/: answer has no id")
        return payment_id

    def pay_created_bonus(self, payment_id: str) -> None:
        """Pay a bulk bonus set up by create_bonus. Not idempotent: never sent twice here."""
        self._call("POST", f"bulk-bonus-payments/{payment_id}/pay/", idempotent=False)

    def pay_bonus(self, study: str, bonus: Bonus, *, key: str) -> str:
        """Set up and pay; `key` stays with the caller (Prolific has no idempotency key).
        A caller that must record the payment id before paying uses the two steps itself."""
        payment_id = self.create_bonus(study, bonus)
        logger.info("Prolific bulk bonus %s set up for ledger key %s; paying it", payment_id, key)
        self.pay_created_bonus(payment_id)
        return payment_id

    def bonus_paid(self, study: str, bonus: Bonus, *, key: str) -> bool:
        """Whether the submission shows a paid bonus of exactly this amount.

        Prolific keeps no key, so this reads the submission back (GET /submissions/{id}/):
        its `bonus_payments` lists every bonus paid on it, in cents. True when one of them
        equals the bonus's amount. Two limits the caller must keep in mind: two bonuses of
        the same amount on one submission cannot be told apart (the ledger should not make
        them), and Prolific pays asynchronously ("in the following minutes"), so False
        straight after a pay call may still turn True: wait before paying again.
        """
        if not bonus.submission_id:
            raise ProviderError("bonus_paid needs the bonus's Prolific submission id")
        data = self._call("GET", f"submissions/{bonus.submission_id}/", idempotent=True)
        wanted = _cents(bonus.amount)
        for paid in data.get("bonus_payments") or []:
            try:
                if _cents(Decimal(str(paid)) / 100) == wanted:
                    return True
            except InvalidOperation:
                continue
        return False

    # --- participant groups and messages -----------------------------------------------

    def block(self, worker_id: str, *, reason: str) -> None:
        """Add the worker to the block-list group (used as a blocklist filter on studies)."""
        if not self.block_group:
            raise ProviderError("no Prolific block-list participant group is configured")
        logger.info("Prolific: blocking a participant")  # never their id in a log line
        self._group("POST", self.block_group, worker_id)

    def unblock(self, worker_id: str) -> None:
        if not self.block_group:
            raise ProviderError("no Prolific block-list participant group is configured")
        self._group("DELETE", self.block_group, worker_id)

    def allow(self, worker_id: str, *, group: str) -> None:
        self._group("POST", group, worker_id)

    def disallow(self, worker_id: str, *, group: str) -> None:
        self._group("DELETE", group, worker_id)

    def message(self, worker_id: str, *, subject: str, body: str, study: str) -> None:
        """Send a message (POST /messages/). Prolific messages have no subject field, so the
        subject leads the body. Not retried after sending: it would arrive twice."""
        text = f"{subject}\n\n{body}" if subject else body
        self._call(
            "POST",
            "messages/",
            json_body={"recipient_id": worker_id, "body": text, "study_id": study},
            idempotent=False,
        )

    def _group(self, method: str, group: str, worker_id: str) -> None:
        # Prolific ignores adding a member twice and removing a non-member: idempotent.
        self._call(
            method,
            f"participant-groups/{group}/participants/",
            json_body={"participant_ids": [worker_id]},
            idempotent=True,
        )

    # --- the HTTP layer ----------------------------------------------------------------

    @staticmethod
    def _submission(row: dict[str, Any]) -> Submission:
        status = str(row.get("status", ""))
        state = STATUS_MAP.get(_status_key(status))
        if state is None:
            raise ProviderError(f"Prolific submission {row.get('id')}: unknown status {status!r}")
        worker = row.get("participant_id") or row.get("participant")
        if not row.get("id") or not worker:
            raise ProviderError("Prolific submission without an id or a participant")
        return Submission(id=str(row["id"]), worker_id=str(worker), state=state)

    @staticmethod
    def _has_next(data: dict[str, Any]) -> bool:
        links = data.get("_links")
        if isinstance(links, dict):
            nxt = links.get("next")
            if isinstance(nxt, dict):
                return bool(nxt.get("href"))
            return bool(nxt)
        return bool(data.get("next"))

    def _call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One API call with the retry policy of the module docstring; the answer's JSON."""
        if not self._token:
            raise ProviderError("PROLIFIC_API_TOKEN is not set")
        what = f"Prolific {method} {path}"
        attempt = 0
        while True:
            response, failure = self._send(method, path, params, json_body)
            if response is None:
                kind, name = failure
                if kind == "other":
                    raise ProviderError(self._scrub(f"{what}: {name}"))
                if kind == "after":
                    problem = f"no answer after sending ({name})"
                    if not idempotent:
                        raise ProviderError(
                            self._scrub(f"{what}: {problem}; it may have been carried out"),
                            uncertain=True,
                        )
                else:
                    problem = f"could not connect ({name})"
            else:
                status = response.status_code
                if status < 400:
                    return self._json(response, what)
                problem = f"HTTP {status}: {self._error_text(response)}"
                if 400 <= status < 500 and status != 429:
                    raise ProviderError(self._scrub(f"{what}: {problem}"))
                if status >= 500 and not idempotent:
                    raise ProviderError(
                        self._scrub(f"{what}: {problem}; it may have been carried out"),
                        uncertain=True,
                    )
            if attempt >= self.retries:
                raise ProviderError(
                    self._scrub(f"{what}: {problem} (after {attempt + 1} attempts)"),
                    retryable=True,
                )
            delay = self._delay(attempt, response)
            attempt += 1
            logger.warning(
                "%s; retry %d of %d in %.2fs",
                _without_ids(self._scrub(f"{what}: {problem}")),
                attempt,
                self.retries,
                delay,
            )
            self.sleep(delay)

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json_body: dict[str, Any] | None,
    ) -> tuple[httpx.Response | None, tuple[str, str]]:
        """Send once. A failure comes back as (kind, exception name), never as the exception:
        httpx's carries the request and its Authorization header, which must not travel on
        as the __context__ of a ProviderError into a log or an error tracker."""
        try:
            response = self._client.request(
                method,
                path,
                params=params,
                json=json_body,
                headers={"Authorization": f"Token {self._token}"},
            )
        except _BEFORE_SENDING as exc:
            return None, ("before", type(exc).__name__)
        except _AFTER_SENDING as exc:
            return None, ("after", type(exc).__name__)
        except httpx.HTTPError as exc:
            return None, ("other", type(exc).__name__)
        return response, ("", "")

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = self.backoff * (2**attempt)
        if response is not None and response.status_code == 429:
            with contextlib.suppress(KeyError, ValueError):
                delay = max(delay, min(float(response.headers["Retry-After"]), MAX_RETRY_AFTER))
        return delay

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(f"{what}: answer is not JSON", retryable=False) from None
        return data if isinstance(data, dict) else {"results": data}

    @staticmethod
    def _error_text(response: httpx.Response) -> str:
        """Prolific's own words: {"error": {"title", "detail"}} or DRF's {"detail"}."""
        try:
            data = response.json()
        except ValueError:
            return response.text[:300] or response.reason_phrase
        error = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(error, dict):
            parts = [error.get("title"), error.get("detail")]
            text = ": ".join(
                p if isinstance(p, str) else json.dumps(p) for p in parts if p not in (None, "")
            )
            if text:
                return text[:500]
        return json.dumps(error)[:500]

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text
