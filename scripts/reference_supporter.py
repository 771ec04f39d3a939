"""A reference model server for the supporter contract (docs/evaluation.md, "The HTTP contract").

    python scripts/reference_supporter.py --port 8765 [--host 127.0.0.1] [--delay SECONDS] \\
        [--fail-first N]

It answers every valid POST with a kind, generic supporter message picked by a few fixed rules
from the seeker's last turn (or with the request's strategy, when it gives one), so the same
request always gets the same reply. A bad request gets 400 and {"error": ...}; `--delay` waits
before each answer and `--fail-first N` answers 500 to the first N requests, for testing a
caller's timeouts and retries. Only the standard library and the contract module are used: a lab
can start from this file and put its model where `choose_reply` is.

Tests import it and call `make_server(host, 0)` to run it on a free port in a thread.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.backends.contract import (
    BackendError,
    SupporterRequest,
    validate_reply,
)

MAX_REQUEST_BYTES = 1024 * 1024
SHORT_WORDS = 6

# One message per strategy; `choose_reply` only decides which.
MESSAGES = {
    "Question": "Could you tell me a little more about what has been happening?",
    "Restatement or Paraphrasing": (
        "If I understand you correctly, a lot has been going on and it has been weighing on you."
    ),
    "Reflection of feelings": (
        "It sounds like you are feeling {feeling}, and that is a heavy thing to carry."
    ),
    "Self-disclosure": (
        "I have been through something similar, and I remember how hard it was to see a way out."
    ),
    "Affirmation and Reassurance": (
        "You are doing the right thing by talking about it. It takes courage, "
        "and you are not alone."
    ),
    "Providing Suggestions": (
        "Maybe you could try one small step at a time, like writing down what worries you most "
        "and sharing it with someone you trust."
    ),
    "Information": (
        "Many people go through feelings like these, and talking about them often makes them "
        "easier to manage."
    ),
    "Others": "Thank you for talking with me. I hope the rest of your day is gentle with you.",
}
OPENING = "Hello, I am glad you are here. What would you like to talk about today?"
FEELINGS = re.compile(
    r"\b(sad|lonely|alone|anxious|anxiety|depressed|stressed|scared|afraid|angry|upset|hurt|"
    r"worried|tired|overwhelmed|hopeless|frustrated|nervous|ashamed|guilty)\b",
    re.IGNORECASE,
)
THANKS = re.compile(r"\b(thanks|thank you|bye|goodbye)\b", re.IGNORECASE)
ASKS = re.compile(r"\b(what should i|what can i|how can i|how do i|any advice|should i)\b", re.I)


def choose_reply(request: SupporterRequest) -> dict[str, str]:
    """The reply, by rules on the seeker's last turn; the request's strategy wins when given."""
    seeker = [turn.text for turn in request.dialog if turn.speaker == "seeker"]
    last = seeker[-1] if seeker else ""
    feeling = FEELINGS.search(last)
    if request.strategy is not None:
        strategy = request.strategy
    elif not seeker:
        return {"strategy": "Question", "text": OPENING}
    elif THANKS.search(last):
        strategy = "Others"
    elif ASKS.search(last):
        strategy = "Providing Suggestions"
    elif feeling:
        strategy = "Reflection of feelings"
    elif len(last.split()) <= SHORT_WORDS:
        strategy = "Question"
    else:
        strategy = "Restatement or Paraphrasing"
    # The feeling word comes from the fixed list above, so no other text of the seeker's is echoed.
    word = feeling.group(1).lower() if feeling else "this way"
    return {"strategy": strategy, "text": MESSAGES[strategy].format(feeling=word)}


class SupporterHandler(BaseHTTPRequestHandler):
    """POST any path: the contract's request in, a reply (or an error) out."""

    server: ReferenceServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        try:
            body = self._body()
        except ValueError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        if self.server.should_fail():
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "failing on purpose"})
            return
        try:
            request = SupporterRequest.from_json(_decode(body))
        except BackendError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": exc.message})
            return
        reply = choose_reply(request)
        validate_reply(reply)  # our own answer keeps the contract, or this fails loudly
        if self.server.delay:
            time.sleep(self.server.delay)
        self._send(HTTPStatus.OK, reply)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_REQUEST_BYTES:
            raise ValueError(f"the body must be 1 to {MAX_REQUEST_BYTES} bytes of JSON")
        return self.rfile.read(length)

    def _send(self, status: HTTPStatus, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet by default: a request line is harmless, but tests would drown in them.
        if self.server.verbose:
            super().log_message(format, *args)


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BackendError("bad_request", "the body is not JSON (UTF-8)") from None


class ReferenceServer(ThreadingHTTPServer):
    """The server, with its options and the count of requests still to fail."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], delay: float, fail_first: int) -> None:
        super().__init__(address, SupporterHandler)
        self.delay = delay
        self.verbose = False
        self._failures_left = fail_first
        self._lock = threading.Lock()

    def should_fail(self) -> bool:
        with self._lock:
            if self._failures_left <= 0:
                return False
            self._failures_left -= 1
            return True


def make_server(
    host: str, port: int, delay: float = 0.0, fail_first: int = 0
) -> ThreadingHTTPServer:
    """A server bound to (host, port), not yet serving; port 0 picks a free one."""
    return ReferenceServer((host, port), delay=delay, fail_first=fail_first)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before a reply")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 500 to the first N")
    args = parser.parse_args(argv)
    if args.delay < 0 or args.fail_first < 0:
        parser.error("--delay and --fail-first must not be negative")
    server = make_server(args.host, args.port, delay=args.delay, fail_first=args.fail_first)
    server.verbose = True  # type: ignore[attr-defined]
    host, port = server.server_address[:2]
    print(f"reference supporter on http://{host!s}:{port} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
