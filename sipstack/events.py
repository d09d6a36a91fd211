"""Values that cross the boundary between the sans-IO core and its adapters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sipstack.constants import DEFAULT_PORTS


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message came from or goes to: transport (``udp``/``tcp``/…),
    host (an IP literal, IPv6 without brackets) and port."""

    transport: str
    host: str
    port: int

    @property
    def reliable(self) -> bool:
        """Stream transports need no retransmissions (§17.1.1.2)."""
        return self.transport != "udp"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}:{host}:{self.port}"

    @staticmethod
    def default_port(transport: str) -> int:
        return DEFAULT_PORTS.get(transport.lower(), 5060)


@dataclass(frozen=True, slots=True)
class Datagram:
    """Bytes for the adapter to send. ``key`` names the transaction that sent
    them, so a transport failure can be reported back to it."""

    data: bytes
    address: Address
    key: str | None = None


class IdFactory(Protocol):
    """Source of branches, tags and Call-IDs (injected; tests use counters)."""

    def branch(self) -> str:
        """A new Via branch, starting with the RFC 3261 magic cookie."""
        ...

    def tag(self) -> str: ...

    def call_id(self) -> str: ...


class CounterIds:
    """Deterministic ids for tests and benchmarks."""

    def __init__(self, prefix: str = "t") -> None:
        self._prefix = prefix
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def branch(self) -> str:
        return f"z9hG4bK{self._prefix}{self._next()}"

    def tag(self) -> str:
        return f"{self._prefix}tag{self._next()}"

    def call_id(self) -> str:
        return f"{self._prefix}call{self._next()}@sipstack"
