"""Storage seam of the softswitch: call detail records (F-OPS-3), registrar
bindings (F-SIP-5, the RFC 3261 §10 location service made durable) and the
routing state changed at run time (F-ROUTE-5 member status, F-ROUTE-8 blacklist).

:class:`Storage` is the protocol the rest of the application depends on;
:func:`open_storage` returns the SQLAlchemy implementation for a URL: SQLite
(WAL, ``synchronous=NORMAL``, foreign keys on) by default, PostgreSQL by a URL
change (``postgresql+psycopg://user@host/db``, driver installed separately).
Later tables (recordings, billing, CRM links) extend this protocol.

Threading: every method is synchronous, thread-safe, and commits before it
returns. From asyncio, go through :class:`~softswitch.storage.worker.BatchWriter`
(one thread writing whatever has accumulated, in order, one transaction per
batch) or :class:`~softswitch.storage.worker.StorageWorker` (one call at a time).
Times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from softswitch.storage.records import (
    PROCESS_STOPPED,
    Binding,
    CallEnd,
    CallRecord,
    CallState,
    Direction,
    Disposition,
    HangupSide,
    LegEnd,
    LegRecord,
    LegRole,
)
from softswitch.storage.sql import SqlStorage
from softswitch.storage.worker import BatchWriter, StorageWorker
from softswitch.storage.writes import Write

DEFAULT_URL = "sqlite:///var/softswitch.db"

__all__ = [
    "DEFAULT_URL",
    "PROCESS_STOPPED",
    "BatchWriter",
    "Binding",
    "CallEnd",
    "CallRecord",
    "CallState",
    "Direction",
    "Disposition",
    "HangupSide",
    "LegEnd",
    "LegRecord",
    "LegRole",
    "SqlStorage",
    "Storage",
    "StorageWorker",
    "Write",
    "open_storage",
]


class Storage(Protocol):
    """Durable state of the switch. Write methods return whether a row changed
    (or how many did), so callers can tell a stale event from a recorded one."""

    def close(self) -> None:
        """Release connections; pending writes have already been committed."""
        ...

    def write(self, writes: Sequence[Write]) -> list[int]:
        """Apply ``writes`` (:mod:`softswitch.storage.writes`) in order in one
        transaction; returns the rows each changed (1 for an insert). A batch
        that fails is retried write by write, so one bad write costs only itself
        (logged, counted 0); the error of a single write is raised."""
        ...

    # call detail records
    def insert_call(self, call: CallRecord) -> None:
        """Insert a new call row (normally state ``active``)."""
        ...

    def answer_call(self, call_id: str, at: datetime) -> bool:
        """Set the answer time of an active, unanswered call."""
        ...

    def set_recording(self, call_id: str, path: str) -> bool:
        """Link the call's recording file (F-MEDIA-3)."""
        ...

    def end_call(self, call_id: str, end: CallEnd) -> bool:
        """Finish an active call: end time (never before start or answer),
        duration, billable seconds, disposition; its open legs end with it."""
        ...

    def heartbeat(self, node: str, at: datetime) -> int:
        """Stamp every active call of ``node`` as still alive at ``at``."""
        ...

    def active_calls(self, node: str | None = None) -> list[CallRecord]:
        """Calls still ``active`` (of one node, or of all nodes for ``None``)."""
        ...

    def get_call(self, call_id: str) -> CallRecord | None: ...

    def list_calls(
        self, limit: int = 100, offset: int = 0, since: datetime | None = None
    ) -> list[CallRecord]:
        """Newest first; ``since`` keeps calls started at or after it."""
        ...

    def insert_leg(self, leg: LegRecord) -> None: ...

    def answer_leg(self, call_id: str, index: int, at: datetime) -> bool: ...

    def end_leg(self, call_id: str, index: int, end: LegEnd) -> bool: ...

    def legs(self, call_id: str) -> list[LegRecord]:
        """The legs of a call in leg-index order."""
        ...

    # registrar bindings
    def save_binding(self, binding: Binding) -> None:
        """Insert or replace the binding of (aor, contact)."""
        ...

    def remove_binding(self, aor: str, contact: str) -> bool: ...

    def remove_all(self, aor: str) -> int: ...

    def bindings(self, aor: str, now: datetime) -> list[Binding]:
        """Unexpired bindings of one address-of-record."""
        ...

    def all_bindings(self, now: datetime) -> list[Binding]:
        """Every unexpired binding, to restore the location service at start-up."""
        ...

    def purge_expired(self, now: datetime) -> int: ...

    # routing state changed at run time
    def save_member_status(self, extension: str, status: str, at: datetime) -> None:
        """Record an employee's latest working state (``working``, ``break``,
        ``not_started``), replacing the one before."""
        ...

    def member_statuses(self) -> dict[str, str]:
        """Every stored working state, by extension."""
        ...

    def add_blacklisted(self, number: str, at: datetime) -> bool:
        """Add a number (digits) the switch blacklisted; False when already there."""
        ...

    def blacklisted(self) -> list[str]:
        """Every number the switch blacklisted at run time."""
        ...


def open_storage(url: str = DEFAULT_URL) -> Storage:
    """Open (and create the tables of) the database at ``url``.

    A SQLite file URL gets its data directory created; ``sqlite://`` is a
    private in-memory database shared by all threads of this process.
    """
    return SqlStorage.open(url)
