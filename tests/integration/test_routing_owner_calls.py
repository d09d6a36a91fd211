"""Known caller → responsible employee over the wire (F-ROUTE-4): SIPp as the
operator calling from a client's number, pjsua2 phones as employees."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone
from switch import SwitchProcess
from test_routing_lines import ANSWERED, OPEN, client_call, employee, routed_switch

pytestmark = pytest.mark.integration

OWNERS = """
[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "sales"

[[routing.plans]]
name = "sales"
destination = "queue:sales"
owner_routing = true

[[routing.queues]]
name = "sales"
members = ["103"]

[[clients]]
number = "+39 06 1111 2222"
owner = "102"
name = "ACME"
"""

CLIENT = "+390611112222"
STRANGER = "+390633334444"


def staff(phones: Callable[..., Phone], switch: SwitchProcess) -> dict[str, Phone]:
    team = {number: employee(phones, switch, number) for number in ("102", "103")}
    for phone in team.values():
        phone.set_auto_answer(200, delay=0.2)
    return team


def test_known_caller_reaches_the_responsible_employee(  # F-ROUTE-4
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=OWNERS) as switch:
        team = staff(phones, switch)
        result = client_call(switch, CLIENT, ANSWERED).run(30)
        assert result.all_successful, result.summary()
        assert len(team["102"].incoming_calls()) == 1
        assert team["103"].incoming_calls() == []
        stranger = client_call(switch, STRANGER, ANSWERED).run(30)
        assert stranger.all_successful, stranger.summary()
        assert len(team["102"].incoming_calls()) == 1
        assert len(team["103"].incoming_calls()) == 1


def test_responsible_employee_not_answering_continues_to_the_queue(  # F-ROUTE-4
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=OWNERS, ring_timeout=2) as switch:
        team = staff(phones, switch)
        team["102"].set_auto_answer(None)
        result = client_call(switch, CLIENT, ANSWERED).run(30)
        assert result.all_successful, result.summary()
        assert len(team["102"].incoming_calls()) == 1
        assert len(team["103"].incoming_calls()) == 1
