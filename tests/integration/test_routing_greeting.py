"""The welcome greeting with extension dialing, a pjsua2 phone as the operator's
caller (an unregistered phone on 127.0.0.1 is taken for the demo trunk) and
pjsua2 employees (F-ROUTE-2, F-ROUTE-11)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, free_port
from switch import SwitchProcess
from test_routing_lines import OFFICE_DID, OPEN, employee, operator, routed_switch

pytestmark = pytest.mark.integration

GREETING = """
[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "office"

[[routing.plans]]
name = "office"
greeting = "welcome"
extension_dialing = true
dialled_no_answer = "mobile"
destination = "queue:sales"
{plan_extra}

[[routing.queues]]
name = "sales"
members = ["103"]
{queue_extra}
"""

CLIENT = "390611112222"


def client(phones: Callable[..., Phone]) -> Phone:
    """The operator's caller: a phone that never registers."""
    return phones(user=CLIENT)


def greeted(phones: Callable[..., Phone], switch: SwitchProcess) -> tuple[Phone, int]:
    """A call to the office line, answered by the switch's greeting."""
    caller = client(phones)
    call = caller.call(switch.uri(OFFICE_DID))
    caller.wait_state(call, "CONFIRMED", timeout=10)
    caller.wait_media(call)
    return caller, call


def test_dialling_102_during_the_greeting_reaches_102(  # F-ROUTE-2
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=GREETING) as switch:
        bob = employee(phones, switch, "102")
        member = employee(phones, switch, "103")
        caller, call = greeted(phones, switch)
        caller.dial_dtmf(call, "102")
        incoming = bob.wait_incoming(timeout=10)
        bob.answer(incoming.call)
        bob.wait_state(incoming.call, "CONFIRMED", timeout=10)
        caller.hangup(call)
        caller.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert member.incoming_calls() == []
    assert record.disposition == "answered" and record.caller == CLIENT


def test_silence_during_the_greeting_goes_to_the_plans_destination(  # F-ROUTE-2
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=GREETING) as switch:
        member = employee(phones, switch, "103")
        member.set_auto_answer(200, delay=0.2)
        caller, call = greeted(phones, switch)
        incoming = member.wait_incoming(timeout=20)  # after the whole greeting
        member.wait_state(incoming.call, "CONFIRMED", timeout=10)
        caller.hangup(call)
        [record] = switch.wait_calls(1)
    assert record.disposition == "answered"


def test_unanswered_dialled_extension_forwards_to_its_mobile(  # F-ROUTE-2, F-ROUTE-11
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    with routed_switch(tmp_path, monkeypatch, OPEN, operator_port=port, routing=GREETING,
                       ring_timeout=3) as switch:
        anna = employee(phones, switch, "101")  # mobile +39 333 000 0101, never answers
        anna.set_auto_answer(None)
        with operator(port, "393330000101", CLIENT) as far:
            caller, call = greeted(phones, switch)
            caller.dial_dtmf(call, "101")
            anna.wait_incoming(timeout=10)
            time.sleep(5)  # 101 rings out after 3 s; the operator answers the forward
            assert caller.states(call)[-1] == "CONFIRMED"
            caller.hangup(call)
            result = far.wait(15)
            assert result.all_successful, result.summary()
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    assert [leg.direction for leg in legs if leg.role == "callee"] == ["inbound", "forwarded"]


def test_wrong_extension_plays_a_notice_then_continues(  # F-ROUTE-2
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=GREETING) as switch:
        member = employee(phones, switch, "103")
        caller, call = greeted(phones, switch)
        caller.dial_dtmf(call, "109")
        member.wait_incoming(timeout=15)  # after the notice, the plan's queue
        caller.hangup(call)
        switch.wait_calls(1)
    assert "Play(prompt='invalid_extension'" in switch.log()


def test_in_band_tones_during_the_greeting_select_the_extension(  # F-ROUTE-2, F-MEDIA-1
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routing = GREETING + '\n[media]\ninband_dtmf = "always"\n'
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=routing) as switch:
        bob = employee(phones, switch, "102")
        caller, call = greeted(phones, switch)
        caller.dial_dtmf(call, "102", method="inband")
        bob.wait_incoming(timeout=15)
        caller.hangup(call)
        switch.wait_calls(1)
    log = switch.log()
    assert "digit 2 from a (inband)" in log and "(rfc4733)" not in log
