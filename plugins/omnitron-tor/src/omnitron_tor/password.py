"""tor's ``HashedControlPassword``: the salted, iterated S2K of RFC 2440 that ``tor --hash-password`` prints.

The salt is derived from the password (HMAC), so the same password always
gives the same line: the rendered config, and with it the container, only
changes when the password does. The password is 32 random characters from the
secret store, which no dictionary holds; the hash alone does not reveal it.
"""

from __future__ import annotations

import hashlib
import hmac

INDICATOR = 0x60
"""tor's default work factor: 65536 bytes hashed."""


def s2k(password: str, salt: bytes, indicator: int = INDICATOR) -> bytes:
    """The RFC 2440 iterated and salted SHA-1 digest tor uses."""
    count = (16 + (indicator & 15)) << ((indicator >> 4) + 6)
    data = salt + password.encode()
    full, rest = divmod(count, len(data))
    return hashlib.sha1(data * full + data[:rest]).digest()


def hashed_control_password(password: str) -> str:
    """``16:<hex>``, as ``tor --hash-password PASSWORD`` writes it (with a salt of its own)."""
    salt = hmac.new(password.encode(), b"omnitron tor control salt", hashlib.sha256).digest()[:8]
    return "16:" + (salt + bytes([INDICATOR]) + s2k(password, salt)).hex().upper()
