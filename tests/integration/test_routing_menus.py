"""Voice menus on the office line: a pjsua2 phone on the trunk presses keys over
RFC 4733 and pjsua2 employees are rung (F-ROUTE-3, F-ROUTE-5)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone
from test_routing_greeting import CLIENT, greeted
from test_routing_lines import OPEN, employee, routed_switch

pytestmark = pytest.mark.integration

MENUS = """
[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "office"

[[routing.plans]]
name = "office"
destination = "ivr:main"
{plan_extra}

[[routing.menus]]
name = "main"
prompt = "welcome"
keys = {{ 1 = "extension:102", 2 = "queue:sales", 3 = "ivr:support", 9 = "repeat" }}
timeout = 2
retries = 1
invalid_prompt = "invalid_extension"
on_failure = "extension:102"

[[routing.menus]]
name = "support"
prompt = "please_hold"
keys = {{ 1 = "extension:104", 0 = "back" }}
timeout = 3

[[routing.queues]]
name = "sales"
members = ["103"]
{queue_extra}
"""


def press(caller: Phone, call: int, *keys: str) -> None:
    for key in keys:
        caller.dial_dtmf(call, key)
        time.sleep(0.8)  # the next menu starts before the next key


def test_pressing_2_reaches_the_sales_queue(  # F-ROUTE-3, F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=MENUS) as switch:
        bob = employee(phones, switch, "102")
        sales = employee(phones, switch, "103")
        sales.set_auto_answer(200, delay=0.2)
        caller, call = greeted(phones, switch)
        press(caller, call, "2")
        incoming = sales.wait_incoming(timeout=10)
        sales.wait_state(incoming.call, "CONFIRMED", timeout=10)
        caller.hangup(call)
        [record] = switch.wait_calls(1)
    assert bob.incoming_calls() == []
    assert record.disposition == "answered" and record.caller == CLIENT


def test_nested_menu_and_back(  # F-ROUTE-3
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=MENUS) as switch:
        sales = employee(phones, switch, "103")
        support = employee(phones, switch, "104")
        caller, call = greeted(phones, switch)
        press(caller, call, "3", "0", "3", "1")  # support, back to main, support, 104
        support.wait_incoming(timeout=10)
        caller.hangup(call)
        switch.wait_calls(1)
    assert sales.incoming_calls() == []


def test_invalid_key_replays_the_menu_then_a_valid_one_counts(  # F-ROUTE-3
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=MENUS) as switch:
        bob = employee(phones, switch, "102")
        sales = employee(phones, switch, "103")
        caller, call = greeted(phones, switch)
        press(caller, call, "7", "2")
        sales.wait_incoming(timeout=10)
        caller.hangup(call)
        switch.wait_calls(1)
    assert bob.incoming_calls() == []
    assert "MenuVisit(menu='main', attempt=1" in switch.log()


def test_no_key_after_the_retries_goes_to_on_failure(  # F-ROUTE-3
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=MENUS) as switch:
        bob = employee(phones, switch, "102")
        sales = employee(phones, switch, "103")
        caller, call = greeted(phones, switch)
        bob.wait_incoming(timeout=40)  # two plays of the menu, 2 s of silence after each
        caller.hangup(call)
        switch.wait_calls(1)
    assert sales.incoming_calls() == []


def test_extension_dialled_in_the_menu_rings_that_employee(  # F-ROUTE-3
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Key 1 is also the first digit of 104: the menu waits for more digits."""
    routing = MENUS.replace('on_failure = "extension:102"',
                            'on_failure = "extension:102"\nextension_dialing = true')
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=routing) as switch:
        bob = employee(phones, switch, "102")
        support = employee(phones, switch, "104")
        caller, call = greeted(phones, switch)
        press(caller, call, "1", "0", "4")
        support.wait_incoming(timeout=10)
        caller.hangup(call)
        switch.wait_calls(1)
    assert bob.incoming_calls() == []
