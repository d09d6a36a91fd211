"""Answered calls through the B2BUA: hold and unhold (answered by the switch
with hold music when it anchors the media, F-MEDIA-2; relayed leg to leg when
anchoring is off, F-SIP-2 re-INVITE) and the maximum call duration
(F-ROUTE-10), with real pjsua2 phones and a real ``softswitch run``. Blind
transfer is in ``test_b2bua_transfer.py``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from media_checks import hears
from peers import Phone
from peers.audio import read_wav, rms
from switch import SwitchProcess
from test_b2bua_calls import registered

pytestmark = pytest.mark.integration


def connect(alice: Phone, bob: Phone, switch: SwitchProcess, number: str) -> tuple[int, int]:
    """``alice`` calls ``number``, which rings ``bob``, who answers."""
    call = alice.call(switch.uri(number))
    incoming = bob.wait_incoming(timeout=10)
    bob.answer(incoming.call)
    alice.wait_state(call, "CONFIRMED", timeout=10)
    bob.wait_state(incoming.call, "CONFIRMED", timeout=10)
    alice.wait_media(call, "ACTIVE", timeout=10)
    bob.wait_media(incoming.call, "ACTIVE", timeout=10)
    return call, incoming.call


def test_hold_and_unhold_pass_through(phones: Callable[..., Phone],
                                      tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path, extra="[media]\nanchor = false\n") as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        mark_a, mark_b = alice.mark(), bob.mark()
        alice.hold(call)
        alice.wait_media(call, "LOCAL_HOLD", timeout=10, start=mark_a)
        bob.wait_media(answered, "REMOTE_HOLD", timeout=10, start=mark_b)
        mark_a, mark_b = alice.mark(), bob.mark()
        alice.unhold(call)
        alice.wait_media(call, "ACTIVE", timeout=10, start=mark_a)
        bob.wait_media(answered, "ACTIVE", timeout=10, start=mark_b)
        mark_a, mark_b = alice.mark(), bob.mark()
        bob.hold(answered)  # the callee's side works the same way
        bob.wait_media(answered, "LOCAL_HOLD", timeout=10, start=mark_b)
        alice.wait_media(call, "REMOTE_HOLD", timeout=10, start=mark_a)
        mark_a, mark_b = alice.mark(), bob.mark()
        bob.unhold(answered)
        bob.wait_media(answered, "ACTIVE", timeout=10, start=mark_b)
        alice.wait_media(call, "ACTIVE", timeout=10, start=mark_a)
        assert alice.call_info(call)["state"] == "CONFIRMED"
        assert bob.call_info(answered)["state"] == "CONFIRMED"
        bob.hangup(answered)
        alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert record.disposition == "answered" and record.hangup_side == "callee"


def test_hold_plays_music_to_the_held_party(phones: Callable[..., Phone],
                                            tmp_path: Path) -> None:  # F-MEDIA-2
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        mark_a = alice.mark()
        alice.hold(call)
        alice.wait_media(call, "LOCAL_HOLD", timeout=10, start=mark_a)
        bob.record(answered, tmp_path / "held.wav")
        time.sleep(2.0)
        held, _ = read_wav(bob.stop_record(answered))
        mark_a = alice.mark()
        alice.unhold(call)
        alice.wait_media(call, "ACTIVE", timeout=10, start=mark_a)
        bob.record(answered, tmp_path / "resumed.wav")
        time.sleep(1.0)
        resumed, _ = read_wav(bob.stop_record(answered))
        assert bob.call_info(answered)["state"] == "CONFIRMED"
        # After unhold bob hears alice again, not the music.
        assert abs(hears(bob, answered, alice, call, tmp_path / "after") - 1000) < 30
        alice.hangup(call)
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
    assert rms(held[4000:]) > 0.02, "the held party hears hold music"
    assert rms(resumed[4000:]) < 0.005, "after unhold the music stops (alice is silent)"


def test_maximum_call_duration_ends_both_legs(phones: Callable[..., Phone],
                                              tmp_path: Path) -> None:  # F-ROUTE-10
    with SwitchProcess(tmp_path, max_call_duration=3) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        up = time.monotonic()
        by_caller = alice.wait_state(call, "DISCONNECTED", timeout=10)
        lasted = time.monotonic() - up
        by_callee = bob.wait_state(answered, "DISCONNECTED", timeout=5)
        [record] = switch.wait_calls(1)
    assert 2.0 <= lasted <= 5.0, f"the call lasted {lasted:.1f} s with a 3 s limit"
    assert by_caller.code == 200 and by_callee.code == 200  # BYE on both legs
    assert record.disposition == "max_duration" and record.hangup_side == "system"
    assert record.end_reason is not None and "maximum call duration" in record.end_reason
    assert record.billable_seconds is not None and 2.0 <= record.billable_seconds <= 5.0
