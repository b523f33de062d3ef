"""Signed, timed cookie values with itsdangerous.

The purpose ("session", "code", ...) is the signer's salt, so a value signed for one purpose
cannot be replayed as another. `now` exists for tests of expiry.
"""

from __future__ import annotations

import hashlib
import time
from typing import Literal

from itsdangerous import BadSignature, TimestampSigner
from starlette.responses import Response

MAX_SIGNED_LENGTH = 512


class _Signer(TimestampSigner):
    def __init__(self, secret: str, purpose: str, now: float | None) -> None:
        super().__init__(secret, salt=f"mijnstem.{purpose}", digest_method=hashlib.sha256)
        self._now = now

    def get_timestamp(self) -> int:
        return int(time.time() if self._now is None else self._now)


def sign(secret: str, purpose: str, value: str, *, now: float | None = None) -> str:
    if not value or "." in value:
        raise ValueError("a signed value must be non-empty and contain no '.'")
    return _Signer(secret, purpose, now).sign(value).decode("ascii")


def set_signed_cookie(
    response: Response,
    name: str,
    *,
    secret: str,
    purpose: str,
    value: str,
    max_age: int,
    samesite: Literal["lax", "strict"],
) -> None:
    """Every cookie of ours: `__Host-` shaped (Secure, Path=/, no Domain), HttpOnly, and
    its value signed for `purpose`."""
    response.set_cookie(
        name,
        sign(secret, purpose, value),
        max_age=max_age,
        path="/",
        httponly=True,
        secure=True,
        samesite=samesite,
    )


def unsign(
    secret: str, purpose: str, signed: str | None, *, max_age: float, now: float | None = None
) -> str | None:
    """The value, or None when the signature is wrong, the format is off or it is too old
    (or issued more than a minute in the future)."""
    if not signed or len(signed) > MAX_SIGNED_LENGTH:
        return None
    signer = _Signer(secret, purpose, now)
    try:
        value, issued = signer.unsign(signed, max_age=int(max_age), return_timestamp=True)
    except (BadSignature, ValueError):
        return None
    current = time.time() if now is None else now
    if issued.timestamp() > current + 60:
        return None
    return value.decode("utf-8")
