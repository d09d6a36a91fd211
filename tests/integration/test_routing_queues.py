"""Queue groups over several calls, SIPp as the operator and pjsua2 members:
in-turn and evenly order, a member on a break never rung, every member
failing to answer (F-ROUTE-5)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone
from switch import SwitchProcess
from test_routing_lines import ANSWERED, OPEN, client_call, employee, routed_switch

pytestmark = pytest.mark.integration

QUEUES = """
[routing]
{plan_extra}

[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "sales"

[[routing.lines]]
did = "+39 02 1234 5601"
trunk = "demo-operator"
plan = "support"

[[routing.plans]]
name = "sales"
destination = "queue:sales"

[[routing.plans]]
name = "support"
destination = "queue:support"

[[routing.queues]]
name = "sales"
members = ["103", "104", "105"]
{queue_extra}

[[routing.queues]]
name = "support"
members = ["103"]
"""


def members(phones: Callable[..., Phone], switch: SwitchProcess) -> dict[str, Phone]:
    found = {number: employee(phones, switch, number) for number in ("103", "104", "105")}
    for phone in found.values():
        phone.set_auto_answer(200, delay=0.2)
    return found


def who_answers(switch: SwitchProcess, team: dict[str, Phone], did: str = "390212345600"
                ) -> str:
    """Call the line once; the member whose phone rang."""
    before = {number: len(phone.incoming_calls()) for number, phone in team.items()}
    result = client_call(switch, "+390611112222", ANSWERED, service=did).run(30)
    assert result.all_successful, result.summary()
    rung = [n for n, phone in team.items() if len(phone.incoming_calls()) > before[n]]
    assert len(rung) == 1, rung
    return rung[0]


def test_in_turn_rings_the_next_member_each_call(  # F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=QUEUES,
                       queue_extra='strategy = "in_turn"') as switch:
        team = members(phones, switch)
        order = [who_answers(switch, team) for _ in range(4)]
    assert order == ["103", "104", "105", "103"]


def test_evenly_rings_the_member_rung_least_recently(  # F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=QUEUES,
                       queue_extra='strategy = "evenly"') as switch:
        team = members(phones, switch)
        first = who_answers(switch, team, did="390212345601")  # support rings 103
        order = [who_answers(switch, team) for _ in range(3)]
    # in turn would start with 103; evenly knows 103 was rung by the support queue
    assert first == "103" and order == ["104", "105", "103"]


def test_member_on_a_break_is_never_rung(  # F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=QUEUES,
                       plan_extra='member_status = { 104 = "break" }',
                       queue_extra='strategy = "in_turn"') as switch:
        team = members(phones, switch)
        order = [who_answers(switch, team) for _ in range(3)]
    assert order == ["103", "105", "103"]
    assert team["104"].incoming_calls() == []


def test_members_ring_in_turn_until_one_answers(  # F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=QUEUES,
                       queue_extra='strategy = "in_turn"\nring_time = 2') as switch:
        team = members(phones, switch)
        team["103"].set_auto_answer(None)
        team["104"].set_auto_answer(None)
        assert who_answers_last(switch, team) == ["103", "104", "105"]


def who_answers_last(switch: SwitchProcess, team: dict[str, Phone]) -> list[str]:
    result = client_call(switch, "+390611112222", ANSWERED).run(30)
    assert result.all_successful, result.summary()
    return [n for n, phone in team.items() if phone.incoming_calls()]
