"""Queue groups that forward (F-ROUTE-5, F-ROUTE-11): an empty queue with a
forward number forwards at once, and a queue nobody answers forwards to a
member's mobile. SIPp stands in for the caller and for the operator that
receives the forward; pjsua2 phones are the employees."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, free_port
from test_routing_lines import ANSWERED, OPEN, client_call, employee, operator, routed_switch

pytestmark = pytest.mark.integration

QUEUES = """
[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "direct"

[[routing.lines]]
did = "+39 02 1234 5601"
trunk = "demo-operator"
plan = "team"

[[routing.plans]]
name = "direct"
destination = "queue:direct"

[[routing.plans]]
name = "team"
destination = "queue:team"

[[routing.queues]]
name = "direct"
members = []
no_answer = "forward:+39 06 7777 7777"

[[routing.queues]]
name = "team"
members = ["101"]
ring_time = 2
no_answer = "mobile:101"
"""

CLIENT = "390611112222"


def test_empty_queue_with_a_forward_number_forwards_at_once(  # F-ROUTE-5, F-ROUTE-11
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    with routed_switch(tmp_path, monkeypatch, OPEN, operator_port=port,
                       routing=QUEUES) as switch:
        member = employee(phones, switch, "101")
        with operator(port, "390677777777", CLIENT) as far:
            started = time.monotonic()
            result = client_call(switch, "+" + CLIENT, ANSWERED).run(30)
            forwarded = far.wait(15)
        assert result.all_successful, result.summary()
        assert forwarded.all_successful, forwarded.summary()
        assert time.monotonic() - started < 8  # no ring time spent on anyone first
        assert member.incoming_calls() == []
        [record] = switch.wait_calls(1)
    assert record.direction == "forwarded" and record.disposition == "answered"


def test_queue_nobody_answers_forwards_to_a_members_mobile(  # F-ROUTE-5, F-ROUTE-11
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    with routed_switch(tmp_path, monkeypatch, OPEN, operator_port=port,
                       routing=QUEUES) as switch:
        member = employee(phones, switch, "101")
        member.set_auto_answer(None)
        with operator(port, "393330000101", CLIENT) as far:
            result = client_call(switch, "+" + CLIENT, ANSWERED,
                                 service="390212345601").run(30)
            forwarded = far.wait(15)
        assert result.all_successful, result.summary()
        assert forwarded.all_successful, forwarded.summary()
        assert len(member.incoming_calls()) == 1
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    callees = [(leg.direction, leg.final_status) for leg in legs if leg.role == "callee"]
    assert callees[0] == ("inbound", 487)  # the member's phone, cancelled after its ring time
    assert callees[1][0] == "forwarded" and record.disposition == "answered"
    assert record.direction == "forwarded"  # billed as an outbound call (F-ROUTE-11)
