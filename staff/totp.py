"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), for the second factor of
staff who may move money (docs/staff-security.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after are accepted too: phones' clocks drift.
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random 160-bit key, in base32 without padding (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)


def code_at(secret: str, step: int) -> str:
    """HOTP of the step: HMAC-SHA1, dynamic truncation, DIGITS digits."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, *, after: int, now: float | None = None) -> int | None:
    """The step `code` is good for, near now and later than `after` (a code is used once)."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    step = current_step(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if candidate > after and hmac.compare_digest(code_at(secret, candidate), code):
            return candidate
    return None


def provisioning_uri(secret: str, account: str, issuer: str = "ESC Platform") -> str:
    """The otpauth:// link an authenticator app reads (as a QR code or pasted)."""
    label = quote(f"{issuer}:{account}")
    fields = {"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP_SECONDS}
    query = urlencode(fields)
    return f"otpauth://totp/{label}?{query}"
