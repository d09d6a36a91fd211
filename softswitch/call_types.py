"""What a call is made of, apart from its behaviour: who it rings (Target),
what the CDR says about it (CallInfo), its phase, what it needs from the
application (CallHost) and from a routing driver (CallDriver), and how
failures of several forks are ranked (RFC 3261 §16.7, simplified)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sipstack.events import Address
from softswitch.callcontrol import Release
from softswitch.cdr import CdrFact
from softswitch.legs import Credentials, LegHost
from softswitch.storage.records import Direction, Disposition

if TYPE_CHECKING:
    from softswitch.call import Call


class Cancelable(Protocol):
    def cancel(self) -> None: ...


class CallDriver(Protocol):
    """What steers a call through a line's routing (:mod:`softswitch.route_runner`)."""

    def no_answer(self, failure: Release) -> bool: ...
    def answered(self) -> None: ...
    def on_media(self, name: str, args: tuple[Any, ...]) -> None: ...
    def left_disposition(self) -> Disposition: ...
    def close(self) -> None: ...


class CallHost(LegHost, Protocol):
    """What a call needs from the application besides what its legs need."""

    def wall(self) -> datetime: ...
    def call_later(self, delay: float, fn: Callable[[], None]) -> Cancelable: ...
    def publish(self, fact: CdrFact) -> None: ...
    def transfer_targets(self, call: Call, target: str, by_caller: bool) -> list[Target]: ...
    def finished(self, call: Call) -> None: ...


@dataclass(frozen=True, slots=True)
class Target:
    """One place to ring: Request-URI, where to send it, and who we say we are."""

    uri: str
    from_: str
    to: str
    destination: Address | None = None
    credentials: Credentials | None = None
    headers: tuple[tuple[str, str], ...] = ()
    peer: str = ""


@dataclass(frozen=True, slots=True)
class CallInfo:
    """The CDR's view of who called whom."""

    caller: str
    callee: str
    direction: Direction
    caller_name: str | None = None
    trunk: str | None = None
    ring_timeout: float = 30.0
    max_duration: float = 3600.0


class Phase(enum.Enum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


# Failure preference when every fork failed: lower wins.
def _rank(status: int) -> int:
    if status in (486, 600):
        return 0
    if status in (603, 403):
        return 1
    if 400 <= status < 500 and status not in (408, 480, 487):
        return 2
    if status >= 500:
        return 3
    return 4


def _best(failures: list[Release]) -> Release:
    return min(failures, key=lambda r: (_rank(r.status), r.status))
