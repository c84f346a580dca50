"""Tenant token kinds and how tokens are stored: only their SHA-256, never the token."""
from __future__ import annotations

import hashlib
from typing import Final, Literal

Kind = Literal["management", "execution"]
MANAGEMENT: Final = "management"
EXECUTION: Final = "execution"
KINDS = frozenset({MANAGEMENT, EXECUTION})


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
