"""Unpredictable branches, tags and Call-IDs for real traffic (RFC 3261 §8.1.1)."""

from __future__ import annotations

import secrets


class RandomIds:
    """An :class:`sipstack.events.IdFactory` backed by the OS random source."""

    def __init__(self, host: str = "sipstack") -> None:
        self._host = host

    def branch(self) -> str:
        return "z9hG4bK" + secrets.token_hex(8)

    def tag(self) -> str:
        return secrets.token_hex(6)

    def call_id(self) -> str:
        return f"{secrets.token_hex(10)}@{self._host}"
