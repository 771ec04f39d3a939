"""A local stand-in for Prolific's REST API, so the client is tested against real HTTP.

It speaks the endpoints crowd/providers/prolific.py uses, as Prolific documents them
(docs.prolific.com/api-reference), with its state in memory:

- GET  submissions/?study=&page=&page_size=   paginated list (`_links.next.href`, `meta.count`)
- GET  submissions/{id}/                      one submission, with `bonus_payments` in cents
- POST submissions/{id}/transition/           APPROVE / REJECT (100+ characters, a known
                                              category); the same transition again is ignored
- POST submissions/bonus-payments/            set up a bulk bonus from `csv_bonuses`
- POST bulk-bonus-payments/{id}/pay/          pays it, every time it is called (as Prolific)
- POST/DELETE participant-groups/{id}/participants/   add / remove `participant_ids`
- POST messages/                              `recipient_id`, `body`, `study_id`

Every request is recorded (the token never is). A request without `Authorization: Token
<token>` gets 401, whose detail echoes what was presented: a careless client would then leak
its own credential into its error message, and the tests catch that.

Faults a test sets for the next calls to one path (relative to /api/v1/):
`fail_next(path, n, status)` answers 500/503/429... without doing anything; `hang_next(path,
seconds, carry_out)` waits longer than the client's timeout, having carried the request out
first or not at all; `cut_after_next(path)` carries it out and then closes the connection
without a byte of answer, so the client cannot know it happened.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from crowd.providers.prolific import REJECTION_CATEGORIES

PREFIX = "/api/v1/"
# Prolific's list, as the client knows it: the server refuses what Prolific refuses.
CATEGORIES = REJECTION_CATEGORIES
TRANSITIONS = {"APPROVE": "APPROVED", "REJECT": "REJECTED"}


class ApiError(Exception):
    """An answer other than 2xx, in Prolific's error shape."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # relative to /api/v1/, e.g. "submissions/s1/transition/"
    query: dict[str, list[str]]
    body: Any
    authorized: bool


@dataclass
class Hang:
    seconds: float
    carry_out: bool


@dataclass
class Payment:
    bulk_id: str
    participant: str
    submission: str
    amount: Decimal


@dataclass
class Faults:
    fail: dict[str, list[int]] = field(default_factory=dict)
    hang: dict[str, list[Hang]] = field(default_factory=dict)
    cut: dict[str, int] = field(default_factory=dict)


class ProlificServer:
    """The server and its state; the test reads the state and sets the faults."""

    def __init__(self, token: str = "test-prolific-token-3f9a1c77e2") -> None:
        self.token = token
        self.max_page_size = 100
        self.studies: dict[str, dict[str, Any]] = {}
        self.submissions: dict[str, dict[str, Any]] = {}
        self.bulk: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, set[str]] = {}
        self.messages: list[dict[str, Any]] = []
        self.payments: list[Payment] = []
        self.requests: list[Recorded] = []
        self.faults = Faults()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{PREFIX}"

    def start(self) -> None:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.app = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- state set-up and inspection ---------------------------------------------------

    def add_study(self, study_id: str, currency: str = "GBP") -> None:
        self.studies[study_id] = {"id": study_id, "currency_code": currency, "status": "ACTIVE"}

    def add_submission(
        self, study_id: str, participant: str, status: str = "AWAITING REVIEW"
    ) -> str:
        if study_id not in self.studies:
            self.add_study(study_id)
        submission_id = f"sub{next(self._ids):04d}"
        self.submissions[submission_id] = {
            "id": submission_id,
            "study_id": study_id,
            "participant": participant,
            "status": status,
            "started_at": "2026-12-07T10:00:00Z",
            "bonus_payments": [],
        }
        return submission_id

    def add_group(self, group_id: str, members: set[str] | None = None) -> None:
        self.groups[group_id] = set(members or ())

    def status(self, submission_id: str) -> str:
        return str(self.submissions[submission_id]["status"])

    def bonuses_paid(self, participant: str) -> list[Decimal]:
        """Every bonus amount paid to the participant, once per payment."""
        return [p.amount for p in self.payments if p.participant == participant]

    def members(self, group_id: str) -> set[str]:
        return set(self.groups[group_id])

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- faults ------------------------------------------------------------------------

    def fail_next(self, path: str, n: int = 1, status: int = 500) -> None:
        """The next n calls to path answer `status` and do nothing."""
        self.faults.fail.setdefault(path, []).extend([status] * n)

    def hang_next(self, path: str, seconds: float, *, carry_out: bool = True) -> None:
        """The next call to path answers only after `seconds`; carry_out says whether it is
        carried out first (then the late answer is a 200) or never (a late 504)."""
        self.faults.hang.setdefault(path, []).append(Hang(seconds, carry_out))

    def cut_after_next(self, path: str) -> None:
        """The next call to path is carried out, then the connection closes unanswered."""
        self.faults.cut[path] = self.faults.cut.get(path, 0) + 1

    def _take(self, path: str) -> tuple[int | None, Hang | None, bool]:
        with self._lock:
            fail = self.faults.fail.get(path)
            status = fail.pop(0) if fail else None
            hangs = self.faults.hang.get(path)
            hang = hangs.pop(0) if hangs and status is None else None
            cut = False
            if status is None and hang is None and self.faults.cut.get(path):
                self.faults.cut[path] -= 1
                cut = True
            return status, hang, cut

    # --- serving -----------------------------------------------------------------------

    def serve(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        path = parts.path[len(PREFIX) :] if parts.path.startswith(PREFIX) else parts.path
        query = parse_qs(parts.query)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        presented = handler.headers.get("Authorization", "")
        authorized = presented == f"Token {self.token}"
        with self._lock:
            self.requests.append(Recorded(handler.command, path, query, body, authorized))

        status, hang, cut = self._take(path)
        if status is not None:
            headers = {"Retry-After": "0"} if status == 429 else {}
            title = "Too Many Requests" if status == 429 else "Server Error"
            # Echoes the credential, as a careless proxy might: the client must scrub it.
            detail = f"injected fault; request had Authorization {presented!r}"
            self._send(handler, status, _error(status, title, detail), headers)
            return
        if hang is not None and not hang.carry_out:
            time.sleep(hang.seconds)
            self._send(handler, 504, _error(504, "Gateway Timeout", "upstream timed out"))
            return
        if not authorized:
            detail = f"Invalid token: {presented!r}" if presented else "No token given."
            self._send(handler, 401, _error(401, "Unauthorized", detail))
            return
        try:
            with self._lock:
                code, answer = self._route(handler.command, path, query, body)
        except ApiError as exc:
            code, answer = exc.status, _error(exc.status, exc.title, exc.detail)
        if cut:
            handler.close_connection = True
            return
        if hang is not None:
            time.sleep(hang.seconds)
        self._send(handler, code, answer)

    @staticmethod
    def _send(
        handler: _Handler, code: int, answer: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(answer).encode()
        try:
            handler.send_response(code)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up waiting

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if method == "GET" and path == "submissions/":
            return 200, self._list(query)
        if method == "POST" and path == "submissions/bonus-payments/":
            return 201, self._create_bonus(_object(body))
        if method == "POST" and path == "messages/":
            return 200, self._message(_object(body))
        study_id = _match(r"studies/([^/]+)/transition/", path)
        if method == "POST" and study_id:
            return 200, self._study_transition(study_id, _object(body))
        sub_id = _match(r"submissions/([^/]+)/", path)
        if method == "GET" and sub_id:
            return 200, self._detail(self._submission(sub_id))
        sub_id = _match(r"submissions/([^/]+)/transition/", path)
        if method == "POST" and sub_id:
            return 200, self._transition(sub_id, _object(body))
        bulk_id = _match(r"bulk-bonus-payments/([^/]+)/pay/", path)
        if method == "POST" and bulk_id:
            return 202, self._pay(bulk_id)
        group_id = _match(r"participant-groups/([^/]+)/participants/", path)
        if method in ("POST", "DELETE") and group_id:
            return 200, self._membership(method, group_id, _object(body))
        raise ApiError(404, "Not Found", f"No {method} endpoint at {path}")

    def _study_transition(self, study_id: str, body: dict[str, Any]) -> dict[str, Any]:
        study = self.studies.get(study_id)
        if study is None:
            raise ApiError(404, "Not Found", f"Study {study_id} not found.")
        action = body.get("action")
        states = {"PAUSE": "PAUSED", "START": "ACTIVE", "PUBLISH": "ACTIVE", "STOP": "COMPLETED"}
        if action not in states:
            raise ApiError(400, "Bad Request", f"Unknown action {action!r}.")
        study["status"] = states[str(action)]
        return dict(study)

    def _submission(self, submission_id: str) -> dict[str, Any]:
        try:
            return self.submissions[submission_id]
        except KeyError:
            raise ApiError(404, "Not Found", f"Submission {submission_id} not found") from None

    @staticmethod
    def _detail(sub: dict[str, Any]) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in sub.items()}

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        study = (query.get("study") or [""])[0]
        if not study:
            raise ApiError(400, "Bad Request", "A study id is required.")
        try:
            page = int((query.get("page") or ["1"])[0])
            size = min(int((query.get("page_size") or ["20"])[0]), self.max_page_size)
        except ValueError:
            raise ApiError(400, "Bad Request", "page and page_size are numbers.") from None
        if page < 1 or size < 1:
            raise ApiError(404, "Not Found", "Invalid page.")
        rows = [s for s in self.submissions.values() if s["study_id"] == study]
        chunk = rows[(page - 1) * size : page * size]
        last = max(1, -(-len(rows) // size))

        def link(n: int) -> str | None:
            if n < 1 or n > last:
                return None
            query = urlencode({"study": study, "page": n, "page_size": size})
            return f"{PREFIX}submissions/?{query}"

        return {
            "results": [
                {
                    "id": s["id"],
                    "participant_id": s["participant"],
                    "status": s["status"],
                    "study_id": s["study_id"],
                    "started_at": s["started_at"],
                }
                for s in chunk
            ],
            "_links": {
                "self": {"href": link(page), "title": "Current"},
                "next": {"href": link(page + 1), "title": "Next"},
                "previous": {"href": link(page - 1), "title": "Previous"},
                "last": {"href": link(last), "title": "Last"},
            },
            "meta": {"count": len(rows)},
        }

    def _transition(self, submission_id: str, body: dict[str, Any]) -> dict[str, Any]:
        sub = self._submission(submission_id)
        action = body.get("action")
        if action not in TRANSITIONS:
            raise ApiError(400, "Bad Request", f"Unsupported action {action!r}.")
        if action == "REJECT":
            message = body.get("message")
            if not isinstance(message, str) or len(message) < 100:
                raise ApiError(400, "Bad Request", "message must be at least 100 chars long.")
            if body.get("rejection_category") not in CATEGORIES:
                raise ApiError(400, "Bad Request", "rejection_category is not valid.")
        target = TRANSITIONS[action]
        if sub["status"] == target:
            return self._detail(sub)  # the same request twice: ignored
        if sub["status"] != "AWAITING REVIEW":
            raise ApiError(
                400, "Bad Request", f"Cannot {action} a submission in status {sub['status']}."
            )
        sub["status"] = target
        if action == "REJECT":
            sub["rejection"] = {
                "message": body["message"],
                "category": body["rejection_category"],
            }
        return self._detail(sub)

    def _create_bonus(self, body: dict[str, Any]) -> dict[str, Any]:
        study = body.get("study_id")
        csv = body.get("csv_bonuses")
        if not isinstance(study, str) or study not in self.studies:
            raise ApiError(400, "Bad Request", f"Unknown study {study!r}.")
        if not isinstance(csv, str) or not csv.strip():
            raise ApiError(400, "Bad Request", "csv_bonuses is required.")
        rows: list[tuple[str, str, Decimal]] = []
        wrong: list[str] = []
        for line in csv.strip().splitlines():
            ident, _, amount_text = line.strip().partition(",")
            try:
                amount = Decimal(amount_text)
            except InvalidOperation:
                raise ApiError(400, "Bad Request", f"Bad amount in {line!r}.") from None
            if amount <= 0:
                raise ApiError(400, "Bad Request", f"Bad amount in {line!r}.")
            match = [
                s
                for s in self.submissions.values()
                if s["study_id"] == study and ident in (s["id"], s["participant"])
            ]
            if not match:
                wrong.append(ident)
                continue
            rows.append((match[0]["participant"], match[0]["id"], amount))
        if wrong:
            raise ApiError(400, "Bad Request", f"Not in this study: {', '.join(wrong)}.")
        bulk_id = f"bulk{next(self._ids):04d}"
        cents = sum(int(a * 100) for _, _, a in rows)
        fees = cents // 3
        self.bulk[bulk_id] = {"study": study, "rows": rows, "times_paid": 0}
        return {
            "id": bulk_id,
            "study": study,
            "amount": cents,
            "fees": fees,
            "total_amount": cents + fees,
        }

    def _pay(self, bulk_id: str) -> dict[str, Any]:
        bulk = self.bulk.get(bulk_id)
        if bulk is None:
            raise ApiError(404, "Not Found", f"Bulk bonus payment {bulk_id} not found.")
        bulk["times_paid"] += 1  # not idempotent: each call pays again
        for participant, submission_id, amount in bulk["rows"]:
            self.submissions[submission_id]["bonus_payments"].append(int(amount * 100))
            self.payments.append(Payment(bulk_id, participant, submission_id, amount))
        return {}

    def _membership(self, method: str, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if group_id not in self.groups:
            raise ApiError(404, "Not Found", f"Participant group {group_id} not found.")
        ids = body.get("participant_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "Bad Request", "participant_ids must be a list of ids.")
        if method == "POST":
            self.groups[group_id].update(ids)
        else:
            self.groups[group_id].difference_update(ids)
        return {"results": [{"participant_id": p} for p in sorted(self.groups[group_id])]}

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        for name in ("recipient_id", "body", "study_id"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise ApiError(400, "Bad Request", f"{name} is required.")
        self.messages.append(
            {
                "recipient_id": body["recipient_id"],
                "body": body["body"],
                "study_id": body["study_id"],
            }
        )
        return {}


def _match(pattern: str, path: str) -> str:
    found = re.fullmatch(pattern, path)
    return found[1] if found else ""


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Bad Request", "A JSON object is expected.")
    return body


def _error(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"error": {"status": status, "title": title, "detail": detail}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects from an API

    def _app(self) -> ProlificServer:
        return self.server.app  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._app().serve(self)

    def do_POST(self) -> None:
        self._app().serve(self)

    def do_DELETE(self) -> None:
        self._app().serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are recorded on the server object instead


@pytest.fixture
def prolific_server() -> Iterator[ProlificServer]:
    """A fresh Prolific stand-in on a free 127.0.0.1 port for one test."""
    server = ProlificServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
