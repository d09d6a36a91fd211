"""Call pickup: a queue member dials the pickup code and takes a call ringing a
colleague; an employee outside the group cannot (F-ROUTE-6). SIPp is the
operator's caller, pjsua2 phones the employees."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone
from test_routing_lines import ANSWERED, OPEN, client_call, employee, routed_switch

pytestmark = pytest.mark.integration

PICKUP = """
[routing]
pickup_code = "*8"

[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "office"

[[routing.plans]]
name = "office"
destination = "queue:sales"
{plan_extra}

[[routing.queues]]
name = "sales"
members = ["103", "104"]
strategy = "in_turn"
ring_time = 15
{queue_extra}
"""


def test_member_picks_up_a_call_ringing_a_colleague(  # F-ROUTE-6
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=PICKUP) as switch:
        ringing = employee(phones, switch, "103")
        colleague = employee(phones, switch, "104")
        client = client_call(switch, "+390611112222", ANSWERED).start()
        ringing.wait_incoming(timeout=10)  # in turn: 103 first
        call = colleague.call(switch.uri("*8"))
        colleague.wait_state(call, "CONFIRMED", timeout=10)
        result = client.wait(20)  # answered, then the client hangs up
        assert result.all_successful, result.summary()
        colleague.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    assert record.disposition == "answered"
    assert [leg.peer for leg in legs if leg.answer_time is not None and leg.index > 0] == ["104"]
    assert "DISCONNECTED" in ringing.states(ringing.incoming_calls()[0].call)


def test_pickup_outside_the_group_is_refused(  # F-ROUTE-6
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=PICKUP) as switch:
        ringing = employee(phones, switch, "103")
        outsider = employee(phones, switch, "105")
        client = client_call(switch, "+390611112222", ANSWERED).start()
        incoming = ringing.wait_incoming(timeout=10)
        call = outsider.call(switch.uri("*8"))
        state = outsider.wait_state(call, "DISCONNECTED", timeout=10)
        assert state.code == 404
        time.sleep(0.3)
        ringing.answer(incoming.call)
        result = client.wait(20)
        assert result.all_successful, result.summary()
        [record] = switch.wait_calls(1)
    assert "pickup by 105 refused" in switch.log()
    assert record.disposition == "answered"
