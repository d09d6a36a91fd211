"""The run-time facts routing reads: who is registered, who is working, who was rung last.

Routing functions only read a :class:`RoutingState`; what they decide to change
comes back as effects (:mod:`softswitch.routing.decisions`) that the engine
applies with :meth:`MemoryRoutingState.apply`. Member status (F-ROUTE-5) starts
from ``routing.member_status`` in the configuration and is changed at run time
with :meth:`MemoryRoutingState.set_status` (the status feature codes dialled
from an employee's phone); the run-time blacklist (F-ROUTE-8) adds to the
configured one. Each run-time change is also reported, as a :data:`Change`, to
the observer the engine installs, which stores it; at start-up the stored
changes come back through :meth:`MemoryRoutingState.restore`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from softswitch.numbers import InvalidNumberError, digits
from softswitch.routing.decisions import AddToBlacklist, Effect, Rang

__all__ = ["Blacklisted", "Change", "MemberStatus", "MemoryRoutingState", "RoutingState",
           "StatusChanged", "number_digits"]

log = logging.getLogger("softswitch.routing")


class MemberStatus(enum.Enum):
    """An employee's working state, as queue groups see it."""

    WORKING = "working"
    BREAK = "break"
    NOT_STARTED = "not_started"


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """An employee's working state was changed at run time."""

    extension: str
    status: MemberStatus


@dataclass(frozen=True, slots=True)
class Blacklisted:
    """A number (digits) was added to the blacklist at run time."""

    number: str


Change = StatusChanged | Blacklisted
"""A run-time change of the routing state, as the observer sees it."""


def number_digits(text: str | None) -> str | None:
    """The digits of a caller's number, or None when it is not a phone number."""
    if not text:
        return None
    try:
        return digits(text)
    except InvalidNumberError:
        return None


class RoutingState(Protocol):
    """What routing needs to know about the present moment."""

    def is_registered(self, extension: str) -> bool:
        """Whether the extension has at least one live registration."""

    def status(self, extension: str) -> MemberStatus:
        """The employee's working state."""

    def last_rung(self, extension: str) -> datetime | None:
        """When a queue last offered the employee a call (None: never)."""

    def last_in_turn(self, queue: str) -> str | None:
        """The member a queue ringing in turn rang last (None: none yet)."""

    def is_blacklisted(self, number: str) -> bool:
        """Whether calls from ``number`` (digits) are refused."""


class MemoryRoutingState:
    """The routing state of one switch process, kept in memory.

    ``registered`` answers whether an extension is registered (the engine
    passes a look-up into its location service); ``statuses`` and
    ``blacklist`` are the configured starting points.
    """

    def __init__(self, registered: Callable[[str], bool],
                 statuses: Mapping[str, MemberStatus] | None = None,
                 blacklist: Iterable[str] = ()) -> None:
        self._registered = registered
        self._statuses = dict(statuses or {})
        self._blacklist = {d for d in (number_digits(n) for n in blacklist) if d}
        self._last_rung: dict[str, datetime] = {}
        self._last_in_turn: dict[str, str] = {}
        self._observer: Callable[[Change], None] = lambda change: None

    def observe(self, observer: Callable[[Change], None]) -> None:
        """Report every later run-time change (status, blacklist) to ``observer``."""
        self._observer = observer

    def restore(self, statuses: Mapping[str, MemberStatus], blacklist: Iterable[str]) -> None:
        """Lay changes stored by an earlier run over the configured starting
        point: a stored status wins over the configured one, stored blacklist
        numbers join the configured ones. Nothing is reported to the observer."""
        self._statuses.update(statuses)
        self._blacklist.update(d for d in (number_digits(n) for n in blacklist) if d)

    def is_registered(self, extension: str) -> bool:
        return self._registered(extension)

    def status(self, extension: str) -> MemberStatus:
        return self._statuses.get(extension, MemberStatus.WORKING)

    def last_rung(self, extension: str) -> datetime | None:
        return self._last_rung.get(extension)

    def last_in_turn(self, queue: str) -> str | None:
        return self._last_in_turn.get(queue)

    def is_blacklisted(self, number: str) -> bool:
        found = number_digits(number)
        return found is not None and found in self._blacklist

    def set_status(self, extension: str, status: MemberStatus, why: str = "") -> None:
        """Start or end an employee's working day or break (logged and reported
        even when the status does not change: the employee asked for it)."""
        previous = self.status(extension)
        self._statuses[extension] = status
        log.info("extension %s is now %s (was %s)%s", extension, status.value, previous.value,
                 f": {why}" if why else "")
        self._observer(StatusChanged(extension, status))

    def blacklist(self) -> frozenset[str]:
        """Every refused number, as digits."""
        return frozenset(self._blacklist)

    def apply(self, effect: Effect) -> None:
        """Record what a routing decision changed."""
        if isinstance(effect, AddToBlacklist):
            found = number_digits(effect.number)
            if found is not None and found not in self._blacklist:
                self._blacklist.add(found)
                self._observer(Blacklisted(found))
        elif isinstance(effect, Rang):
            for member in effect.members:
                self._last_rung[member] = effect.at
            if effect.members:
                self._last_in_turn[effect.queue] = effect.members[-1]
        else:
            raise TypeError(f"not a routing effect: {effect!r}")
