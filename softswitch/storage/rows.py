"""Conversions between SQL rows and the frozen records of ``records``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from sipstack.events import Address
from softswitch.storage.records import (
    Binding,
    CallRecord,
    CallState,
    Direction,
    Disposition,
    HangupSide,
    LegRecord,
    LegRole,
)


def _opt_side(value: str | None) -> HangupSide | None:
    return None if value is None else HangupSide(value)


def call_from_row(row: RowMapping) -> CallRecord:
    disposition = row["disposition"]
    return CallRecord(
        id=row["id"],
        sip_call_id=row["sip_call_id"],
        caller=row["caller"],
        callee=row["callee"],
        direction=Direction(row["direction"]),
        start_time=row["start_time"],
        caller_name=row["caller_name"],
        trunk=row["trunk"],
        node=row["node"],
        answer_time=row["answer_time"],
        end_time=row["end_time"],
        duration=row["duration"],
        billable_seconds=row["billable_seconds"],
        disposition=None if disposition is None else Disposition(disposition),
        sip_status=row["sip_status"],
        sip_cause=row["sip_cause"],
        hangup_side=_opt_side(row["hangup_side"]),
        end_reason=row["end_reason"],
        recording=row["recording"],
        state=CallState(row["state"]),
        heartbeat=row["heartbeat"],
    )


def call_to_row(call: CallRecord) -> dict[str, Any]:
    return {
        "id": call.id,
        "sip_call_id": call.sip_call_id,
        "node": call.node,
        "caller": call.caller,
        "caller_name": call.caller_name,
        "callee": call.callee,
        "direction": call.direction.value,
        "trunk": call.trunk,
        "start_time": call.start_time,
        "answer_time": call.answer_time,
        "end_time": call.end_time,
        "duration": call.duration,
        "billable_seconds": call.billable_seconds,
        "disposition": None if call.disposition is None else call.disposition.value,
        "sip_status": call.sip_status,
        "sip_cause": call.sip_cause,
        "hangup_side": None if call.hangup_side is None else call.hangup_side.value,
        "end_reason": call.end_reason,
        "recording": call.recording,
        "state": call.state.value,
        "heartbeat": call.heartbeat or call.start_time,
    }


def leg_from_row(row: RowMapping) -> LegRecord:
    return LegRecord(
        call_id=row["call_id"],
        index=row["leg_index"],
        role=LegRole(row["role"]),
        direction=Direction(row["direction"]),
        peer=row["peer"],
        sip_call_id=row["sip_call_id"],
        start_time=row["start_time"],
        answer_time=row["answer_time"],
        end_time=row["end_time"],
        final_status=row["final_status"],
        reason=row["reason"],
        hangup_side=_opt_side(row["hangup_side"]),
    )


def leg_to_row(leg: LegRecord) -> dict[str, Any]:
    return {
        "call_id": leg.call_id,
        "leg_index": leg.index,
        "role": leg.role.value,
        "direction": leg.direction.value,
        "peer": leg.peer,
        "sip_call_id": leg.sip_call_id,
        "start_time": leg.start_time,
        "answer_time": leg.answer_time,
        "end_time": leg.end_time,
        "final_status": leg.final_status,
        "reason": leg.reason,
        "hangup_side": None if leg.hangup_side is None else leg.hangup_side.value,
    }


def binding_from_row(row: RowMapping) -> Binding:
    transport = row["received_transport"]
    received = (
        None if transport is None
        else Address(transport, row["received_host"], row["received_port"])
    )
    return Binding(
        aor=row["aor"],
        contact=row["contact"],
        expires_at=row["expires_at"],
        call_id=row["call_id"],
        cseq=row["cseq"],
        received=received,
        path=tuple(row["path"]),
        user_agent=row["user_agent"],
        q=row["q"],
        instance_id=row["instance_id"],
        reg_id=row["reg_id"],
    )


def binding_to_row(binding: Binding) -> dict[str, Any]:
    received = binding.received
    return {
        "aor": binding.aor,
        "contact": binding.contact,
        "received_transport": None if received is None else received.transport,
        "received_host": None if received is None else received.host,
        "received_port": None if received is None else received.port,
        "path": list(binding.path),
        "call_id": binding.call_id,
        "cseq": binding.cseq,
        "expires_at": binding.expires_at,
        "user_agent": binding.user_agent,
        "q": binding.q,
        "instance_id": binding.instance_id,
        "reg_id": binding.reg_id,
    }


def seconds_between(start: datetime, end: datetime) -> float:
    """``end - start`` in seconds, to the millisecond, never negative."""
    return max(0.0, round((end - start).total_seconds(), 3))
