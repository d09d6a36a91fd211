"""What a trunk registration reports: its state and a status snapshot.

The states follow the life of a client registration (RFC 3261 §10.2): a
binding is being asked for (``REGISTERING``), is held and refreshed before it
lapses (``REGISTERED``, §10.2.4), could not be obtained and waits for the next
attempt (``FAILED``), is being removed with ``Expires: 0`` (``UNREGISTERING``,
§10.2.2), or does not exist (``UNREGISTERED``).

Times are on the clock the application passes in as ``now`` (the event
loop's monotonic clock), not wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["RegistrationState", "TrunkStatus"]


class RegistrationState(Enum):
    """Where a trunk's registration to its operator stands."""

    UNREGISTERED = "unregistered"
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"
    UNREGISTERING = "unregistering"


@dataclass(frozen=True, slots=True)
class TrunkStatus:
    """A snapshot of one trunk's registration, for logs, the API and metrics.

    ``last_status``/``last_reason`` describe the last final response (``local``
    when the stack made it up for a timeout or transport failure);
    ``expires_at`` is when the current binding lapses (None without one);
    ``next_attempt_at`` is when the next REGISTER goes out (a refresh or a
    retry), None while a request is in flight or when stopped; ``failures``
    counts consecutive failed attempts (it drives the back-off).
    """

    trunk: str
    registrar: str
    state: RegistrationState
    expires_at: float | None = None
    last_status: int | None = None
    last_reason: str | None = None
    local: bool = False
    next_attempt_at: float | None = None
    failures: int = 0

    @property
    def registered(self) -> bool:
        return self.state is RegistrationState.REGISTERED

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (the state as its lower-case name)."""
        return {
            "trunk": self.trunk,
            "registrar": self.registrar,
            "state": self.state.value,
            "expires_at": self.expires_at,
            "last_status": self.last_status,
            "last_reason": self.last_reason,
            "local": self.local,
            "next_attempt_at": self.next_attempt_at,
            "failures": self.failures,
        }
