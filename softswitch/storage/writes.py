"""Write operations of the storage seam as frozen values (F-OPS-3, F-SIP-5).

Each value names one change of :class:`~softswitch.storage.Storage` (a call
inserted, answered, ended; a leg; a registrar binding saved or removed; a
heartbeat; a purge). :meth:`~softswitch.storage.Storage.write` applies a
sequence of them in order in one transaction and returns, for each, how many
rows it changed (1 for an insert): that is how the asyncio application writes
whatever facts have accumulated since the last batch with a single commit.
The single-row methods of the protocol are the one-element case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from softswitch.storage.records import Binding, CallEnd, CallRecord, LegEnd, LegRecord


@dataclass(frozen=True, slots=True)
class InsertCall:
    call: CallRecord


@dataclass(frozen=True, slots=True)
class AnswerCall:
    """Set the answer time of an active, unanswered call."""

    call_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SetRecording:
    call_id: str
    path: str


@dataclass(frozen=True, slots=True)
class EndCall:
    """Finish an active call; its open legs end with it."""

    call_id: str
    end: CallEnd


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Stamp every active call of ``node`` as alive at ``at``."""

    node: str
    at: datetime


@dataclass(frozen=True, slots=True)
class InsertLeg:
    leg: LegRecord


@dataclass(frozen=True, slots=True)
class AnswerLeg:
    call_id: str
    index: int
    at: datetime


@dataclass(frozen=True, slots=True)
class EndLeg:
    call_id: str
    index: int
    end: LegEnd


@dataclass(frozen=True, slots=True)
class SaveBinding:
    """Insert or replace the binding of (aor, contact)."""

    binding: Binding


@dataclass(frozen=True, slots=True)
class RemoveBinding:
    aor: str
    contact: str


@dataclass(frozen=True, slots=True)
class RemoveAll:
    aor: str


@dataclass(frozen=True, slots=True)
class PurgeExpired:
    now: datetime


Write = (InsertCall | AnswerCall | SetRecording | EndCall | Heartbeat | InsertLeg | AnswerLeg
         | EndLeg | SaveBinding | RemoveBinding | RemoveAll | PurgeExpired)
