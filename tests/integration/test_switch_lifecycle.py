"""The softswitch process as a whole: started the way a newcomer starts it
(F-OPS-1), and killed mid-call then restarted (F-OPS-3: the CDR is finished,
the registrations survive), with real pjsua2 phones."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, port_in_use
from switch import DEMO_PORT, SwitchProcess
from test_b2bua_calls import registered

from softswitch.storage.records import CallRecord

pytestmark = pytest.mark.integration


def test_run_with_no_arguments_and_register_101(phones: Callable[..., Phone],
                                                tmp_path: Path) -> None:  # F-OPS-1
    if port_in_use(DEMO_PORT):
        pytest.fail(f"127.0.0.1:{DEMO_PORT} is taken; the demo configuration needs it")
    switch = SwitchProcess(tmp_path, newcomer=True)
    with switch:
        phone = phones(user="101")
        code = phone.register(registrar=f"127.0.0.1:{DEMO_PORT}", user="101",
                              password="demo101")
        assert code == 200, f"101 with the README's password got {code}"
        assert (tmp_path / "var" / "softswitch.db").exists(), "no database in ./var"
        wrong = phones(user="102").register(registrar=f"127.0.0.1:{DEMO_PORT}", user="102",
                                            password="demo101")
        assert wrong in (401, 403)
        # The README goes on: register another phone as 102/demo102 and call 102.
        other = phones(user="102")
        assert other.register(registrar=f"127.0.0.1:{DEMO_PORT}", user="102",
                              password="demo102") == 200
        call = phone.call(f"sip:102@127.0.0.1:{DEMO_PORT}")
        incoming = other.wait_incoming(timeout=10)
        other.answer(incoming.call)
        phone.wait_state(call, "CONFIRMED", timeout=10)
        phone.hangup(call)
        other.wait_state(incoming.call, "DISCONNECTED", timeout=10)
        assert switch.stop(signal.SIGTERM) == 0, switch.log()[-2000:]
        [record] = switch.calls()
    assert "softswitch stopped" in switch.log()
    assert record.disposition == "answered" and (record.caller, record.callee) == ("101", "102")


def _wait_answered(switch: SwitchProcess, timeout: float = 5.0) -> CallRecord:
    """The active call's row once its answer has reached the database."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [c for c in switch.calls() if c.answer_time is not None]
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError(f"no answered call in the CDRs: {switch.calls()}")


def test_killed_mid_call_then_restarted(phones: Callable[..., Phone],
                                        tmp_path: Path) -> None:  # F-OPS-3, F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        bob.answer(incoming.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        live = _wait_answered(switch)
        assert live.state == "active" and live.end_time is None
        assert switch.stop(signal.SIGKILL) == -signal.SIGKILL
        switch.start()
        [record] = switch.wait_calls(1, timeout=5)
        assert record.id == live.id and record.disposition == "interrupted"
        assert record.end_time is not None and record.hangup_side == "system"
        assert record.answer_time is not None and record.billable_seconds is not None
        # The phones did not register again; the restarted switch still knows them.
        second = alice.call(switch.uri("102"))
        again = bob.wait_incoming(timeout=10)
        bob.answer(again.call)
        alice.wait_state(second, "CONFIRMED", timeout=10)
        alice.hangup(second)
        bob.wait_state(again.call, "DISCONNECTED", timeout=10)
        records = switch.wait_calls(2)
    assert len(bob.events("reg_state")) == 1 and len(alice.events("reg_state")) == 1
    assert sorted(str(r.disposition) for r in records) == ["answered", "interrupted"]


def test_stopped_mid_call_ends_both_legs_and_the_cdr(phones: Callable[..., Phone],
                                                     tmp_path: Path) -> None:  # F-OPS-3
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        bob.answer(incoming.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        _wait_answered(switch)
        assert switch.stop(signal.SIGTERM) == 0
        alice.wait_state(call, "DISCONNECTED", timeout=5)
        bob.wait_state(incoming.call, "DISCONNECTED", timeout=5)
        [record] = switch.calls()
    assert record.state == "ended" and record.hangup_side == "system"
    assert record.disposition == "answered" and record.end_time is not None


def test_stopped_while_ringing_releases_both_phones(phones: Callable[..., Phone],
                                                    tmp_path: Path) -> None:  # F-OPS-3
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        alice.wait_state(call, "EARLY", timeout=10)
        assert switch.stop(signal.SIGTERM) == 0
        refused = alice.wait_state(call, "DISCONNECTED", timeout=5)
        cancelled = bob.wait_state(incoming.call, "DISCONNECTED", timeout=5)
        [record] = switch.calls()
    assert refused.code == 503 and cancelled.code == 487
    assert record.state == "ended" and record.hangup_side == "system"
    assert record.answer_time is None
