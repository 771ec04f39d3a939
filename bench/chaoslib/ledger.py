"""What the clients saw: every message composed, what became of it, and per-phase counters.

A message belongs to the phase in which it was composed; connection events (closes,
reconnects, error frames) to the phase in which they happened.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

Key = tuple[int, str]  # (conversation id, client message id)


@dataclass
class Message:
    conversation_id: int
    client_id: str
    author: str
    phase: str
    composed_at: float
    attempts: int = 0  # frames handed to an open socket (first send and resends)
    retryable_errors: int = 0
    acked_seq: int | None = None
    echoed: int = 0
    refused: str | None = None
    shown_seqs: list[int] = field(default_factory=list)  # the partner's screen, one per seq
    shown_at: float | None = None

    @property
    def shown(self) -> int:
        return len(self.shown_seqs)


@dataclass
class PhaseStats:
    reconnect_s: list[float] = field(default_factory=list)  # socket lost → next hello
    hello_s: list[float] = field(default_factory=list)  # the last attempt alone: dial → hello
    closes: Counter[str] = field(default_factory=Counter)
    connect_failures: int = 0
    retryable_errors: int = 0
    other_errors: Counter[str] = field(default_factory=Counter)
    redundant_frames: int = 0  # a message frame for a seq the page had already shown
    resends: int = 0


@dataclass
class Ledger:
    started_at: float = field(default_factory=time.monotonic)
    phase: str = "setup"
    messages: dict[Key, Message] = field(default_factory=dict)
    stats: defaultdict[str, PhaseStats] = field(default_factory=lambda: defaultdict(PhaseStats))
    unexpected: int = 0  # message frames with an id no client composed

    @property
    def now_stats(self) -> PhaseStats:
        return self.stats[self.phase]

    def clock(self) -> float:
        """Seconds since the bench started: the time line of the explanations."""
        return time.monotonic() - self.started_at

    def composed(self, conversation_id: int, client_id: str, author: str) -> None:
        key = (conversation_id, client_id)
        self.messages[key] = Message(conversation_id, client_id, author, self.phase, self.clock())

    def attempted(self, conversation_id: int, client_id: str) -> None:
        message = self.messages.get((conversation_id, client_id))
        if message is not None:
            message.attempts += 1
            if message.attempts > 1:
                self.now_stats.resends += 1

    def acked(self, conversation_id: int, client_id: str, seq: object) -> None:
        message = self.messages.get((conversation_id, client_id))
        if message is not None and isinstance(seq, int):
            message.acked_seq = seq

    def echoed(self, conversation_id: int, client_id: str) -> None:
        message = self.messages.get((conversation_id, client_id))
        if message is not None:
            message.echoed += 1

    def shown(self, conversation_id: int, client_id: str, seq: int) -> None:
        """The partner's page rendered this message (under a seq it had not shown before)."""
        message = self.messages.get((conversation_id, client_id))
        if message is None:
            self.unexpected += 1
            return
        message.shown_seqs.append(seq)
        if message.shown_at is None:
            message.shown_at = self.clock()

    def retryable(self, conversation_id: int, client_id: object) -> None:
        self.now_stats.retryable_errors += 1
        message = self.messages.get((conversation_id, str(client_id)))
        if message is not None:
            message.retryable_errors += 1

    def refused(self, conversation_id: int, client_id: str, code: str) -> None:
        message = self.messages.get((conversation_id, client_id))
        if message is not None:
            message.refused = code

    def undelivered(self) -> list[Message]:
        """Messages the partner has not shown yet."""
        return [m for m in self.messages.values() if m.shown == 0 and m.refused is None]
