"""The test peers themselves, proven peer to peer on 127.0.0.1.

pjsua2 phone <-> pjsua2 phone, SIPp uac <-> SIPp uas, pjsua2 <-> SIPp both
ways: basic call (RFC 3261 section 13), busy and CANCEL, extra headers,
RFC 3264 hold, RFC 3515 blind transfer, RFC 4733 and SIP INFO DTMF, audio
(a 1 kHz tone through RTP, checked by FFT), and the harness's own failure
behaviour (timeouts, errors, child cleanup).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from peers import REGISTRAR_DIGEST, UAS_SHORT, Phone, PhoneError, Sipp, SippProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(20)]

PhoneFactory = Callable[..., Phone]
SippFactory = Callable[..., SippProcess]


@pytest.fixture
def audio() -> ModuleType:
    """``peers.audio`` (tone files, FFT), which needs numpy."""
    pytest.importorskip("numpy", reason="numpy is needed for the audio checks")
    from peers import audio as module
    return module


def _connected(phones: PhoneFactory) -> tuple[Phone, Phone, int, int]:
    """Alice calls Bob, Bob answers; return both phones and both call handles."""
    alice, bob = phones(user="alice"), phones(user="bob")
    call = alice.call(bob.contact("bob"))
    incoming = bob.wait_incoming()
    bob.answer(incoming.call)
    alice.wait_state(call, "CONFIRMED")
    bob.wait_state(incoming.call, "CONFIRMED")
    return alice, bob, call, incoming.call


def test_two_phones_call_answer_and_hang_up(phones: PhoneFactory) -> None:
    alice, bob = phones(user="alice"), phones(user="bob")
    call = alice.call(bob.contact("bob"))
    incoming = bob.wait_incoming()
    assert "alice" in incoming.from_ and "bob" in incoming.to
    assert incoming.request_line.startswith(f"INVITE {bob.contact('bob')}")
    assert alice.wait_state(call, "EARLY").code == 180
    bob.answer(incoming.call)
    confirmed = alice.wait_state(call, "CONFIRMED")
    assert confirmed.code == 200
    assert confirmed.sip_call_id == incoming.sip_call_id
    bob.wait_state(incoming.call, "CONFIRMED")
    alice.hangup(call)
    assert alice.wait_state(call, "DISCONNECTED").state == "DISCONNECTED"
    bob.wait_state(incoming.call, "DISCONNECTED")
    assert alice.states(call) == ["CALLING", "EARLY", "CONNECTING", "CONFIRMED",
                                  "DISCONNECTED"]


def test_busy_callee_rejects_with_486(phones: PhoneFactory) -> None:
    alice, bob = phones(user="alice"), phones(user="bob")
    call = alice.call(bob.contact("bob"))
    bob.reject(bob.wait_incoming().call, 486)
    ended = alice.wait_state(call, "DISCONNECTED")
    assert ended.code == 486
    with pytest.raises(PhoneError, match="ended with 486"):
        alice.wait_state(call, "CONFIRMED", timeout=1)


def test_caller_cancels_while_ringing(phones: PhoneFactory) -> None:
    alice, bob = phones(user="alice"), phones(user="bob")
    call = alice.call(bob.contact("bob"))
    incoming = bob.wait_incoming()
    alice.wait_state(call, "EARLY")
    alice.hangup(call)
    assert bob.wait_state(incoming.call, "DISCONNECTED").code == 487
    assert alice.wait_state(call, "DISCONNECTED").code == 487


def test_extra_headers_reach_the_callee(phones: PhoneFactory) -> None:
    alice, bob = phones(user="alice"), phones(user="bob")
    bob.set_auto_answer(200)
    call = alice.call(bob.contact("bob"), headers={"X-Test-Case": "peers-42"})
    assert bob.wait_incoming().header("x-test-case") == "peers-42"
    alice.wait_state(call, "CONFIRMED")


def test_two_phones_call_over_tcp(phones: PhoneFactory) -> None:
    alice, bob = phones(user="alice", transport="tcp"), phones(user="bob", transport="tcp")
    assert bob.contact("bob").endswith(";transport=tcp")
    bob.set_auto_answer(200)
    call = alice.call(bob.contact("bob"))
    assert "SIP/2.0/TCP" in (bob.wait_incoming().header("Via") or "")
    alice.wait_state(call, "CONFIRMED")
    alice.hangup(call)
    alice.wait_state(call, "DISCONNECTED")


def test_hold_and_unhold_change_media_direction(phones: PhoneFactory) -> None:
    alice, bob, call, answered = _connected(phones)
    alice.wait_media(call)
    mark_a, mark_b = alice.mark(), bob.mark()
    alice.hold(call)
    alice.wait_media(call, "LOCAL_HOLD", start=mark_a)
    bob.wait_media(answered, "REMOTE_HOLD", start=mark_b)
    mark_a, mark_b = alice.mark(), bob.mark()
    alice.unhold(call)
    alice.wait_media(call, "ACTIVE", start=mark_a)
    bob.wait_media(answered, "ACTIVE", start=mark_b)


def test_blind_transfer_moves_the_call(phones: PhoneFactory) -> None:
    alice, bob, call, answered = _connected(phones)
    carol = phones(user="carol")
    carol.set_auto_answer(200)
    alice.transfer(call, carol.contact("carol"))
    request = bob.wait_event("transfer_request", answered)
    assert request.get("target").strip("<>") == carol.contact("carol")
    assert "bob" in carol.wait_incoming().from_
    bob.wait_state(request.get("new_call"), "CONFIRMED")
    alice.wait_event("transfer_status", call, code=200, final=True)


@pytest.mark.parametrize("method", ["rfc2833", "info"])
def test_dtmf_digits_arrive(phones: PhoneFactory, method: str) -> None:
    alice, bob, call, answered = _connected(phones)
    alice.wait_media(call)
    bob.wait_media(answered)
    alice.dial_dtmf(call, "123*#9", method=method)
    assert bob.wait_dtmf(answered, 6) == "123*#9"
    assert {e.get("method") for e in bob.events("dtmf", answered)} == {method}


def test_tone_played_by_one_phone_is_recorded_by_the_other(
        phones: PhoneFactory, tmp_path: Path, audio: ModuleType) -> None:
    tone = audio.write_tone(tmp_path / "tone.wav", freq=1000.0, seconds=3.0)
    alice, bob = phones(user="alice"), phones(user="bob")
    assert alice.codecs(["PCMU/8000"], only=True) == ["PCMU/8000/1"]
    bob.set_auto_answer(200)
    call = alice.call(bob.contact("bob"))
    answered = bob.wait_incoming().call
    bob.record(answered, tmp_path / "heard.wav")
    alice.play_file(call, tone)
    time.sleep(1.2)
    samples, rate = audio.read_wav(bob.stop_record(answered))
    heard = audio.voiced(samples, rate)
    assert heard.size > rate // 2, f"only {heard.size} samples above the noise floor"
    assert audio.rms(heard) > 0.1
    assert abs(audio.dominant_frequency(heard, rate) - 1000.0) < 20.0


def test_inband_dtmf_is_heard_as_its_two_tones(phones: PhoneFactory, tmp_path: Path,
                                               audio: ModuleType) -> None:
    alice, bob, call, answered = _connected(phones)
    bob.record(answered, tmp_path / "digit.wav")
    alice.wait_media(call)
    alice.dial_dtmf(call, "1", method="inband", duration_ms=400)
    time.sleep(0.7)
    samples, rate = audio.read_wav(bob.stop_record(answered))
    low, high = audio.peak_frequencies(audio.voiced(samples, rate), rate, count=2)
    assert abs(low - 697) < 15 and abs(high - 1209) < 15, (low, high)
    assert bob.received_dtmf(answered) == ""  # tones are audio, not RFC 4733 events


def test_auto_answer_after_a_delay(phones: PhoneFactory) -> None:
    alice, bob = phones(user="alice"), phones(user="bob")
    bob.set_auto_answer(200, delay=0.4)
    call = alice.call(bob.contact("bob"))
    early = alice.wait_state(call, "EARLY")
    assert early.code == 180
    alice.wait_state(call, "CONFIRMED")
    ringing = alice.events("call_state", call)
    times = {e.get("state"): e.at for e in ringing}
    assert times["CONFIRMED"] - times["EARLY"] >= 0.35


def test_phone_calls_sipp_builtin_uas(phones: PhoneFactory, sipp_servers: SippFactory) -> None:
    uas = sipp_servers(scenario="uas", calls=1)
    alice = phones(user="alice")
    call = alice.call(uas.uri())
    assert alice.wait_state(call, "CONFIRMED").code == 200
    alice.hangup(call)
    alice.wait_state(call, "DISCONNECTED")
    result = uas.wait(timeout=10)  # the built-in uas lingers 4 s after the BYE
    assert result.all_successful, result.summary()
    assert result.successful == 1


def test_sipp_uac_makes_ten_calls_to_sipp_uas(sipp_servers: SippFactory, tmp_path: Path) -> None:
    uas = sipp_servers(scenario="uas", calls=10)
    uac = Sipp("uac", uas.address, calls=10, rate=50, workdir=tmp_path / "uac").run(timeout=10)
    assert uac.all_successful, uac.summary()
    assert (uac.successful, uac.failed) == (10, 0)
    served = uas.wait(timeout=10)
    assert (served.successful, served.failed) == (10, 0), served.summary()


def test_sipp_uac_calls_an_auto_answering_phone(phones: PhoneFactory, tmp_path: Path) -> None:
    bob = phones(user="bob")
    bob.set_auto_answer(200)
    target = f"127.0.0.1:{bob.port}"
    result = Sipp("uac", target, calls=3, rate=20, limit=1, service="bob",
                  workdir=tmp_path / "uac").run(timeout=10)
    assert result.all_successful, result.summary()
    assert result.successful == 3
    assert len(bob.incoming_calls()) == 3
    assert all("sip:bob@" in c.request_line for c in bob.incoming_calls())


DIGEST_KEYS = {"user": "101", "password": "demo101", "realm": "peers.test"}


def test_phone_registers_with_digest_credentials(
        phones: PhoneFactory, sipp_servers: SippFactory) -> None:
    registrar = sipp_servers(scenario=REGISTRAR_DIGEST, calls=1, variables=DIGEST_KEYS)
    phone = phones(user="101")
    assert phone.register(registrar.address, user="101", password="demo101") == 200
    assert phone.events("reg_state")[-1].get("expiration") == 300
    assert phone.unregister() == 200
    result = registrar.wait(timeout=5)
    assert result.all_successful, result.summary()


def test_registration_with_a_wrong_password_is_refused(
        phones: PhoneFactory, sipp_servers: SippFactory) -> None:
    registrar = sipp_servers(scenario=REGISTRAR_DIGEST, calls=1, variables=DIGEST_KEYS)
    phone = phones(user="101")
    assert phone.register(registrar.address, user="101", password="wrong") == 403
    result = registrar.stop()
    assert (result.successful, result.failed) == (0, 1), result.summary()


def test_short_uas_scenario_stops_quickly(phones: PhoneFactory,
                                          sipp_servers: SippFactory) -> None:
    uas = sipp_servers(scenario=UAS_SHORT)
    alice = phones(user="alice")
    for _ in range(2):
        call = alice.call(uas.uri())
        alice.wait_state(call, "CONFIRMED")
        alice.hangup(call)
        alice.wait_state(call, "DISCONNECTED")
    started = time.monotonic()
    result = uas.stop()
    assert time.monotonic() - started < 3.0
    assert (result.successful, result.failed) == (2, 0), result.summary()


def test_wait_times_out_with_a_clear_error(phones: PhoneFactory) -> None:
    alice = phones(user="alice")
    with pytest.raises(PhoneError, match=r"timed out after 0.3 s"):
        alice.wait_incoming(timeout=0.3)
    with pytest.raises(PhoneError, match="no call with handle 99"):
        alice.hangup(99)


def test_phone_process_dies_with_its_parent(tmp_path: Path) -> None:
    script = ("import sys, time; sys.path.insert(0, sys.argv[1]); from peers import Phone; "
              f"p = Phone.start(log_dir={str(tmp_path)!r}); print(p.pid, flush=True); "
              "time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", script, str(Path(__file__).parent)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        os.kill(child, 0)  # alive while its parent lives
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie awaiting its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
