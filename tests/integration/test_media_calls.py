"""Audio through the anchored media of the B2BUA (F-MEDIA-1, F-MEDIA-3), with
real pjsua2 phones and a real ``softswitch run``.

Each party plays its own tone (101 at 1 kHz, 102 at 2 kHz) and records what
it hears; the spectra of the phones' recordings and of the switch's stereo
call recording (caller left, callee right) show who heard whom. The same
holds when the phones share no codec and the switch transcodes PCMU<->PCMA.
DTMF sent by a phone, as RFC 4733 events or as tones in the audio, is
reported by the switch digit for digit and relayed to the other phone.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from media_checks import hears
from peers import Phone
from peers.audio import Samples, dominant_frequency, read_wav, rms, voiced, write_tone
from switch import SwitchProcess
from test_b2bua_calls import registered
from test_b2bua_midcall import connect

pytestmark = pytest.mark.integration

RECORD_INTERNAL = "[recording]\ninternal_calls = true\n"
CALLER_TONE, CALLEE_TONE = 1000.0, 2000.0
DIGIT_LINE = re.compile(r"call (\S+): digit (\S) from ([ab]) \((rfc4733|inband)\)")


# -- audio checks -----------------------------------------------------------------------


def band_level(samples: Samples, rate: int, freq: float, width: float = 50.0) -> float:
    """Spectral energy within ``width`` Hz of ``freq`` (Hann-windowed FFT)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size))) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1.0 / rate)
    return float(spectrum[np.abs(freqs - freq) <= width].sum())


def assert_tone(samples: Samples, rate: int, freq: float, absent: float, what: str,
                min_seconds: float = 1.0) -> None:
    """``samples`` hold at least ``min_seconds`` of audible, clean ``freq`` and
    far less (30 dB) of ``absent`` (the speaker's own tone must not come back)."""
    tone = voiced(samples, rate)
    assert tone.size >= min_seconds * rate, \
        f"{what}: {tone.size / rate:.2f} s audible (rms {rms(samples):.4f}), " \
        f"expected >= {min_seconds} s"
    heard = dominant_frequency(tone, rate)
    assert abs(heard - freq) < 30, f"{what}: dominant {heard:.0f} Hz, expected {freq:.0f}"
    wanted, other = band_level(tone, rate, freq), band_level(tone, rate, absent)
    assert other < wanted / 1000, \
        f"{what}: {absent:.0f} Hz only {10 * np.log10(wanted / max(other, 1e-12)):.0f} dB " \
        f"below {freq:.0f} Hz"
    # A codec mix-up (A-law bytes decoded as mu-law) still peaks at the tone but
    # spreads ~3 % of the energy into harmonics; G.711 done right keeps > 99.9 %.
    share = wanted / band_level(tone, rate, rate / 4, rate / 2)
    assert share > 0.98, f"{what}: only {share:.1%} of the energy is the {freq:.0f} Hz tone"


def dropouts(samples: Samples, rate: int, level: float = 0.01, min_ms: float = 10.0
             ) -> list[tuple[float, float]]:
    """(start s, length ms) of each stretch of at least ``min_ms`` of near silence
    between the first and the last audible sample: gaps in a continuous tone."""
    loud = np.flatnonzero(np.abs(samples) > level)
    if loud.size < 2:
        return []
    run = np.diff(loud) - 1  # quiet samples between consecutive loud ones
    found = np.flatnonzero(run >= min_ms * rate / 1000)
    return [(loud[i] / rate, run[i] * 1000 / rate) for i in found]


def assert_continuous(samples: Samples, rate: int, what: str) -> None:
    gaps = dropouts(samples, rate)
    assert not gaps, f"{what}: {len(gaps)} dropout(s) in the tone, " + ", ".join(
        f"{ms:.0f} ms at {at:.2f} s" for at, ms in gaps[:8])


def read_stereo(path: Path) -> tuple[Samples, Samples, int]:
    """Left and right channel of a 16-bit stereo WAV, read by soundfile."""
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    assert data.shape[1] == 2, f"{path}: {data.shape[1]} channel(s), expected stereo"
    return data[:, 0], data[:, 1], int(rate)


def wav_finished(path: Path, timeout: float = 5.0) -> Path:
    """Wait until the WAV header's data size covers the whole file (closed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > 44:
            head = path.read_bytes()[:44]
            if int.from_bytes(head[40:44], "little") == path.stat().st_size - 44:
                return path
        time.sleep(0.05)
    raise AssertionError(f"recording {path} not finished within {timeout} s")


# -- call helpers -----------------------------------------------------------------------


def play_tones(alice: Phone, call: int, bob: Phone, answered: int, folder: Path) -> None:
    """101 (``alice``) sends 1 kHz and 102 (``bob``) 2 kHz. The files outlast
    the tests: pjsua's player puts 20 ms of silence where a loop wraps."""
    folder.mkdir(parents=True, exist_ok=True)
    alice.play_file(call, write_tone(folder / "caller-1k.wav", CALLER_TONE, 10.0))
    bob.play_file(answered, write_tone(folder / "callee-2k.wav", CALLEE_TONE, 10.0))


def talk(alice: Phone, call: int, bob: Phone, answered: int, folder: Path,
         seconds: float = 2.5) -> tuple[Path, Path]:
    """Both play their tone and record what they hear; returns (101's, 102's)."""
    play_tones(alice, call, bob, answered, folder)
    alice.record(call, folder / "heard-by-101.wav")
    bob.record(answered, folder / "heard-by-102.wav")
    time.sleep(seconds)
    heard_by_alice = alice.stop_record(call)
    heard_by_bob = bob.stop_record(answered)
    return heard_by_alice, heard_by_bob


def check_two_way(switch: SwitchProcess, heard_by_alice: Path, heard_by_bob: Path) -> None:
    """Each phone heard the other's tone; the switch's recording has both sides."""
    samples, rate = read_wav(heard_by_bob)
    assert_tone(samples[rate // 4:], rate, CALLER_TONE, CALLEE_TONE, "102 hears 101")
    assert_continuous(samples, rate, "102 hears 101")
    samples, rate = read_wav(heard_by_alice)
    assert_tone(samples[rate // 4:], rate, CALLEE_TONE, CALLER_TONE, "101 hears 102")
    assert_continuous(samples, rate, "101 hears 102")
    [record] = switch.wait_calls(1)
    assert record.disposition == "answered"
    assert record.recording, "the CDR links the call's recording"
    path = wav_finished(Path(record.recording))
    assert path.parent.name == f"{record.start_time.year:04d}-{record.start_time.month:02d}"
    left, right, rate = read_stereo(path)
    assert rate == 8000
    assert_tone(left, rate, CALLER_TONE, CALLEE_TONE, "recording, left (caller)", 2.0)
    assert_tone(right, rate, CALLEE_TONE, CALLER_TONE, "recording, right (callee)", 2.0)
    assert_continuous(left, rate, "recording, left (caller)")
    assert_continuous(right, rate, "recording, right (callee)")


def stream_codec(phone: Phone) -> str:
    """The codec pjsua reports for the call's audio stream (its log)."""
    text = phone.log_path.read_text(errors="replace")
    codecs: list[str] = re.findall(r"Audio updated, stream #0: (\w+) ", text)
    assert codecs, f"no audio stream line in {phone.log_path}"
    return codecs[-1]


# -- tests ------------------------------------------------------------------------------


def test_each_phone_hears_the_other_and_the_switch_records_both(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-MEDIA-1, F-MEDIA-3
    with SwitchProcess(tmp_path, extra=RECORD_INTERNAL) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        heard_by_alice, heard_by_bob = talk(alice, call, bob, answered, tmp_path / "audio")
        alice.hangup(call)
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
        check_two_way(switch, heard_by_alice, heard_by_bob)


def test_pcmu_phone_and_pcma_phone_are_transcoded(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-MEDIA-1, F-MEDIA-3
    with SwitchProcess(tmp_path, extra=RECORD_INTERNAL) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        assert alice.codecs(["PCMU/8000"], only=True) == ["PCMU/8000/1"]
        assert bob.codecs(["PCMA/8000"], only=True) == ["PCMA/8000/1"]
        call, answered = connect(alice, bob, switch, "102")
        assert stream_codec(alice) == "PCMU" and stream_codec(bob) == "PCMA"
        heard_by_alice, heard_by_bob = talk(alice, call, bob, answered, tmp_path / "audio")
        bob.hangup(answered)
        alice.wait_state(call, "DISCONNECTED", timeout=10)
        check_two_way(switch, heard_by_alice, heard_by_bob)


def reported_digits(switch: SwitchProcess, timeout: float = 5.0, count: int = 0
                    ) -> list[tuple[str, str, str, str]]:
    """(call id, digit, side, source) of each digit the switch logged."""
    deadline = time.monotonic() + timeout
    found: list[tuple[str, str, str, str]] = []
    while time.monotonic() < deadline:
        found = DIGIT_LINE.findall(switch.log())
        if len(found) >= count:
            break
        time.sleep(0.1)
    return found


DIGITS = "1234*#"


def test_rfc4733_digits_are_reported_and_relayed(phones: Callable[..., Phone],
                                                 tmp_path: Path) -> None:  # F-MEDIA-1
    with SwitchProcess(tmp_path) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        alice.dial_dtmf(call, DIGITS, method="rfc2833")
        assert bob.wait_dtmf(answered, len(DIGITS), timeout=10) == DIGITS
        found = reported_digits(switch, count=len(DIGITS))
        bob.dial_dtmf(answered, "90", method="rfc2833")
        assert alice.wait_dtmf(call, 2, timeout=10) == "90"
        found = reported_digits(switch, count=len(DIGITS) + 2)
        alice.hangup(call)
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert {e.get("method") for e in bob.events("dtmf", answered)} == {"rfc2833"}
    assert [(d, side, source) for _, d, side, source in found] == \
        [*((d, "a", "rfc4733") for d in DIGITS), ("9", "b", "rfc4733"), ("0", "b", "rfc4733")]
    assert {call_id for call_id, *_ in found} == {record.id}


def test_inband_digits_are_reported(phones: Callable[..., Phone],
                                    tmp_path: Path) -> None:  # F-MEDIA-1
    with SwitchProcess(tmp_path, extra='[media]\ninband_dtmf = "always"\n') as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        time.sleep(0.3)  # the phone's audio path is up before the first tone
        alice.dial_dtmf(call, DIGITS, method="inband", duration_ms=160)
        found = reported_digits(switch, timeout=10, count=len(DIGITS))
        alice.hangup(call)
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert [(d, side, source) for _, d, side, source in found] == \
        [(d, "a", "inband") for d in DIGITS]
    assert {call_id for call_id, *_ in found} == {record.id}
    assert bob.received_dtmf(answered) == "", "tones in the audio are not telephone-events"


def test_a_phone_that_stops_sending_rtp_is_hung_up(phones: Callable[..., Phone],
                                                   tmp_path: Path) -> None:  # F-MEDIA-1
    with SwitchProcess(tmp_path, extra="[media]\nrtp_timeout = 2\n") as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        # 102's RTP flows before it goes silent
        assert abs(hears(alice, call, bob, answered, tmp_path, CALLEE_TONE) - CALLEE_TONE) < 30
        os.kill(bob.pid, signal.SIGKILL)  # neither BYE nor RTP from 102 from now on
        silent = time.monotonic()
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        after = time.monotonic() - silent
        [record] = switch.wait_calls(1)
    assert 1.5 <= after <= 5.0, f"hung up {after:.1f} s after 102 fell silent (timeout 2 s)"
    assert ended.code == 200, f"101 gets a BYE, not {ended.code} {ended.reason}"
    assert record.disposition == "media_timeout" and record.hangup_side == "system"
    assert record.end_reason is not None and "no media from the callee" in record.end_reason
