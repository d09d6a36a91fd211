"""Employees set their working state from their own desk phone with the
status feature codes; queue groups skip those on a break or not started, and
the state set at run time (like numbers blacklisted by routing) survives a
restart (F-ROUTE-5, F-ROUTE-8). pjsua2 phones are the employees, SIPp the
operator's caller."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone
from peers.audio import read_wav, rms
from switch import SwitchProcess
from test_routing_lines import (
    ANSWERED,
    CLOSED,
    OPEN,
    REFUSED,
    ROUTING,
    client_call,
    employee,
    routed_switch,
)

pytestmark = pytest.mark.integration

CODES = 'status_codes = { "*71" = "working", "*72" = "break", "*73" = "not_started" }'

QUEUE = """
[routing]
{plan_extra}

[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "sales"

[[routing.plans]]
name = "sales"
destination = "queue:sales"

[[routing.queues]]
name = "sales"
members = ["103", "104"]
strategy = "in_turn"
{queue_extra}
"""


def dial_code(phone: Phone, switch: SwitchProcess, code: str, heard: Path | None = None
              ) -> None:
    """Dial a feature code; the switch answers, confirms and hangs up itself
    once the prompt has played (well before its 15 s safety limit)."""
    began = time.monotonic()
    call = phone.call(switch.uri(code))
    phone.wait_state(call, "CONFIRMED", timeout=10)
    if heard is not None:
        phone.record(call, heard)
        time.sleep(1.5)
        phone.stop_record(call)
    state = phone.wait_state(call, "DISCONNECTED", timeout=20)
    assert state.code in (0, 200), state  # the switch's BYE, not a failure
    assert time.monotonic() - began < 10, "hung up when the confirmation ended"


def rung_members(switch: SwitchProcess, team: dict[str, Phone], calls: int) -> list[str]:
    """Call the line ``calls`` times; which member answered each call."""
    order = []
    for _ in range(calls):
        before = {number: len(phone.incoming_calls()) for number, phone in team.items()}
        result = client_call(switch, "+390611112222", ANSWERED).run(30)
        assert result.all_successful, result.summary()
        order += [n for n, phone in team.items() if len(phone.incoming_calls()) > before[n]]
    return order


def queue_team(phones: Callable[..., Phone], switch: SwitchProcess) -> dict[str, Phone]:
    team = {number: employee(phones, switch, number) for number in ("103", "104")}
    for phone in team.values():
        phone.set_auto_answer(200, delay=0.2)
    return team


def test_break_and_back_from_the_desk_phone(  # F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=QUEUE, plan_extra=CODES) as switch:
        team = queue_team(phones, switch)
        dial_code(team["104"], switch, "*72", heard=tmp_path / "confirmation.wav")
        on_break = rung_members(switch, team, 2)
        dial_code(team["104"], switch, "*71")
        back = rung_members(switch, team, 2)
        records = switch.wait_calls(6)
    samples, _ = read_wav(tmp_path / "confirmation.wav")
    assert rms(samples) > 0.02, "the employee hears the confirmation"
    assert on_break == ["103", "103"]
    assert sorted(back) == ["103", "104"]
    log = switch.log()
    assert "extension 104 is now break (was working): feature code *72" in log
    assert "extension 104 is now working (was break): feature code *71" in log
    codes = [r for r in records if r.callee in ("*71", "*72")]
    assert [(r.caller, r.direction, r.disposition) for r in codes] == [
        ("104", "internal", "answered")] * 2


def test_status_and_blacklist_survive_a_restart(  # F-ROUTE-5, F-ROUTE-7, F-ROUTE-8
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routing = ROUTING.replace('out_of_hours = "forward:+39 06 7777 7777"',
                              "out_of_hours_blacklist = true")
    escaped = CODES.replace("{", "{{").replace("}", "}}")  # ROUTING is a format string
    routing = routing.replace("blacklist_status = 603", f"blacklist_status = 603\n{escaped}")
    with routed_switch(tmp_path, monkeypatch, CLOSED, routing=routing) as switch:
        refused = client_call(switch, "+390633334444", REFUSED.format(status=603)).run(30)
        assert refused.all_successful, refused.summary()
        team = {number: employee(phones, switch, number) for number in ("103", "105")}
        dial_code(team["103"], switch, "*73")
        switch.stop()
        monkeypatch.setenv("SOFTSWITCH_FAKE_NOW", OPEN)  # in working hours now
        switch.start()
        for phone in team.values():
            phone.set_auto_answer(200, delay=0.2)
        again = client_call(switch, "+390633334444", REFUSED.format(status=603)).run(30)
        assert again.all_successful, again.summary()
        before = len(team["103"].incoming_calls())
        result = client_call(switch, "+390611112222", ANSWERED).run(30)
        assert result.all_successful, result.summary()
    assert len(team["103"].incoming_calls()) == before, "103 signed off before the restart"
    assert len(team["105"].incoming_calls()) == 1
    log = switch.log()
    assert "restored 1 member statuses and 1 blacklisted numbers" in log
    assert log.count("refused with 603: blacklisted caller") == 1
