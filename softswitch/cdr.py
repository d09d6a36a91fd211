"""Call detail records (F-OPS-3): every call recorded, none lost.

The call layer reports SIP-independent facts (a call started, was answered,
ended with a cause; a leg started, answered, ended) as frozen dataclasses, and
:class:`CdrRecorder` writes them through the :class:`~softswitch.storage.Storage`
seam:

- a call row is inserted with state ``active`` when the call starts, so that a
  crash can never lose it; answer and end update it;
- :meth:`CdrRecorder.heartbeat` stamps the active calls of this node from time
  to time, so that after a crash the end time is known to within one period;
- :meth:`CdrRecorder.recover_interrupted` (start-up) finishes calls a dead
  process left ``active``, ending them at their last heartbeat;
- :meth:`CdrRecorder.flush` (shutdown) finishes the calls still up;
- a call the routing refuses before anything rings (:class:`CallRefused`:
  blacklist, working hours, no line for the number) is one row inserted
  already ``ended``: never answered, duration and billable time 0;
- a call whose routing forwarded it through a trunk (a leg of direction
  ``forwarded``) ends with direction ``forwarded`` whatever it started as
  (F-ROUTE-11): the end of a call reads its legs (``storage.statements``).

Both of the latter mark the call ``interrupted`` with end reason
``process stopped`` and bill it up to its end time. Each node of a cluster
sharing one database has its own ``node`` name, so it recovers only its own
calls. The recorder is synchronous: :meth:`CdrRecorder.record` writes one
fact in a transaction of its own, :meth:`CdrRecorder.record_many` a batch in
one; the asyncio application queues facts on the batch writer of
:class:`~softswitch.persistence.Persistence`, which turns them into storage
writes with :meth:`CdrRecorder.write_of` (see there for what a crash can lose).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from softswitch.storage import (
    PROCESS_STOPPED,
    CallEnd,
    CallRecord,
    CallState,
    Direction,
    Disposition,
    HangupSide,
    LegEnd,
    LegRecord,
    LegRole,
    Storage,
)
from softswitch.storage.writes import (
    AnswerCall,
    AnswerLeg,
    EndCall,
    EndLeg,
    Heartbeat,
    InsertCall,
    InsertLeg,
    SetRecording,
    Write,
)


@dataclass(frozen=True, slots=True)
class CallStarted:
    """A new call: ``call_id`` is the switch's own id (a UUID string),
    ``sip_call_id`` the Call-ID of its first leg, ``callee`` the number as dialled."""

    call_id: str
    sip_call_id: str
    caller: str
    callee: str
    direction: Direction
    at: datetime
    caller_name: str | None = None
    trunk: str | None = None


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The end of a call; ``sip_status``/``sip_cause`` are the final SIP status
    and its reason (or a Reason header value), ``end_reason`` a plain sentence
    such as ``max call duration reached``."""

    call_id: str
    at: datetime
    disposition: Disposition
    hangup_side: HangupSide
    sip_status: int | None = None
    sip_cause: str | None = None
    end_reason: str | None = None


@dataclass(frozen=True, slots=True)
class CallRefused:
    """A call refused before anything rang (F-ROUTE-7, F-ROUTE-8, no line):
    the whole call in one fact. ``sip_status`` is the final response the
    caller got, ``disposition`` says why (``BLACKLISTED``, ``CLOSED``, or
    what the status means), ``end_reason`` the routing's own sentence."""

    call_id: str
    sip_call_id: str
    caller: str
    callee: str
    direction: Direction
    at: datetime
    disposition: Disposition
    sip_status: int
    end_reason: str
    caller_name: str | None = None
    trunk: str | None = None


@dataclass(frozen=True, slots=True)
class CallRecorded:
    """The call is being recorded to ``path`` (linked from its CDR)."""

    call_id: str
    path: str


@dataclass(frozen=True, slots=True)
class LegStarted:
    call_id: str
    index: int
    role: LegRole
    direction: Direction
    peer: str
    sip_call_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LegAnswered:
    call_id: str
    index: int
    at: datetime


@dataclass(frozen=True, slots=True)
class LegEnded:
    call_id: str
    index: int
    at: datetime
    final_status: int | None = None
    reason: str | None = None
    hangup_side: HangupSide | None = None


CdrFact = (CallStarted | CallAnswered | CallEnded | CallRefused | CallRecorded | LegStarted
           | LegAnswered | LegEnded)


def utc_now() -> datetime:
    return datetime.now(UTC)


class CdrRecorder:
    """Writes call facts as call detail records."""

    def __init__(self, storage: Storage, node: str = "") -> None:
        self._storage = storage
        self._node = node
        self._writes: dict[type[Any], Callable[[Any], Write]] = {
            CallStarted: self._call_started,
            CallAnswered: lambda f: AnswerCall(f.call_id, f.at),
            CallEnded: _call_ended,
            CallRefused: self._call_refused,
            LegStarted: _leg_started,
            LegAnswered: lambda f: AnswerLeg(f.call_id, f.index, f.at),
            LegEnded: lambda f: EndLeg(f.call_id, f.index,
                                       LegEnd(f.at, f.final_status, f.reason, f.hangup_side)),
            CallRecorded: lambda f: SetRecording(f.call_id, f.path),
        }

    @property
    def node(self) -> str:
        return self._node

    def record(self, fact: CdrFact) -> bool:
        """Write any fact; returns whether a row changed (False for a stale
        event, such as an answer after the call already ended)."""
        return self.record_many((fact,)) == [True]

    def record_many(self, facts: Sequence[CdrFact]) -> list[bool]:
        """Write facts in order in one transaction; per fact, whether a row changed."""
        return [count > 0 for count in self._storage.write([self.write_of(f) for f in facts])]

    def write_of(self, fact: CdrFact) -> Write:
        """The storage write that records ``fact``."""
        return self._writes[type(fact)](fact)

    def heartbeat_write(self, now: datetime | None = None) -> Write:
        """The write that stamps this node's active calls as alive at ``now``."""
        return Heartbeat(self._node, now or utc_now())

    def _call_started(self, fact: CallStarted) -> Write:
        return InsertCall(CallRecord(
            id=fact.call_id, sip_call_id=fact.sip_call_id, caller=fact.caller,
            callee=fact.callee, direction=fact.direction, start_time=fact.at,
            caller_name=fact.caller_name, trunk=fact.trunk, node=self._node,
            heartbeat=fact.at))

    def _call_refused(self, fact: CallRefused) -> Write:
        return InsertCall(CallRecord(
            id=fact.call_id, sip_call_id=fact.sip_call_id, caller=fact.caller,
            callee=fact.callee, direction=fact.direction, start_time=fact.at,
            caller_name=fact.caller_name, trunk=fact.trunk, node=self._node,
            end_time=fact.at, duration=0.0, billable_seconds=0.0,
            disposition=fact.disposition, sip_status=fact.sip_status,
            sip_cause=str(fact.sip_status), hangup_side=HangupSide.SYSTEM,
            end_reason=fact.end_reason, state=CallState.ENDED, heartbeat=fact.at))

    def heartbeat(self, now: datetime | None = None) -> int:
        """Stamp this node's active calls as alive; returns how many."""
        return self._storage.write([self.heartbeat_write(now)])[0]

    def recover_interrupted(self, now: datetime | None = None) -> list[str]:
        """Finish the calls a previous run of this node left ``active``.

        A call ends at its last sign of life (heartbeat, answer or start, never
        later than ``now``) and is billed up to then. Returns the call ids.
        """
        limit = now or utc_now()
        finished = []
        for call in self._storage.active_calls(self._node):
            last = max(call.heartbeat or call.start_time, call.answer_time or call.start_time)
            if self._interrupt(call.id, min(last, limit)):
                finished.append(call.id)
        return finished

    def flush(self, now: datetime | None = None) -> list[str]:
        """On shutdown: end every call of this node still up at ``now``."""
        at = now or utc_now()
        return [c.id for c in self._storage.active_calls(self._node) if self._interrupt(c.id, at)]

    def _interrupt(self, call_id: str, at: datetime) -> bool:
        end = CallEnd(
            at=at,
            disposition=Disposition.INTERRUPTED,
            hangup_side=HangupSide.SYSTEM,
            end_reason=PROCESS_STOPPED,
        )
        return self._storage.end_call(call_id, end)


def _call_ended(fact: CallEnded) -> Write:
    return EndCall(fact.call_id, CallEnd(
        at=fact.at, disposition=fact.disposition, hangup_side=fact.hangup_side,
        sip_status=fact.sip_status, sip_cause=fact.sip_cause, end_reason=fact.end_reason))


def _leg_started(fact: LegStarted) -> Write:
    return InsertLeg(LegRecord(
        call_id=fact.call_id, index=fact.index, role=fact.role, direction=fact.direction,
        peer=fact.peer, sip_call_id=fact.sip_call_id, start_time=fact.at))
