"""Known callers and the employee responsible for each (F-ROUTE-4).

Routing asks a :class:`ClientDirectory` who is responsible for a caller's
number before the call is routed, and passes the answer to the router as a
plain fact, so routing stays pure. :class:`StaticClients` answers from the
``[[clients]]`` of the configuration; a CRM link supplies its own directory
with the same method. Numbers are compared by their digits only
(:func:`softswitch.numbers.digits`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from softswitch.routing.state import number_digits

__all__ = ["ClientDirectory", "StaticClients"]


class ClientDirectory(Protocol):
    """Who answers for a known caller."""

    def owner_of(self, number: str) -> str | None:
        """The extension responsible for the caller ``number``; None for an unknown caller."""


class StaticClients:
    """A directory from ``(number, extension)`` pairs; the first pair of a number wins."""

    def __init__(self, owners: Iterable[tuple[str, str]]) -> None:
        self._owners: dict[str, str] = {}
        for number, extension in owners:
            found = number_digits(number)
            if found is not None:
                self._owners.setdefault(found, extension)

    def owner_of(self, number: str) -> str | None:
        found = number_digits(number)
        return None if found is None else self._owners.get(found)

    def __len__(self) -> int:
        return len(self._owners)
