"""核验码 and 数据摘要: random, unguessable codes short enough to type, and the digest of the printed figures."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

#: 31 symbols without the look-alikes 0/O, 1/I/L: 12 symbols carry about 59 random bits.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
GROUP = 4


def new_code() -> str:
    """A fresh code: 12 symbols from a 31-symbol alphabet (≈ 59 bits), from the OS's secure generator."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    """``ABCD-EFGH-JKMN``: easier to read aloud and to type."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise(text: str) -> str | None:
    """What a person typed → the stored code, or ``None`` when it cannot be one (wrong length or symbols).

    Case, spaces and dashes are ignored; the look-alikes O→0… are not in the alphabet, so a typed ``O`` or
    ``I`` is refused rather than guessed."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch not in " -_\u3000")
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def digest(figures: Any) -> str:
    """SHA-256 of the printed figures in a canonical JSON form (Decimals and dates as text)."""
    text = json.dumps(figures, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
