"""Queue groups over several calls, SIPp as the operator and pjsua2 members:
in-turn and evenly order, a member on a break never rung, every member
failing to answer (F-ROUTE-5)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, free_port
from peers.audio import read_wav, rms
from switch import SwitchProcess
from test_routing_lines import ANSWERED, OPEN, client_call, employee, operator, routed_switch

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


HOLD = """
[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "sales"

[[routing.plans]]
name = "sales"
destination = "queue:sales"
{plan_extra}

[[routing.queues]]
name = "sales"
members = ["103"]
hold_music = "hold_music"
{queue_extra}
"""


def test_caller_hears_hold_music_while_the_queue_rings(  # F-ROUTE-5, F-MEDIA-2
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=HOLD) as switch:
        member = employee(phones, switch, "103")
        caller = phones(user="390611112222")
        call = caller.call(switch.uri("390212345600"))
        incoming = member.wait_incoming(timeout=10)
        caller.record(call, tmp_path / "waiting.wav")  # early media (183)
        time.sleep(2.0)
        assert caller.states(call)[-1] == "EARLY"
        member.answer(incoming.call)
        caller.wait_state(call, "CONFIRMED", timeout=10)
        caller.hangup(call)
        [record] = switch.wait_calls(1)
    samples, _ = read_wav(tmp_path / "waiting.wav")
    assert rms(samples[:8000]) > 0.02, "the waiting caller hears music"
    assert record.disposition == "answered"


EMPTY = """
[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "sales"

[[routing.plans]]
name = "sales"
destination = "queue:night"
{plan_extra}

[[routing.queues]]
name = "night"
members = []
no_answer = "forward:+39 06 4444 4444"
{queue_extra}
"""


def test_empty_queue_with_a_number_forwards_at_once(  # F-ROUTE-5, F-ROUTE-11
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=EMPTY,
                       operator_port=port) as switch:
        with operator(port, "390644444444", "390611112222") as far:
            result = client_call(switch, "+390611112222", ANSWERED).run(30)
            forwarded = far.wait(15)
        assert result.all_successful, result.summary()
        assert forwarded.all_successful, forwarded.summary()
        [record] = switch.wait_calls(1)
    assert record.direction == "forwarded"
