"""Call detail records of calls the routing refused or forwarded (F-OPS-3 with
F-ROUTE-7, F-ROUTE-8 and F-ROUTE-11), written to SQLite through the recorder.

A refused call is one finished row (never answered, nothing billable, a
disposition saying why); a call whose routing forwarded it through a trunk
ends with direction ``forwarded``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from softswitch.cdr import (
    CallAnswered,
    CallEnded,
    CallRefused,
    CallStarted,
    CdrRecorder,
    LegStarted,
)
from softswitch.config import Config
from softswitch.inbound import refusal_disposition
from softswitch.routing import (
    LineRouter,
    MemoryRoutingState,
    Refuse,
    inbound_router,
)
from softswitch.storage import (
    CallState,
    Direction,
    Disposition,
    HangupSide,
    LegRole,
    Storage,
    open_storage,
)

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Rome
SATURDAY = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DID = "+39 02 1234 5600"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Storage]:
    storage = open_storage(f"sqlite:///{tmp_path}/switch.db")
    yield storage
    storage.close()


def _refused(disposition: Disposition, status: int, reason: str,
             call_id: str = "r1") -> CallRefused:
    return CallRefused(call_id, f"sip-{call_id}", "+390200000000", "390212345600",
                       Direction.INBOUND, T0, disposition, status, reason,
                       caller_name="Client", trunk="operator-a")


def test_blacklisted_call_is_one_finished_row_f_route_8(store: Storage) -> None:
    cdr = CdrRecorder(store, node="n1")
    assert cdr.record(_refused(Disposition.BLACKLISTED, 603, "blacklisted caller"))
    call = store.get_call("r1")
    assert call is not None
    assert (call.caller, call.caller_name, call.callee, call.trunk, call.direction,
            call.node, call.sip_call_id) == (
        "+390200000000", "Client", "390212345600", "operator-a", Direction.INBOUND, "n1",
        "sip-r1")
    assert (call.state, call.disposition, call.sip_status, call.sip_cause,
            call.hangup_side, call.end_reason) == (
        CallState.ENDED, Disposition.BLACKLISTED, 603, "603", HangupSide.SYSTEM,
        "blacklisted caller")
    assert (call.start_time, call.answer_time, call.end_time, call.duration,
            call.billable_seconds) == (T0, None, T0, 0.0, 0.0)
    assert store.legs("r1") == []


def test_refused_calls_are_neither_active_nor_recovered_f_route_7(store: Storage) -> None:
    cdr = CdrRecorder(store, node="n1")
    cdr.record_many([_refused(Disposition.CLOSED, 603, "closed: caller blacklisted", "r1"),
                     _refused(Disposition.UNAVAILABLE, 404, "number not served", "r2")])
    assert store.active_calls("n1") == []
    assert cdr.recover_interrupted(T0 + timedelta(hours=1)) == []
    assert cdr.flush(T0 + timedelta(hours=1)) == []
    closed, unserved = store.get_call("r1"), store.get_call("r2")
    assert closed is not None and unserved is not None
    assert (closed.disposition, closed.sip_status) == (Disposition.CLOSED, 603)
    assert (unserved.disposition, unserved.sip_status) == (Disposition.UNAVAILABLE, 404)


def _started(call_id: str, direction: Direction = Direction.INBOUND) -> list[Any]:
    return [CallStarted(call_id, f"sip-{call_id}", "+390611112222", "390212345600",
                        direction, T0, trunk="operator-a"),
            LegStarted(call_id, 0, LegRole.CALLER, direction, "operator-a", f"sip-{call_id}",
                       T0)]


def test_call_forwarded_after_a_queue_ends_forwarded_f_route_11(store: Storage) -> None:
    cdr = CdrRecorder(store)
    at = T0 + timedelta(seconds=20)
    cdr.record_many([
        *_started("f1"),
        LegStarted("f1", 1, LegRole.CALLEE, Direction.INBOUND, "sip:103@x", "b-1", T0),
        LegStarted("f1", 2, LegRole.CALLEE, Direction.FORWARDED, "operator-a:390677777777",
                   "b-2", at),
        CallAnswered("f1", at),
    ])
    active = store.get_call("f1")
    assert active is not None and active.direction is Direction.INBOUND
    cdr.record(CallEnded("f1", at + timedelta(seconds=30), Disposition.ANSWERED,
                         HangupSide.CALLER))
    call = store.get_call("f1")
    assert call is not None
    assert (call.direction, call.disposition, call.billable_seconds) == (
        Direction.FORWARDED, Disposition.ANSWERED, 30.0)


def test_call_without_a_forwarded_leg_keeps_its_direction_f_route_11(store: Storage) -> None:
    cdr = CdrRecorder(store)
    cdr.record_many([
        *_started("i1"),
        LegStarted("i1", 1, LegRole.CALLEE, Direction.INBOUND, "sip:103@x", "b-1", T0),
        *_started("o1", Direction.OUTBOUND),
    ])
    for call_id in ("i1", "o1"):
        cdr.record(CallEnded(call_id, T0 + timedelta(seconds=5), Disposition.NO_ANSWER,
                             HangupSide.SYSTEM, 480))
    inbound, outbound = store.get_call("i1"), store.get_call("o1")
    assert inbound is not None and outbound is not None
    assert (inbound.direction, outbound.direction) == (Direction.INBOUND, Direction.OUTBOUND)


def test_interrupted_forwarded_call_ends_forwarded_f_route_11(store: Storage) -> None:
    cdr = CdrRecorder(store, node="n1")
    cdr.record_many([*_started("f2"),
                     LegStarted("f2", 1, LegRole.CALLEE, Direction.FORWARDED, "op:1", "b", T0)])
    assert cdr.flush(T0 + timedelta(seconds=9)) == ["f2"]
    call = store.get_call("f2")
    assert call is not None
    assert (call.direction, call.disposition) == (Direction.FORWARDED, Disposition.INTERRUPTED)


# -- why the routing refused: the disposition of the row -----------------------------------


def _config(plan: dict[str, Any], **routing: Any) -> Config:
    return Config.from_data({
        "sip": {"listeners": [{"transport": "udp", "host": "127.0.0.1"}]},
        "extensions": [{"number": "101", "password": "pw101"}],
        "trunks": [{"name": "op", "host": "127.0.0.1"}],
        "routing": {"lines": [{"did": DID, "plan": "p"}],
                    "plans": [{"name": "p", **plan}], **routing},
    })


def _router(config: Config, caller: str = "+39 06 3333 4444") -> LineRouter:
    trunk = config.trunk("op")
    assert trunk is not None
    found = inbound_router(config, trunk, DID, DID, caller)
    assert found is not None
    return found


HOURS = {"timezone": "Europe/Rome", "open": ["09:00-18:00"], "days_off": ["sat", "sun"]}


def _why(router: LineRouter, now: datetime, state: MemoryRoutingState) -> Disposition:
    first = router.first_step(now, state)
    assert isinstance(first.step, Refuse)
    return refusal_disposition(router, first.step, now, state)


def test_blacklist_refusal_is_blacklisted_f_route_8() -> None:
    config = _config({"destination": "extension:101"}, blacklist=["+39 06 3333 4444"])
    assert _why(_router(config), T0, MemoryRoutingState(lambda _: True)) \
        is Disposition.BLACKLISTED
    added = MemoryRoutingState(lambda _: True, blacklist=["390699998888"])  # at run time
    assert _why(_router(config, "+39 06 9999 8888"), T0, added) is Disposition.BLACKLISTED


def test_out_of_hours_refusal_is_closed_even_when_it_blacklists_f_route_7() -> None:
    config = _config({"destination": "extension:101", "hours": HOURS,
                      "out_of_hours_blacklist": True})
    router = _router(config)
    assert _why(router, SATURDAY, MemoryRoutingState(lambda _: True)) is Disposition.CLOSED
    # Closing put the caller on the blacklist: the next call is refused for that.
    listed = MemoryRoutingState(lambda _: True, blacklist=["390633334444"])
    assert _why(router, SATURDAY, listed) is Disposition.BLACKLISTED


def test_out_of_hours_hang_up_is_closed_f_route_7() -> None:
    config = _config({"destination": "extension:101", "hours": HOURS,
                      "out_of_hours": "hangup"})
    assert _why(_router(config), SATURDAY, MemoryRoutingState(lambda _: True)) \
        is Disposition.CLOSED


def test_other_refusals_say_what_their_status_means() -> None:
    config = _config({"destination": "hangup"})
    router = _router(config)
    state = MemoryRoutingState(lambda _: True)
    assert _why(router, T0, state) is Disposition.NO_ANSWER
    assert refusal_disposition(router, Refuse(404, "x"), T0, state) is Disposition.UNAVAILABLE
    assert refusal_disposition(router, Refuse(503, "x"), T0, state) is Disposition.FAILED
