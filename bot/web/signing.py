"""Signed cookie values with the stdlib (what itsdangerous would do, without the package).

A value is sent as `value.timestamp.signature`; the HMAC-SHA256 signature covers a purpose
string as well, so a cookie made for one purpose cannot be replayed as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def _signature(secret: str, purpose: str, value: str, issued: int) -> str:
    mac = hmac.new(secret.encode(), f"{purpose}|{value}|{issued}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def sign(secret: str, purpose: str, value: str, *, now: float | None = None) -> str:
    if "." in value or not value:
        raise ValueError("a signed value must be non-empty and contain no '.'")
    issued = int(time.time() if now is None else now)
    return f"{value}.{issued}.{_signature(secret, purpose, value, issued)}"


def unsign(
    secret: str, purpose: str, signed: str | None, *, max_age: float, now: float | None = None
) -> str | None:
    """The value, or None when the signature is wrong, the format is off or it is too old."""
    if not signed or len(signed) > 512:
        return None
    parts = signed.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit():
        return None
    value, issued_raw, signature = parts
    issued = int(issued_raw)
    expected = _signature(secret, purpose, value, issued)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    current = time.time() if now is None else now
    if issued > current + 60 or current - issued > max_age:
        return None
    return value
