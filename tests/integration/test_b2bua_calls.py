"""Desk phones through the B2BUA (F-SIP-5, F-OPS-3): real pjsua2 phones
register to a real ``softswitch run`` and call each other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone
from switch import SwitchProcess

pytestmark = pytest.mark.integration


def registered(phones: Callable[..., Phone], switch: SwitchProcess, user: str,
               **options: object) -> Phone:
    phone = phones(user=user, **options)
    code = phone.register(registrar=switch.registrar, user=user, password=f"demo{user}")
    assert code == 200, f"{user} could not register: {code}"
    return phone


def test_101_calls_102_answer_and_caller_hangs_up(phones: Callable[..., Phone],
                                                  tmp_path: Path) -> None:  # F-OPS-3
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        alice.wait_state(call, "EARLY", timeout=10)
        bob.answer(incoming.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        bob.wait_state(incoming.call, "CONFIRMED", timeout=10)
        alice.hangup(call)
        bob.wait_state(incoming.call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert (record.caller, record.callee) == ("101", "102")
    assert record.direction == "internal" and record.disposition == "answered"
    assert record.hangup_side == "caller"
    assert record.answer_time is not None and record.end_time is not None
    assert record.billable_seconds >= 0 and record.duration >= record.billable_seconds
