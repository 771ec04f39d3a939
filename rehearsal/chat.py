"""A simulated worker's side of a chat, over the websocket protocol the chat page speaks.

It connects as the page does (the session cookie, the site's Origin, `heartbeat=1` with a
`ping` every few seconds), takes its turn when its partner has written (the supporter opens),
and writes each message as a person types it: for as long as the text takes at the run's
typing speed, sending `typing` frames every two seconds meanwhile, then the message with its
`compose` object. The supporter labels every message with a strategy; the seeker rates every
prompt and, once the chat may end (`can_end`), ends it as finished. docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.typing import Origin

from rehearsal import script
from rehearsal.browser import Browser, StepFailed

PING_SECONDS = 4.0
TYPING_FRAME_SECONDS = 2.0
HUMAN_PAUSE = (0.4, 1.2)  # seconds a person takes before starting to reply, or to rate


@dataclass
class ChatOutcome:
    sent: int = 0
    ratings: int = 0
    warnings: list[str] = field(default_factory=list)
    next_url: str = ""
    end_reason: str = ""


class ChatSide:
    def __init__(
        self,
        browser: Browser,
        role: str,
        ws_path: str,
        *,
        seed: str,
        chars_per_second: float,
        partner_wait_seconds: float,
    ) -> None:
        self.browser = browser
        self.role = role
        self.url = f"{browser.ws_base}{ws_path}?heartbeat=1"
        self.seed = seed
        self.rng = random.Random(seed)
        self.cps = chars_per_second
        self.partner_wait = partner_wait_seconds
        self.outcome = ChatOutcome()
        self.ws: ClientConnection | None = None
        self.last_speaker = ""
        self.can_end = False
        self.changed = asyncio.Event()
        self.hello = asyncio.Event()
        self.acks: dict[str, asyncio.Future[int]] = {}
        self.prompts: list[int] = []
        self.ended: dict[str, Any] | None = None
        self.failure = ""

    async def run(self) -> ChatOutcome:
        headers = {"Cookie": self.browser.cookie_header()}
        origin = Origin(self.browser.origin)
        try:
            async with connect(
                self.url, origin=origin, additional_headers=headers, open_timeout=15
            ) as ws:
                self.ws = ws
                tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]
                try:
                    await self._converse()
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
        except (InvalidStatus, WebSocketException, OSError) as exc:
            if self.ended is None:
                raise StepFailed(f"chat socket: {type(exc).__name__}: {exc}") from None
        assert self.ended is not None
        self.outcome.next_url = str(self.ended.get("next_url", ""))
        self.outcome.end_reason = str(self.ended.get("reason", ""))
        return self.outcome

    async def _send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            await self._send({"type": "ping"})

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                self._receive(json.loads(raw))
        except ConnectionClosed as exc:
            if self.ended is None:
                self.failure = (
                    f"the server closed the chat socket ({exc.rcvd.code if exc.rcvd else '?'})"
                )
        self.changed.set()

    def _receive(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "hello":
            self.can_end = bool(frame.get("can_end"))
            if frame.get("pending_feedback_prompt"):
                self.prompts.append(int(frame["pending_feedback_prompt"]))
            self.hello.set()
        elif kind == "message":
            self.last_speaker = str(frame.get("speaker", ""))
            status = frame.get("status")
            if isinstance(status, dict):
                self.can_end = bool(status.get("can_end"))
        elif kind == "ack":
            future = self.acks.get(str(frame.get("id")))
            if future is not None and not future.done():
                future.set_result(int(frame.get("seq", 0)))
        elif kind == "feedback_request":
            self.prompts = [int(frame["prompt"])]
        elif kind == "feedback_ack":
            self.outcome.ratings += 1
        elif kind == "warning":
            self.outcome.warnings.append(str(frame.get("code")))
        elif kind == "ended":
            self.ended = frame
        elif kind == "error":
            self._refused(frame)
        self.changed.set()

    def _refused(self, frame: dict[str, Any]) -> None:
        ref = frame.get("ref")
        future = self.acks.get(str(ref)) if ref is not None else None
        if frame.get("retryable"):
            if future is not None and not future.done():
                future.set_exception(_Retry())
            return
        message = f"the server refused a frame: {frame.get('code')} ({frame.get('message')})"
        if future is not None and not future.done():
            future.set_exception(StepFailed(message))
        elif frame.get("code") != "ended":
            self.failure = message

    def _my_turn(self) -> bool:
        if self.last_speaker == "":
            return self.role == "supporter"
        return self.last_speaker != self.role

    async def _converse(self) -> None:
        await asyncio.wait_for(self.hello.wait(), timeout=15)
        while self.ended is None:
            if self.failure:
                raise StepFailed(self.failure)
            if self.role == "seeker" and self.prompts:
                await self._rate(self.prompts.pop())
                continue
            if self._my_turn():
                if self.role == "seeker" and self.can_end:
                    await self._send({"type": "end", "reason": "finished"})
                    await self._until(lambda: self.ended is not None, 15, "the chat to end")
                    return
                await self._write()
                continue
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=self.partner_wait)
            except TimeoutError:
                raise StepFailed(
                    f"the partner wrote nothing for {self.partner_wait:.0f} s"
                ) from None

    async def _until(self, condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.failure:
                raise StepFailed(self.failure)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StepFailed(f"waited {timeout:.0f} s for {what}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=remaining)

    async def _rate(self, prompt: int) -> None:
        await asyncio.sleep(self.rng.uniform(*HUMAN_PAUSE))
        before = self.outcome.ratings
        await self._send({"type": "feedback", "prompt": prompt, "score": self.rng.randint(3, 5)})
        await self._until(
            lambda: self.outcome.ratings > before or bool(self.prompts),
            15,
            "a rating's acknowledgement",
        )

    async def _write(self) -> None:
        turn = self.outcome.sent
        message_id = f"{self.seed}-{turn}"
        frame: dict[str, Any] = {"type": "message", "id": message_id}
        if self.role == "supporter":
            frame["text"], frame["strategy"] = script.supporter_line(turn, message_id)
        else:
            frame["text"] = script.seeker_line(turn, message_id)
        await asyncio.sleep(self.rng.uniform(*HUMAN_PAUSE))
        frame["compose"] = await self._type(str(frame["text"]))
        for _attempt in range(5):
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self.acks[message_id] = future
            await self._send(frame)
            try:
                await asyncio.wait_for(future, timeout=15)
                break
            except _Retry:
                await asyncio.sleep(1.0)
            except TimeoutError:
                raise StepFailed(f"message {turn + 1} was not acknowledged within 15 s") from None
        else:
            raise StepFailed(f"message {turn + 1} was refused as unavailable five times")
        self.outcome.sent += 1
        self.last_speaker = self.role

    async def _type(self, text: str) -> dict[str, Any]:
        """Take as long as a person typing `text`; the page's composition data of it."""
        deleted = self.rng.randint(0, max(1, len(text) // 25))
        typed = len(text) + deleted
        seconds = typed / self.cps * self.rng.uniform(0.9, 1.15)
        started = time.monotonic()
        while (left := seconds - (time.monotonic() - started)) > 0:
            await self._send({"type": "typing"})
            await asyncio.sleep(min(TYPING_FRAME_SECONDS, left))
        ms = int((time.monotonic() - started) * 1000)
        return {
            "ms": ms,
            "inputs": typed,
            "typed": typed,
            "pasted": 0,
            "pastes": 0,
            "deleted": deleted,
            "blurs": 0,
            "since_focus_ms": None,
        }


class _Retry(Exception):
    """The server answered `unavailable` / `rate_limited`: send the same frame again."""
