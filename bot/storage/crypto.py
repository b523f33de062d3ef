"""Encryption of free text at rest.

Children's words are stored only as Fernet tokens. `MultiFernet` lets us rotate keys:
the first key encrypts, every listed key decrypts, and `rotate_all` (CLI
`python -m bot rotate-keys`) re-encrypts old rows under the first key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class Cipher:
    def __init__(self, keys: tuple[str, ...] | list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong or missing key") from exc

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")


class _CipherHolder:
    """The process-wide cipher, set by `bot.storage.db.make_engine` at start-up.

    SQLAlchemy column types are created at import time, so they cannot receive the key
    as an argument; they look it up here when a value is bound or loaded.
    """

    cipher: Cipher | None = None


def set_cipher(cipher: Cipher) -> None:
    _CipherHolder.cipher = cipher


def get_cipher() -> Cipher:
    if _CipherHolder.cipher is None:
        raise RuntimeError("no cipher configured: call bot.storage.db.make_engine first")
    return _CipherHolder.cipher
