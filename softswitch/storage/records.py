"""Rows of the storage layer as frozen values: calls, call legs, registrar bindings.

These are the shapes that cross the storage seam (:class:`~softswitch.storage.Storage`).
They carry no SIP objects: the call detail records (F-OPS-3) are written from
SIP-independent facts (``softswitch.cdr``), and the bindings are the persistent
half of the RFC 3261 §10 location service (F-SIP-5), with the RFC 5626
instance id / reg-id and the received source address needed to reach a phone
behind NAT.

All timestamps are timezone-aware UTC datetimes; a naive datetime is refused
at the storage boundary rather than guessed at.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sipstack.events import Address


class Direction(enum.StrEnum):
    """Which way a call (or one leg of it) goes, seen from the switch."""

    INTERNAL = "internal"
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    FORWARDED = "forwarded"


class Disposition(enum.StrEnum):
    """How a call ended, for reports and billing.

    ``BLACKLISTED`` and ``CLOSED`` are calls the routing refused before
    anything rang: the caller is on the blacklist (F-ROUTE-8), or the line is
    outside its working hours and its plan refuses (F-ROUTE-7).
    """

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"
    FAILED = "failed"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    MAX_DURATION = "max_duration"
    MEDIA_TIMEOUT = "media_timeout"
    INTERRUPTED = "interrupted"
    BLACKLISTED = "blacklisted"
    CLOSED = "closed"


class HangupSide(enum.StrEnum):
    """Who ended the call: one of the parties or the switch itself."""

    CALLER = "caller"
    CALLEE = "callee"
    SYSTEM = "system"


class CallState(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class LegRole(enum.StrEnum):
    CALLER = "caller"
    CALLEE = "callee"


# The end_reason the switch writes for calls cut short by its own stop.
PROCESS_STOPPED = "process stopped"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One row of ``calls``: one call, however many legs it had.

    ``duration`` is end - start and ``billable_seconds`` is end - answer (0 when
    unanswered), both in seconds with millisecond precision; rounding to a
    billing increment is the rating's business, not the record's.
    """

    id: str
    sip_call_id: str
    caller: str
    callee: str
    direction: Direction
    start_time: datetime
    caller_name: str | None = None
    trunk: str | None = None
    node: str = ""
    answer_time: datetime | None = None
    end_time: datetime | None = None
    duration: float | None = None
    billable_seconds: float | None = None
    disposition: Disposition | None = None
    sip_status: int | None = None
    sip_cause: str | None = None
    hangup_side: HangupSide | None = None
    end_reason: str | None = None
    recording: str | None = None
    state: CallState = CallState.ACTIVE
    heartbeat: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallEnd:
    """What is known when a call ends; the storage computes the durations."""

    at: datetime
    disposition: Disposition
    hangup_side: HangupSide
    sip_status: int | None = None
    sip_cause: str | None = None
    end_reason: str | None = None


@dataclass(frozen=True, slots=True)
class LegRecord:
    """One row of ``call_legs``: one SIP dialog (or attempt) of a call."""

    call_id: str
    index: int
    role: LegRole
    direction: Direction
    peer: str
    sip_call_id: str
    start_time: datetime
    answer_time: datetime | None = None
    end_time: datetime | None = None
    final_status: int | None = None
    reason: str | None = None
    hangup_side: HangupSide | None = None


@dataclass(frozen=True, slots=True)
class LegEnd:
    at: datetime
    final_status: int | None = None
    reason: str | None = None
    hangup_side: HangupSide | None = None


@dataclass(frozen=True, slots=True)
class Binding:
    """One contact of an address-of-record (RFC 3261 §10.3), unique per
    (aor, contact): a re-REGISTER of the same contact replaces it.

    ``received`` is where the REGISTER really came from (RFC 3581 / RFC 5626
    flow), ``path`` the Path header values in order (RFC 3327).
    """

    aor: str
    contact: str
    expires_at: datetime
    call_id: str
    cseq: int
    received: Address | None = None
    path: tuple[str, ...] = ()
    user_agent: str | None = None
    q: float | None = None
    instance_id: str | None = None
    reg_id: int | None = None
