"""Blind transfer by REFER through the B2BUA (F-SIP-6): the switch takes the
REFER of either party, rings the target, reports progress to the transferor
in NOTIFYs (RFC 3515 §2.4.5) and joins the other party to the target; with
real pjsua2 phones and a real ``softswitch run``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from media_checks import hears
from peers import Phone
from switch import SwitchProcess
from test_b2bua_calls import registered
from test_b2bua_midcall import connect

pytestmark = pytest.mark.integration


def test_callee_transfers_the_caller_to_103(phones: Callable[..., Phone],
                                            tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        bob.transfer(answered, switch.uri("103"))
        transferred = carol.wait_incoming(timeout=10)
        assert "101" in transferred.from_, f"103 sees the call from {transferred.from_}"
        carol.answer(transferred.call)
        carol.wait_state(transferred.call, "CONFIRMED", timeout=10)
        bob.wait_event("transfer_status", answered, code=200, final=True, timeout=10)
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
        carol.wait_media(transferred.call, "ACTIVE", timeout=10)
        assert alice.call_info(call)["state"] == "CONFIRMED"
        assert carol.call_info(transferred.call)["state"] == "CONFIRMED"
        assert abs(hears(alice, call, carol, transferred.call, tmp_path) - 1000) < 30
        assert abs(hears(carol, transferred.call, alice, call, tmp_path, 2000) - 2000) < 30
        alice.hangup(call)
        carol.wait_state(transferred.call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    assert record.disposition == "answered" and record.hangup_side == "caller"
    assert len(legs) == 3 and all(leg.answer_time is not None for leg in legs)
    assert all(leg.end_time is not None for leg in legs)


def test_caller_transfers_the_callee_to_103(phones: Callable[..., Phone],
                                            tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        alice.transfer(call, switch.uri("103"))
        transferred = carol.wait_incoming(timeout=10)
        carol.answer(transferred.call)
        carol.wait_state(transferred.call, "CONFIRMED", timeout=10)
        alice.wait_state(call, "DISCONNECTED", timeout=10)
        assert bob.call_info(answered)["state"] == "CONFIRMED"
        assert abs(hears(bob, answered, carol, transferred.call, tmp_path) - 1000) < 30
        carol.hangup(transferred.call)
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert record.disposition == "answered"


def test_transferor_hangs_up_at_once_and_the_transfer_still_completes(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        bob.transfer(answered, switch.uri("103"))
        bob.wait_event("transfer_status", answered, timeout=10)  # REFER accepted
        bob.hangup(answered)  # what many desk phones do on a blind transfer
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
        transferred = carol.wait_incoming(timeout=10)
        time.sleep(0.3)
        assert alice.call_info(call)["state"] == "CONFIRMED", "the transferee was dropped"
        carol.answer(transferred.call)
        carol.wait_state(transferred.call, "CONFIRMED", timeout=10)
        assert alice.call_info(call)["state"] == "CONFIRMED"
        alice.hangup(call)
        carol.wait_state(transferred.call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert record.disposition == "answered" and record.hangup_side == "caller"


def test_transferee_hangs_up_while_the_target_rings(phones: Callable[..., Phone],
                                                    tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        bob.transfer(answered, switch.uri("103"))
        transferred = carol.wait_incoming(timeout=10)
        alice.hangup(call)
        gone = carol.wait_state(transferred.call, "DISCONNECTED", timeout=5)
        bob.wait_state(answered, "DISCONNECTED", timeout=5)
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    assert gone.code == 487, "the transfer target kept ringing for nobody"
    assert record.hangup_side == "caller"
    assert all(leg.end_time is not None for leg in legs)


def test_transfer_target_does_not_answer(phones: Callable[..., Phone],
                                         tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path, ring_timeout=3) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        bob.transfer(answered, switch.uri("103"))
        transferred = carol.wait_incoming(timeout=10)
        gone = carol.wait_state(transferred.call, "DISCONNECTED", timeout=8)
        final = bob.wait_event("transfer_status", answered, final=True, timeout=5)
        assert final.get("code") >= 300, f"a failed transfer was reported as {final.fields}"
        # The transferor still has the caller and can go on talking.
        assert alice.call_info(call)["state"] == "CONFIRMED"
        assert bob.call_info(answered)["state"] == "CONFIRMED"
        bob.hangup(answered)
        alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert gone.code == 487
    assert record.disposition == "answered" and record.hangup_side == "callee"


def test_transfer_target_busy_is_reported_to_the_transferor(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        bob.transfer(answered, switch.uri("103"))
        transferred = carol.wait_incoming(timeout=10)
        carol.reject(transferred.call, 486)
        final = bob.wait_event("transfer_status", answered, final=True, timeout=5)
        assert final.get("code") == 486
        assert alice.call_info(call)["state"] == "CONFIRMED"
        alice.hangup(call)
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert record.disposition == "answered" and record.hangup_side == "caller"


def test_transfer_fails_after_the_transferor_left(phones: Callable[..., Phone],
                                                  tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        bob.transfer(answered, switch.uri("103"))
        bob.wait_event("transfer_status", answered, timeout=10)
        bob.hangup(answered)
        transferred = carol.wait_incoming(timeout=10)
        carol.reject(transferred.call, 486)
        ended = alice.wait_state(call, "DISCONNECTED", timeout=5)  # nobody to go back to
        [record] = switch.wait_calls(1)
    assert ended.code == 200  # a BYE: the call had been answered
    assert record.disposition == "answered" and record.hangup_side == "callee"
    assert record.end_reason is not None and "transfer failed with 486" in record.end_reason


def test_transfer_rings_every_phone_of_the_target(phones: Callable[..., Phone],
                                                  tmp_path: Path) -> None:  # F-SIP-6, F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        desk = registered(phones, switch, "103")
        mobile = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        bob.transfer(answered, switch.uri("103"))
        on_desk = desk.wait_incoming(timeout=10)
        on_mobile = mobile.wait_incoming(timeout=10)
        desk.answer(on_desk.call)
        desk.wait_state(on_desk.call, "CONFIRMED", timeout=10)
        cancelled = mobile.wait_state(on_mobile.call, "DISCONNECTED", timeout=10)
        assert alice.call_info(call)["state"] == "CONFIRMED"
        assert abs(hears(alice, call, desk, on_desk.call, tmp_path) - 1000) < 30
        desk.hangup(on_desk.call)
        alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    assert cancelled.code == 487 and "CONFIRMED" not in mobile.states(on_mobile.call)
    assert len(legs) == 4 and sum(leg.answer_time is not None for leg in legs) == 3


def test_transfer_after_hold_gives_two_way_media(phones: Callable[..., Phone],
                                                 tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        mark_b = bob.mark()
        bob.hold(answered)  # what desk phones do when Transfer is pressed
        bob.wait_media(answered, "LOCAL_HOLD", timeout=10, start=mark_b)
        bob.transfer(answered, switch.uri("103"))
        transferred = carol.wait_incoming(timeout=10)
        carol.answer(transferred.call)
        carol.wait_media(transferred.call, "ACTIVE", timeout=10)
        # No longer held: alice and carol hear each other, not hold music.
        assert abs(hears(alice, call, carol, transferred.call, tmp_path) - 1000) < 30
        assert abs(hears(carol, transferred.call, alice, call, tmp_path, 2000) - 2000) < 30
        alice.hangup(call)
        carol.wait_state(transferred.call, "DISCONNECTED", timeout=10)


def test_call_ending_right_after_the_transfer_releases_the_transferor(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, answered = connect(alice, bob, switch, "102")
        bob.transfer(answered, switch.uri("103"))
        transferred = carol.wait_incoming(timeout=10)
        carol.answer(transferred.call)
        carol.wait_state(transferred.call, "CONFIRMED", timeout=10)
        carol.hangup(transferred.call)  # before the transferor has hung up
        alice.wait_state(call, "DISCONNECTED", timeout=10)
        bob.wait_state(answered, "DISCONNECTED", timeout=5)
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    assert all(leg.end_time is not None for leg in legs)


def test_target_sees_the_transferee_when_the_caller_transfers(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-6
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        carol = registered(phones, switch, "103")
        call, _ = connect(alice, bob, switch, "102")
        alice.transfer(call, switch.uri("103"))
        transferred = carol.wait_incoming(timeout=10)
        carol.reject(transferred.call, 486)
    assert "sip:102@" in transferred.from_, f"103 sees the call from {transferred.from_}"
