"""The HTTP backend: one POST of the contract's JSON to a lab's model server per reply.

The standard library's http.client is used (httpx is only a development requirement here).
`timeout_seconds` bounds the whole attempt, not each socket wait: every wait is given only what
is left of it, and the deadline is checked between reads, so a server that trickles its answer
a byte at a time still times out. Name resolution is the one step the deadline cannot cut
short. One attempt per call: the live chat decides when to try again.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from urllib.parse import urlsplit

from evaluation.backends.contract import BackendError, Reply, SupporterRequest, validate_reply

# A reply is at most 2,000 characters; a body a hundred times that is not a reply.
MAX_BODY_BYTES = 256 * 1024
_READ_SIZE = 16 * 1024


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; a BackendError("timeout") once there are none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise BackendError("timeout", f"no complete answer within {self.seconds:g} s")
        return left


class HttpBackend:
    """Posts `SupporterRequest.to_json()` to `url`; expects 200 and {"strategy", "text"}."""

    def __init__(self, url: str, timeout_seconds: float) -> None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (urlsplit checks the port only when it is read)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendError("bad_request", "the backend's url must be an http(s) URL")
        self.url = url
        self.timeout_seconds = timeout_seconds
        self._parts = parts

    def reply(self, request: SupporterRequest) -> Reply:
        body = json.dumps(request.to_json()).encode("utf-8")
        deadline = _Deadline(self.timeout_seconds)
        try:
            status, data = self._post(body, deadline)
        except BackendError:
            raise
        except TimeoutError:
            raise BackendError(
                "timeout", f"no complete answer within {self.timeout_seconds:g} s"
            ) from None
        except (OSError, http.client.RemoteDisconnected) as exc:
            raise BackendError("unreachable", f"{self._where()}: {type(exc).__name__}") from None
        except http.client.HTTPException as exc:
            # Something answered, but not in HTTP: a wrong port or a broken proxy.
            raise BackendError("bad_status", f"{self._where()}: {type(exc).__name__}") from None
        if status != 200:
            raise BackendError("bad_status", f"{self._where()} answered HTTP {status}")
        return validate_reply(_decode(data))

    def _where(self) -> str:
        # Scheme, host and port only: a URL's path or query may carry a lab's token.
        return f"{self._parts.scheme}://{self._parts.netloc.rpartition('@')[2]}"

    def _connection(self, deadline: _Deadline) -> http.client.HTTPConnection:
        host, port = self._parts.hostname or "", self._parts.port
        if self._parts.scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=deadline.left(), context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(host, port, timeout=deadline.left())

    def _post(self, body: bytes, deadline: _Deadline) -> tuple[int, bytes]:
        """One POST; the status and the body, read within what is left of the deadline."""
        path = self._parts.path or "/"
        if self._parts.query:
            path += "?" + self._parts.query
        connection = self._connection(deadline)
        try:
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            connection.request("POST", path, body=body, headers=headers)
            # Kept: the connection lets go of its socket once the answer says it will close it.
            sock = connection.sock
            _give(sock, deadline)
            response = connection.getresponse()
            chunks: list[bytes] = []
            size = 0
            while chunk := _read(response, sock, deadline):
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BackendError("bad_reply", f"the answer is over {MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
            return response.status, b"".join(chunks)
        finally:
            connection.close()


def _give(sock: socket.socket | None, deadline: _Deadline) -> None:
    """Let the socket's next wait last only what is left of the attempt."""
    if sock is not None:
        sock.settimeout(deadline.left())


def _read(
    response: http.client.HTTPResponse, sock: socket.socket | None, deadline: _Deadline
) -> bytes:
    _give(sock, deadline)
    return response.read1(_READ_SIZE)


def _decode(data: bytes) -> object:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BackendError("bad_json", "the answer is not JSON (UTF-8)") from None
