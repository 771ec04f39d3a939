"""A local stand-in for MTurk's requester API, speaking its JSON 1.1 protocol to boto3.

boto3 is pointed at `server.url` (endpoint_url); every call is a POST / with
X-Amz-Target: MTurkRequesterServiceV20170117.<Operation> and a JSON body shaped as in botocore's
service model (botocore/data/mturk/2017-01-17/service-2.json). Refusals are HTTP 400 with
{"__type": "...#RequestError", "Message", "TurkErrorCode"}; faults HTTP 500 ServiceFault.

State is in memory: HITs, assignments (worker and status), bonus payments (a UniqueRequestToken
pays once for 24 hours; a repeat is refused with a message naming the token, as MTurk documents),
worker blocks, qualification scores, notifications. Signatures are not checked, but a request
must carry an Authorization header of SigV4 ("AWS4-HMAC-SHA256 ...").

Faults a test sets: `fail(op, times)` (5xx), `hang(op, seconds)` (answer late, after doing the
work), `cut_after(op)` (do the work, then close the connection without an answer).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TARGET_PREFIX = "MTurkRequesterServiceV20170117."
_ERROR_NS = "com.amazonaws.mturk.requester.v20170117#"
_AMOUNT = re.compile(r"^[0-9]+(\.)?[0-9]{0,2}$")  # CurrencyAmount's pattern
_TOKEN_LIFETIME = 24 * 3600
_INVALID_STATE = "AWS.MechanicalTurk.InvalidAssignmentState"

FAKE_ACCESS_KEY_ID = "AKIAFAKETESTKEY12345"
FAKE_SECRET_ACCESS_KEY = "fake/Secret+Key+ThatMustNeverLeak0123456789"


class Refused(Exception):
    """An answer other than 200: becomes the JSON error body."""

    def __init__(
        self, message: str, *, kind: str = "RequestError", code: str = "", status: int = 400
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.status = status


@dataclass
class Assignment:
    id: str
    hit_id: str
    worker_id: str
    # Submitted / Approved / Rejected are listed; Accepted / Returned / Abandoned never are.
    status: str
    feedback: str = ""


@dataclass
class Payment:
    worker_id: str
    assignment_id: str
    amount: Decimal
    reason: str
    token: str | None
    granted: float


@dataclass
class Recorded:
    operation: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Fault:
    fail: int = 0  # the next N calls answer 5xx
    fail_status: int = 500
    hang: float = 0.0  # seconds to wait before answering
    hang_times: int = 0
    cut: int = 0  # the next N calls are carried out and never answered


@dataclass
class MTurkServer:
    """The server's state, its faults and what tests read of it."""

    url: str = ""
    page_size: int = 10
    hits: dict[str, dict[str, Any]] = field(default_factory=dict)
    assignments: dict[str, Assignment] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    blocks: dict[str, str] = field(default_factory=dict)
    qualification_types: set[str] = field(default_factory=set)
    scores: dict[tuple[str, str], int] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    undeliverable: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    clock_offset: float = 0.0
    _faults: dict[str, _Fault] = field(default_factory=dict)
    _tokens: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)

    # -- set-up ---------------------------------------------------------------------------

    def add_hit(self, hit_id: str, *, max_assignments: int = 10) -> None:
        self.hits[hit_id] = {"HITId": hit_id, "MaxAssignments": max_assignments}

    def add_assignment(
        self, hit_id: str, assignment_id: str, worker_id: str, status: str = "Submitted"
    ) -> Assignment:
        if hit_id not in self.hits:
            self.add_hit(hit_id)
        assignment = Assignment(assignment_id, hit_id, worker_id, status)
        self.assignments[assignment_id] = assignment
        return assignment

    def add_qualification_type(self, qualification_type_id: str) -> None:
        self.qualification_types.add(qualification_type_id)

    # -- faults ---------------------------------------------------------------------------

    def fail(self, operation: str, times: int = 1, *, status: int = 500) -> None:
        """The next `times` calls of the operation answer `status` (500 ServiceFault, 503
        ServiceUnavailable) without doing anything."""
        fault = self._faults.setdefault(operation, _Fault())
        fault.fail, fault.fail_status = times, status

    def hang(self, operation: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls are carried out, then answered only after `seconds`."""
        fault = self._faults.setdefault(operation, _Fault())
        fault.hang, fault.hang_times = seconds, times

    def cut_after(self, operation: str, times: int = 1) -> None:
        """The next `times` calls are carried out, then the connection is closed unanswered."""
        self._faults.setdefault(operation, _Fault()).cut = times

    def advance(self, seconds: float) -> None:
        """Move the server's clock on (UniqueRequestToken lasts 24 hours)."""
        self.clock_offset += seconds

    # -- reading --------------------------------------------------------------------------

    def calls(self, operation: str) -> list[dict[str, Any]]:
        """The bodies of every request of the operation, in order."""
        return [r.body for r in self.requests if r.operation == operation]

    def bonuses(self, worker_id: str) -> list[Decimal]:
        return [p.amount for p in self.payments if p.worker_id == worker_id]

    def status(self, assignment_id: str) -> str:
        return self.assignments[assignment_id].status

    def now(self) -> float:
        return time.time() + self.clock_offset

    # -- the protocol ---------------------------------------------------------------------

    def take_fault(self, operation: str) -> tuple[int, float, bool]:
        """(5xx status or 0, seconds to hang, cut) for this call, counting it down."""
        with self._lock:
            fault = self._faults.get(operation)
            if fault is None:
                return 0, 0.0, False
            if fault.fail > 0:
                fault.fail -= 1
                return fault.fail_status, 0.0, False
            hang = 0.0
            if fault.hang_times > 0:
                fault.hang_times -= 1
                hang = fault.hang
            cut = fault.cut > 0
            if cut:
                fault.cut -= 1
            return 0, hang, cut

    def handle(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            raise Refused(f"Unknown operation {operation}", kind="UnknownOperationException")
        with self._lock:
            result: dict[str, Any] = handler(body)
            return result

    def _assignment(self, body: dict[str, Any]) -> Assignment:
        assignment_id = _required(body, "AssignmentId")
        assignment = self.assignments.get(assignment_id)
        if assignment is None or assignment.status in ("Returned", "Abandoned"):
            raise Refused(
                f"Assignment {assignment_id} does not exist. ({_request_id()})",
                code="AWS.MechanicalTurk.AssignmentDoesNotExist",
            )
        return assignment

    def _page(self, items: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
        """MTurk's paging: an opaque NextToken after every non-empty page, even the last."""
        size = min(int(body.get("MaxResults", 10)), self.page_size)
        start = int(body["NextToken"].removeprefix("page-")) if body.get("NextToken") else 0
        page = items[start : start + size]
        answer: dict[str, Any] = {"NumResults": len(page)}
        if page:
            answer["NextToken"] = f"page-{start + size}"
        return answer | {"items": page}

    def op_ListAssignmentsForHIT(self, body: dict[str, Any]) -> dict[str, Any]:
        hit_id = _required(body, "HITId")
        if hit_id not in self.hits:
            raise Refused(
                f"Hit {hit_id} does not exist. ({_request_id()})",
                code="AWS.MechanicalTurk.HITDoesNotExist",
            )
        wanted = body.get("AssignmentStatuses") or ["Submitted", "Approved", "Rejected"]
        listed = [
            {
                "AssignmentId": a.id,
                "WorkerId": a.worker_id,
                "HITId": a.hit_id,
                "AssignmentStatus": a.status,
            }
            for a in self.assignments.values()
            if a.hit_id == hit_id and a.status in wanted
        ]
        answer = self._page(listed, body)
        answer["Assignments"] = answer.pop("items")
        return answer

    def op_GetAssignment(self, body: dict[str, Any]) -> dict[str, Any]:
        a = self._assignment(body)
        return {
            "Assignment": {
                "AssignmentId": a.id,
                "WorkerId": a.worker_id,
                "HITId": a.hit_id,
                "AssignmentStatus": a.status,
            },
            "HIT": {"HITId": a.hit_id},
        }

    def op_GetHIT(self, body: dict[str, Any]) -> dict[str, Any]:
        hit_id = _required(body, "HITId")
        hit = self.hits.get(hit_id)
        if hit is None:
            raise Refused(
                f"Hit {hit_id} does not exist.", code="AWS.MechanicalTurk.HITDoesNotExist"
            )
        mine = [a for a in self.assignments.values() if a.hit_id == hit_id]
        pending = sum(a.status == "Accepted" for a in mine)
        completed = sum(a.status in ("Submitted", "Approved", "Rejected") for a in mine)
        available = max(0, hit["MaxAssignments"] - pending - completed)
        return {
            "HIT": {
                "HITId": hit_id,
                "HITStatus": "Assignable" if available else "Unassignable",
                "MaxAssignments": hit["MaxAssignments"],
                "NumberOfAssignmentsPending": pending,
                "NumberOfAssignmentsAvailable": available,
                "NumberOfAssignmentsCompleted": completed,
            }
        }

    def op_ApproveAssignment(self, body: dict[str, Any]) -> dict[str, Any]:
        a = self._assignment(body)
        override = bool(body.get("OverrideRejection"))
        if a.status == "Submitted" or (a.status == "Rejected" and override):
            a.status = "Approved"
            a.feedback = str(body.get("RequesterFeedback", ""))
            return {}
        raise Refused(
            "This operation can be called with a status of: Submitted "
            f"({time.time():.0f}) ({_request_id()})",
            code=_INVALID_STATE,
        )

    def op_RejectAssignment(self, body: dict[str, Any]) -> dict[str, Any]:
        a = self._assignment(body)
        feedback = _required(body, "RequesterFeedback")
        if len(feedback) > 1024:
            raise Refused("RequesterFeedback can be at most 1024 characters.")
        if a.status != "Submitted":
            raise Refused(
                f"This operation can be called with a status of: Submitted ({_request_id()})",
                code=_INVALID_STATE,
            )
        a.status, a.feedback = "Rejected", feedback
        return {}

    def op_SendBonus(self, body: dict[str, Any]) -> dict[str, Any]:
        worker_id = _required(body, "WorkerId")
        amount = _required(body, "BonusAmount")
        reason = _required(body, "Reason")
        token = body.get("UniqueRequestToken")
        a = self._assignment(body)
        if a.worker_id != worker_id:
            raise Refused(
                f"Assignment {a.id} does not belong to worker {worker_id}.",
                code="AWS.MechanicalTurk.InvalidParameterValue",
            )
        if not _AMOUNT.match(amount) or Decimal(amount) <= 0:
            raise Refused(
                f"{amount} is not a valid BonusAmount.",
                code="AWS.MechanicalTurk.InvalidParameterValue",
            )
        if token is not None:
            if not 1 <= len(token) <= 64:
                raise Refused(
                    "UniqueRequestToken must be between 1 and 64 characters.",
                    code="AWS.MechanicalTurk.InvalidParameterValue",
                )
            granted = self._tokens.get(token)
            if granted is not None and self.now() - granted < _TOKEN_LIFETIME:
                raise Refused(
                    "The request has already been processed. "
                    f"UniqueRequestToken: {token} ({_request_id()})",
                    code="AWS.MechanicalTurk.DuplicateRequest",
                )
            self._tokens[token] = self.now()
        self.payments.append(Payment(worker_id, a.id, Decimal(amount), reason, token, self.now()))
        return {}

    def op_ListBonusPayments(self, body: dict[str, Any]) -> dict[str, Any]:
        hit_id, assignment_id = body.get("HITId"), body.get("AssignmentId")
        if not hit_id and not assignment_id:
            raise Refused("Either the HITId or the AssignmentId parameter must be specified.")
        listed = [
            {
                "WorkerId": p.worker_id,
                "BonusAmount": f"{p.amount:.2f}",
                "AssignmentId": p.assignment_id,
                "Reason": p.reason,
                "GrantTime": p.granted,
            }
            for p in self.payments
            if (assignment_id and p.assignment_id == assignment_id)
            or (not assignment_id and self.assignments[p.assignment_id].hit_id == hit_id)
        ]
        answer = self._page(listed, body)
        answer["BonusPayments"] = answer.pop("items")
        return answer

    def op_UpdateExpirationForHIT(self, body: dict[str, Any]) -> dict[str, Any]:
        hit = self.hits.get(_required(body, "HITId"))
        if hit is None:
            raise Refused("Hit does not exist.", code="AWS.MechanicalTurk.HITDoesNotExist")
        hit["Expiration"] = body.get("ExpireAt")
        return {}

    def op_CreateWorkerBlock(self, body: dict[str, Any]) -> dict[str, Any]:
        self.blocks[_required(body, "WorkerId")] = _required(body, "Reason")
        return {}

    def op_DeleteWorkerBlock(self, body: dict[str, Any]) -> dict[str, Any]:
        self.blocks.pop(_required(body, "WorkerId"), None)
        return {}

    def _qualification_type(self, body: dict[str, Any]) -> str:
        qualification = _required(body, "QualificationTypeId")
        if qualification not in self.qualification_types:
            raise Refused(
                f"You requested a Qualification type that does not exist. ({_request_id()})",
                code="AWS.MechanicalTurk.QualificationTypeDoesNotExist",
            )
        return qualification

    def op_AssociateQualificationWithWorker(self, body: dict[str, Any]) -> dict[str, Any]:
        qualification = self._qualification_type(body)
        worker_id = _required(body, "WorkerId")
        self.scores[(qualification, worker_id)] = int(body.get("IntegerValue", 1))
        return {}

    def op_DisassociateQualificationFromWorker(self, body: dict[str, Any]) -> dict[str, Any]:
        # Assumed lenient when the worker has no such qualification (not documented by MTurk).
        qualification = self._qualification_type(body)
        self.scores.pop((qualification, _required(body, "WorkerId")), None)
        return {}

    def op_NotifyWorkers(self, body: dict[str, Any]) -> dict[str, Any]:
        subject = _required(body, "Subject")
        text = _required(body, "MessageText")
        workers = body.get("WorkerIds") or []
        if len(subject) > 200 or len(text) > 4096 or not 1 <= len(workers) <= 100:
            raise Refused(
                "Subject, MessageText or WorkerIds out of bounds.",
                code="AWS.MechanicalTurk.InvalidParameterValue",
            )
        failures = [
            {
                "NotifyWorkersFailureCode": "HardFailure",
                "NotifyWorkersFailureMessage": f"Cannot send a message to worker {w}.",
                "WorkerId": w,
            }
            for w in workers
            if w in self.undeliverable
        ]
        delivered = [w for w in workers if w not in self.undeliverable]
        if delivered:
            self.notifications.append({"Subject": subject, "MessageText": text, "To": delivered})
        return {"NotifyWorkersFailureStatuses": failures}


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise Refused(
            f"Value null at '{name}' failed to satisfy constraint: Member must not be null"
        )
    return value


def _request_id() -> str:
    return f"{time.monotonic_ns():x}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Http

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet; the requests are recorded

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        state.requests.append(Recorded(operation, body, dict(self.headers.items())))
        if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256"):
            self._send(
                400, {"__type": "MissingAuthenticationTokenException", "Message": "No SigV4"}
            )
            return
        if not operation or self.headers.get("Content-Type") != "application/x-amz-json-1.1":
            self._send(400, {"__type": "UnknownOperationException", "Message": target})
            return
        status, hang, cut = state.take_fault(operation)
        if status:
            kind = "ServiceUnavailable" if status == 503 else "ServiceFault"
            self._send(status, {"__type": _ERROR_NS + kind, "Message": "Try your call again."})
            return
        try:
            answer, code = state.handle(operation, body), 200
        except Refused as exc:
            answer, code = _error(exc), exc.status
        if hang:
            state._release.wait(hang)
        if cut:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(code, answer)

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", _request_id())
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up waiting


def _error(exc: Refused) -> dict[str, Any]:
    answer: dict[str, Any] = {"__type": _ERROR_NS + exc.kind, "Message": str(exc)}
    if exc.code:
        answer["TurkErrorCode"] = exc.code
    return answer


class _Http(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: MTurkServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Fake keys in boto3's environment variables, and no file or profile of the machine's."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_ACCESS_KEY)
    return FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY


@pytest.fixture
def mturk_server(aws_credentials: tuple[str, str]) -> Iterator[MTurkServer]:
    """A running server on a free 127.0.0.1 port, with fake AWS keys in the environment."""
    state = MTurkServer()
    http = _Http(state)
    state.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(
        target=http.serve_forever, args=(0.05,), name="mturk-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state._release.set()  # let hanging answers go
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)
