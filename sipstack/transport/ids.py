"""Unpredictable branches, tags and Call-IDs for real traffic (RFC 3261 §8.1.1)."""

from __future__ import annotations

import os

POOL = 4096  # random bytes drawn from the OS at a time


class RandomIds:
    """An :class:`sipstack.events.IdFactory` backed by the OS random source.

    Bytes come from ``os.urandom`` in blocks of :data:`POOL` and are used
    once each, so a call's dozen identifiers cost no system call apiece.
    """

    def __init__(self, host: str = "sipstack") -> None:
        self._host = host
        self._pool = b""
        self._at = 0

    def _hex(self, size: int) -> str:
        if self._at + size > len(self._pool):
            self._pool, self._at = os.urandom(POOL), 0
        start, self._at = self._at, self._at + size
        return self._pool[start:self._at].hex()

    def branch(self) -> str:
        return "z9hG4bK" + self._hex(8)

    def tag(self) -> str:
        return self._hex(6)

    def call_id(self) -> str:
        return f"{self._hex(10)}@{self._host}"
