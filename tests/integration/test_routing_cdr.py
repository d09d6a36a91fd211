"""Call detail records of routed calls in the SQLite file of a real switch,
SIPp as the operator and pjsua2 phones as employees (F-OPS-3 with F-ROUTE-7,
F-ROUTE-8 and F-ROUTE-11).

A call the routing refuses (blacklist, working hours, a number no line
serves) is a finished row saying why; a request refused before it is a call
from a trusted peer (a failed digest challenge) leaves none; a call the
routing forwards through a trunk after a queue rang ends as ``forwarded``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, Sipp, free_port
from switch import SwitchProcess
from test_routing_lines import (
    ANSWERED,
    CALLER,
    CLOSED,
    OPEN,
    REFUSED,
    ROUTING,
    client_call,
    employee,
    operator,
    routed_switch,
)

from softswitch.storage.records import CallRecord

pytestmark = pytest.mark.integration

BLACKLISTED = "+390200000000"  # on ROUTING's blacklist


def _only(switch: SwitchProcess) -> CallRecord:
    [record] = switch.wait_calls(1)
    return record


def _refused_row(record: CallRecord, caller: str, disposition: str, status: int) -> None:
    assert (record.state, record.direction, record.trunk, record.caller, record.callee) == (
        "ended", "inbound", "demo-operator", caller, "390212345600")
    assert (record.disposition, record.sip_status, record.hangup_side) == (
        disposition, status, "system")
    assert (record.answer_time, record.duration, record.billable_seconds) == (None, 0.0, 0.0)
    assert record.end_time == record.start_time


def test_blacklisted_call_has_a_cdr_row_f_route_8(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN) as switch:
        refused = client_call(switch, BLACKLISTED, REFUSED.format(status=603)).run(30)
        assert refused.all_successful, refused.summary()
        record = _only(switch)
        assert switch.legs(record.id) == []
    _refused_row(record, BLACKLISTED, "blacklisted", 603)
    assert record.end_reason == "blacklisted caller"


def test_out_of_hours_refusal_is_closed_then_blacklisted_f_route_7_f_route_8(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routing = ROUTING.replace('out_of_hours = "forward:+39 06 7777 7777"',
                              "out_of_hours_blacklist = true")
    caller = "+390633334444"
    with routed_switch(tmp_path, monkeypatch, CLOSED, routing=routing) as switch:
        for _ in range(2):
            result = client_call(switch, caller, REFUSED.format(status=603)).run(30)
            assert result.all_successful, result.summary()
        records = sorted(switch.wait_calls(2), key=lambda r: r.start_time)
    first, again = records
    _refused_row(first, caller, "closed", 603)
    _refused_row(again, caller, "blacklisted", 603)
    assert first.end_reason == "closed: caller blacklisted"


def test_number_no_line_serves_has_a_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN) as switch:
        result = client_call(switch, "+390611112222", REFUSED.format(status=404),
                             service="390299999999").run(30)
        assert result.all_successful, result.summary()
        record = _only(switch)
    assert (record.callee, record.disposition, record.sip_status, record.billable_seconds) == (
        "390299999999", "unavailable", 404, 0.0)
    assert (record.direction, record.trunk, record.state) == ("inbound", "demo-operator", "ended")


# Claims to be extension 101 with a made-up digest answer: challenged, never a call.
FORGED = 'Proxy-Authorization: Digest username="101", realm="x", nonce="n", ' \
         'uri="sip:1@x", response="00000000000000000000000000000000"'


def test_failed_challenge_leaves_no_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xml = CALLER.replace("Max-Forwards: 70\n", f"Max-Forwards: 70\n      {FORGED}\n", 1)
    xml = xml.replace("{final}", REFUSED.format(status=407))
    with routed_switch(tmp_path, monkeypatch, OPEN) as switch:
        scan = Sipp.from_xml(xml, target=switch.registrar, service="390212345600",
                             calls=1, variables={"caller": "101"}).run(30)
        assert scan.all_successful, scan.summary()
        blacklisted = client_call(switch, BLACKLISTED, REFUSED.format(status=603)).run(30)
        assert blacklisted.all_successful, blacklisted.summary()
        time.sleep(1.0)  # the batch writer's window, so a row for the scan would be there
        records = switch.calls()
    assert [r.caller for r in records] == [BLACKLISTED]


QUEUE_THEN_FORWARD = """
[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "sales"

[[routing.plans]]
name = "sales"
destination = "queue:sales"

[[routing.queues]]
name = "sales"
members = ["103"]
ring_time = 2
no_answer = "forward:+39 06 4444 4444"
"""


def test_queue_nobody_answers_then_forwarded_call_ends_forwarded_f_route_11(
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=QUEUE_THEN_FORWARD,
                       operator_port=port) as switch:
        member = employee(phones, switch, "103")
        with operator(port, "390644444444", "390611112222") as far:
            result = client_call(switch, "+390611112222", ANSWERED).run(30)
            forwarded = far.wait(15)
        assert result.all_successful, result.summary()
        assert forwarded.all_successful, forwarded.summary()
        assert len(member.incoming_calls()) == 1
        record = _only(switch)
        legs = switch.legs(record.id)
    assert [(leg.role, leg.direction) for leg in legs] == [
        ("caller", "inbound"), ("callee", "inbound"), ("callee", "forwarded")]
    assert (record.direction, record.disposition) == ("forwarded", "answered")
    assert record.billable_seconds is not None and record.billable_seconds > 0


def test_queue_answered_call_stays_inbound_f_route_11(
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=QUEUE_THEN_FORWARD) as switch:
        member = employee(phones, switch, "103")
        member.set_auto_answer(200, delay=0.3)
        result = client_call(switch, "+390611112222", ANSWERED).run(30)
        assert result.all_successful, result.summary()
        record = _only(switch)
    assert (record.direction, record.disposition) == ("inbound", "answered")
