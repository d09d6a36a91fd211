"""Greeting uploads (F-MEDIA-2): only a mono MP3 of at most 2 MB is taken; every
other file is refused with its own message and the previous audio stays in
use; an accepted upload is what phones hear."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from peers import Phone
from peers.audio import dominant_frequency, read_wav
from switch import ROOT, SwitchProcess
from test_b2bua_calls import registered

pytestmark = pytest.mark.integration


def tone(freq: float, seconds: float, channels: int = 1, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


def write(path: Path, audio: np.ndarray, fmt: str, rate: int = 8000) -> Path:
    sf.write(path, audio, rate, format=fmt)
    return path


def upload(config: Path, name: str, file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "softswitch", "prompt", name, str(file),
                           "--config", str(config)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_only_a_mono_mp3_up_to_2_mb_is_taken(tmp_path: Path) -> None:  # F-MEDIA-2
    switch = SwitchProcess(tmp_path)  # its config file, not started
    good = write(tmp_path / "good.mp3", tone(1500, 2.0), "MP3")
    ok = upload(switch.config_path, "welcome", good)
    assert ok.returncode == 0, ok.stderr
    stored = sorted((switch.data_dir / "prompts").rglob("*.mp3"))
    assert len(stored) == 1
    before = stored[0].read_bytes()
    rng = np.random.default_rng(7)
    big = tmp_path / "big.mp3"
    sf.write(big, rng.uniform(-0.9, 0.9, 44100 * 60), 44100, format="MP3",
             bitrate_mode="CONSTANT", compression_level=0.0)
    assert big.stat().st_size > 2 * 1024 * 1024
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    refused = {
        "stereo": write(tmp_path / "stereo.mp3", tone(1500, 2.0, channels=2), "MP3"),
        "wav": write(tmp_path / "greeting.wav", tone(1500, 2.0), "WAV"),
        "big": big,
        "cut": cut,
    }
    messages = {}
    for kind, path in refused.items():
        result = upload(switch.config_path, "welcome", path)
        assert result.returncode == 1, (kind, result.stdout, result.stderr)
        assert "previous audio stays in use" in result.stderr
        messages[kind] = result.stderr.strip()
    assert "2 channels" in messages["stereo"]
    assert "WAV" in messages["wav"]
    assert "2 MB" in messages["big"]
    assert "incomplete" in messages["cut"] or "damaged" in messages["cut"]
    assert len(set(messages.values())) == 4, "each refusal says what is wrong"
    assert stored[0].read_bytes() == before, "the accepted greeting is still the one in use"


def test_uploaded_notice_is_heard_before_the_callee_rings(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-MEDIA-2, F-MEDIA-3
    extra = "[recording]\ninternal_calls = true\nannouncement = true\n"
    switch = SwitchProcess(tmp_path, extra=extra)
    notice = write(tmp_path / "notice.mp3", tone(1500, 2.5), "MP3")
    assert upload(switch.config_path, "recording_notice", notice).returncode == 0
    with switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        alice.wait_state(call, "EARLY", timeout=10)
        alice.wait_media(call, "ACTIVE", timeout=10)
        alice.record(call, tmp_path / "early.wav")
        incoming = bob.wait_incoming(timeout=15)  # rings only after the notice
        heard, rate = read_wav(alice.stop_record(call))
        bob.answer(incoming.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        alice.hangup(call)
        bob.wait_state(incoming.call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert abs(dominant_frequency(heard[rate // 4:], rate) - 1500) < 30
    assert record.recording is not None and Path(record.recording).exists()


def test_callee_still_rings_when_the_notice_cannot_be_played(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-MEDIA-3
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("prompts cannot be stored under a file")
    extra = (f'[media]\nprompts_dir = "{blocked}"\n'
             "[recording]\ninternal_calls = true\nannouncement = true\n")
    with SwitchProcess(tmp_path, extra=extra) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        incoming = bob.wait_incoming(timeout=15)
        bob.answer(incoming.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        alice.hangup(call)
        [record] = switch.wait_calls(1)
    assert record.disposition == "answered" and record.recording is not None
