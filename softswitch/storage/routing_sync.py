"""Keeps the routing state and its stored copy in step (F-ROUTE-5, F-ROUTE-8).

At start-up :meth:`RoutingStateStore.load` lays what an earlier run stored
over the configured starting point (a stored status wins over
``routing.member_status``; stored blacklist numbers join ``routing.blacklist``).
While the switch runs, :meth:`RoutingStateStore.record` is the routing
state's observer: each change (a status set from a phone, a number the
out-of-hours routing blacklisted) is stamped on the event loop and written by
one worker thread of its own, in order, so the loop never waits on the disk.
:meth:`RoutingStateStore.close` writes what is still queued.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from softswitch.routing.state import (
    Blacklisted,
    Change,
    MemberStatus,
    MemoryRoutingState,
    StatusChanged,
)
from softswitch.storage import Storage
from softswitch.storage.worker import StorageWorker

__all__ = ["RoutingStateStore"]

log = logging.getLogger("softswitch.routing")


class RoutingStateStore:
    """The stored run-time routing state of one switch (module doc)."""

    def __init__(self, storage: Storage, wall: Callable[[], datetime]) -> None:
        self._storage = storage
        self._wall = wall
        self._worker = StorageWorker("routing-state")

    def load(self, state: MemoryRoutingState, known: Callable[[str], bool]) -> tuple[int, int]:
        """Restore ``state`` from storage (blocking: run it off the event loop).
        ``known`` tells an extension still configured; a status stored for one
        no longer there, or one this release does not know, is skipped.
        Returns (statuses restored, blacklisted numbers restored)."""
        statuses: dict[str, MemberStatus] = {}
        for extension, value in self._storage.member_statuses().items():
            try:
                status = MemberStatus(value)
            except ValueError:
                log.warning("stored status %r of extension %s is unknown; ignored",
                            value, extension)
                continue
            if known(extension):
                statuses[extension] = status
        numbers = self._storage.blacklisted()
        state.restore(statuses, numbers)
        return len(statuses), len(numbers)

    async def attach(self, state: MemoryRoutingState, known: Callable[[str], bool]) -> None:
        """Restore ``state`` (off the event loop), then store its later changes."""
        statuses, numbers = await asyncio.to_thread(self.load, state, known)
        if statuses or numbers:
            log.info("restored %d member statuses and %d blacklisted numbers from storage",
                     statuses, numbers)
        state.observe(self.record)

    def record(self, change: Change) -> None:
        """Queue ``change`` for storage (the routing state's observer)."""
        at = self._wall()
        if isinstance(change, StatusChanged):
            self._worker.submit(self._storage.save_member_status, change.extension,
                                change.status.value, at)
        elif isinstance(change, Blacklisted):
            self._worker.submit(self._storage.add_blacklisted, change.number, at)
        else:
            raise TypeError(f"not a routing state change: {change!r}")

    def close(self) -> None:
        """Write every change queued so far (blocking), then stop the thread."""
        self._worker.shutdown()
