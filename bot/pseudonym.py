"""Keyed hashes: stable pseudonyms for invite codes and chat ids (stdlib only)."""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(secret: str, value: str) -> str:
    """A stable, non-reversible pseudonym (HMAC-SHA256)."""
    return hmac.new(secret.encode(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def sender_hash(secret: str, sender_id: str) -> str:
    return keyed_hash(secret, "sender:" + sender_id)
