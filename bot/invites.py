"""Invite codes: short, unambiguous, stored only as a keyed hash.

Stdlib only: the Rasa NLU component imports this module too.
"""

from __future__ import annotations

import re
import secrets

from bot.pseudonym import keyed_hash

# No 0/O, 1/I/L: easy to read aloud and to type for a child.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(code: str) -> str:
    """Accept lower case, spaces and dashes: 'k7mp q2xr' == 'K7MP-Q2XR'."""
    return re.sub(r"[^0-9A-Za-z]", "", code).upper()


def looks_like_code(code: str) -> bool:
    norm = normalise(code)
    return len(norm) == CODE_LENGTH and all(c in ALPHABET for c in norm)


def code_hash(secret: str, code: str) -> str:
    return keyed_hash(secret, "invite:" + normalise(code))
