"""Desk phones through the B2BUA (F-SIP-5, F-OPS-3): real pjsua2 phones
register to a real ``softswitch run`` and call each other; every way a call
can end shows on the phones and in the call detail record."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, free_port
from switch import SwitchProcess, demo_config

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
    assert record.billable_seconds is not None and record.duration is not None
    assert record.billable_seconds >= 0 and record.duration >= record.billable_seconds


def test_callee_hangs_up(phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-OPS-3
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        bob.answer(incoming.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        bob.wait_state(incoming.call, "CONFIRMED", timeout=10)
        bob.hangup(incoming.call)
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert ended.code == 200  # a BYE, not a failure
    assert record.disposition == "answered" and record.hangup_side == "callee"
    assert record.end_reason == "callee hung up"


def test_wrong_password_is_refused_and_leaves_no_binding(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        intruder = phones(user="102")
        code = intruder.register(registrar=switch.registrar, user="102", password="demo101")
        assert code in (401, 403), f"a wrong password got {code}"
        call = alice.call(switch.uri("102"))
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
        time.sleep(0.3)
        assert not intruder.incoming_calls(), "a call reached a phone that never registered"
    assert ended.code == 480
    assert (record.caller, record.callee) == ("101", "102")
    assert record.disposition == "unavailable" and record.sip_status == 480
    assert record.answer_time is None


def test_wrong_password_cannot_call(phones: Callable[..., Phone],
                                    tmp_path: Path) -> None:  # F-SIP-5, F-SEC-1
    # The demo trunk accepts calls from 127.0.0.1, where the phones are too; an
    # operator elsewhere leaves only digest authentication to tell phones apart.
    port = free_port()
    config = demo_config(port, tmp_path / "var").replace(
        'allowed_sources = ["127.0.0.1"]', 'allowed_sources = ["192.0.2.1"]')
    with SwitchProcess(tmp_path, config=config, port=port) as switch:
        alice = registered(phones, switch, "101")
        intruder = phones(user="102")
        assert intruder.register(registrar=switch.registrar, user="102",
                                 password="wrong") in (401, 403)
        call = intruder.call(switch.uri("101"))  # with the same wrong credentials
        refused = intruder.wait_state(call, "DISCONNECTED", timeout=10)
        time.sleep(0.3)
        assert not alice.incoming_calls(), "an unauthenticated caller reached a phone"
        assert switch.calls() == []
    assert refused.code in (401, 403, 407)


def test_callee_busy(phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        alice.wait_state(call, "EARLY", timeout=10)
        bob.reject(incoming.call, 486)
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert (ended.code, ended.reason) == (486, "Busy Here")  # the callee's own words
    assert record.disposition == "busy" and record.sip_status == 486
    assert record.end_reason == "Busy Here"
    assert record.hangup_side == "callee" and record.answer_time is None


def test_callee_does_not_answer(phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path, ring_timeout=3) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        started = time.monotonic()
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        rang = time.monotonic() - started
        gone = bob.wait_state(incoming.call, "DISCONNECTED", timeout=5)
        [record] = switch.wait_calls(1)
    assert ended.code in (408, 480)
    assert 2.5 <= rang <= 6, f"the caller was released after {rang:.1f} s, ring time 3 s"
    assert gone.code == 487, "the ringing phone was not cancelled"
    assert record.disposition == "no_answer" and record.sip_status == ended.code
    assert record.hangup_side == "system"


def test_caller_cancels_while_callee_rings(phones: Callable[..., Phone],
                                           tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        alice.wait_state(call, "EARLY", timeout=10)
        alice.hangup(call)
        gone = bob.wait_state(incoming.call, "DISCONNECTED", timeout=10)
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert gone.code == 487 and ended.code == 487
    assert "CONFIRMED" not in bob.states(incoming.call)
    assert record.disposition == "cancelled" and record.hangup_side == "caller"
    assert record.answer_time is None


def test_caller_cancels_before_the_callee_rings(phones: Callable[..., Phone],
                                                tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102", ring=None)  # 100 Trying only
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        alice.hangup(call)
        alice.wait_state(call, "DISCONNECTED", timeout=10)
        gone = bob.wait_state(incoming.call, "DISCONNECTED", timeout=5)
        [record] = switch.wait_calls(1)
    assert gone.code == 487 and record.disposition == "cancelled"


def test_two_phones_of_102_ring_and_the_first_answer_wins(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        desk = registered(phones, switch, "102")
        mobile = registered(phones, switch, "102")
        assert desk.port != mobile.port
        call = alice.call(switch.uri("102"))
        on_desk = desk.wait_incoming(timeout=10)
        on_mobile = mobile.wait_incoming(timeout=10)
        mobile.answer(on_mobile.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        mobile.wait_state(on_mobile.call, "CONFIRMED", timeout=10)
        cancelled = desk.wait_state(on_desk.call, "DISCONNECTED", timeout=10)
        assert "CONFIRMED" not in desk.states(on_desk.call)
        assert alice.call_info(call)["state"] == "CONFIRMED"
        alice.hangup(call)
        mobile.wait_state(on_mobile.call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    assert cancelled.code == 487
    assert record.disposition == "answered"
    callee_legs = [leg for leg in legs if leg.role == "callee"]
    assert len(callee_legs) == 2
    assert sorted(leg.answer_time is not None for leg in callee_legs) == [False, True]


def test_every_phone_of_102_refuses_and_the_caller_hears_busy(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        desk = registered(phones, switch, "102")
        mobile = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        on_desk = desk.wait_incoming(timeout=10)
        on_mobile = mobile.wait_incoming(timeout=10)
        mobile.reject(on_mobile.call, 603)
        time.sleep(0.3)
        assert alice.call_info(call)["state"] == "EARLY", "one refusal ended a forked call"
        desk.reject(on_desk.call, 486)
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert ended.code == 486  # busy beats decline (RFC 3261 §16.7 step 6, simplified)
    assert record.disposition == "busy" and record.hangup_side == "callee"


def test_one_phone_busy_the_other_unanswered_gives_busy(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path, ring_timeout=2) as switch:
        alice = registered(phones, switch, "101")
        desk = registered(phones, switch, "102")
        mobile = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        on_desk = desk.wait_incoming(timeout=10)
        on_mobile = mobile.wait_incoming(timeout=10)
        desk.reject(on_desk.call, 486)
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        gone = mobile.wait_state(on_mobile.call, "DISCONNECTED", timeout=5)
        [record] = switch.wait_calls(1)
    assert gone.code == 487
    assert ended.code == 486, "the busy phone's answer is the best one (RFC 3261 §16.7)"
    assert record.disposition == "busy" and record.hangup_side == "callee"


def test_unregistered_phone_is_not_called(phones: Callable[..., Phone],
                                          tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        assert bob.unregister() == 200
        call = alice.call(switch.uri("102"))
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
        time.sleep(0.3)
        assert not bob.incoming_calls()
    assert ended.code == 480 and record.disposition == "unavailable"


def test_early_media_of_the_callee_reaches_the_caller(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102", ring=183)  # 183 with SDP
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=10)
        early = alice.wait_state(call, "EARLY", timeout=10)
        alice.wait_media(call, "ACTIVE", timeout=10)  # before any answer
        assert early.code == 183
        bob.answer(incoming.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        bob.wait_state(incoming.call, "CONFIRMED", timeout=10)
        alice.hangup(call)
        bob.wait_state(incoming.call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert record.disposition == "answered"
