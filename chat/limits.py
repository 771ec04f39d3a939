"""Caps on what one chat websocket, and one worker, may do (docs/protocol.md, "Limits").

- `FrameBudget`: a token bucket per socket. It holds CHAT_MAX_FRAMES_BURST frames and refills
  CHAT_MAX_FRAMES_PER_SECOND a second; a frame that finds it empty is dropped (`rate_limited`).
- `claim_socket_slot` / `release_socket_slot`: at most CHAT_MAX_SOCKETS_PER_WORKER open sockets
  per worker, across every server process. Each open socket holds one numbered slot key in the
  Django cache (`add` is atomic there, locmem and Redis alike). A slot expires SLOT_SECONDS
  after it was last refreshed, so a process that died cannot lock a worker out for longer.
- Typing frames: at most one relayed per socket every CHAT_TYPING_RELAY_SECONDS.

The cache is a guard, not a record: when it fails, the socket is let in (and logged).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from chat.errors import INFRASTRUCTURE_ERRORS

logger = logging.getLogger(__name__)

# How long a slot outlives its socket's last sign of life; refreshed at a third of it.
SLOT_SECONDS = 90
SLOT_REFRESH_SECONDS = SLOT_SECONDS / 3


class FrameBudget:
    """A token bucket: `burst` frames at once, then `per_second` frames a second."""

    def __init__(self, burst: int, per_second: float) -> None:
        self.burst = float(burst)
        self.per_second = float(per_second)
        self.tokens = float(burst)
        self.checked_at = time.monotonic()

    @classmethod
    def from_settings(cls) -> FrameBudget:
        return cls(settings.CHAT_MAX_FRAMES_BURST, settings.CHAT_MAX_FRAMES_PER_SECOND)

    def take(self) -> bool:
        """Spend one frame's token; False when none is left (the frame is to be dropped)."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.checked_at) * self.per_second)
        self.checked_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class TypingGate:
    """Lets one typing frame through per CHAT_TYPING_RELAY_SECONDS; the rest are dropped."""

    def __init__(self) -> None:
        self.passed_at: float | None = None

    def open(self) -> bool:
        now = time.monotonic()
        if self.passed_at is not None and now - self.passed_at < settings.CHAT_TYPING_RELAY_SECONDS:
            return False
        self.passed_at = now
        return True


def _slot_key(worker_id: int, slot: int) -> str:
    return f"chat:socket-slot:{worker_id}:{slot}"


def claim_socket_slot(worker_id: int, owner: str) -> str | None:
    """The cache key of a free slot now held by `owner` (a channel name); None when all taken.

    Also "" when the cache failed: the socket goes ahead without a slot.
    """
    try:
        for slot in range(settings.CHAT_MAX_SOCKETS_PER_WORKER):
            key = _slot_key(worker_id, slot)
            if cache.add(key, owner, timeout=SLOT_SECONDS):
                return key
    except INFRASTRUCTURE_ERRORS:
        logger.warning("socket slots unavailable; letting the socket in", exc_info=True)
        return ""
    return None


def refresh_socket_slot(key: str, owner: str) -> None:
    """Keep a live socket's slot from expiring (taking it back if it had expired meanwhile)."""
    if not key:
        return
    try:
        if not cache.touch(key, timeout=SLOT_SECONDS):
            cache.add(key, owner, timeout=SLOT_SECONDS)
    except INFRASTRUCTURE_ERRORS:
        logger.warning("could not refresh a socket slot", exc_info=True)


def release_socket_slot(key: str, owner: str) -> None:
    """Free the slot when its socket closes (unless it expired and another socket took it)."""
    if not key:
        return
    try:
        if cache.get(key) == owner:
            cache.delete(key)
    except INFRASTRUCTURE_ERRORS:
        logger.warning("could not release a socket slot", exc_info=True)
