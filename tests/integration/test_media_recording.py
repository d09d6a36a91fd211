"""A call recording survives the death of the switch (F-MEDIA-3), with real
pjsua2 phones and a real ``softswitch run``.

The switch (main process and media workers) is killed by SIGKILL mid-call,
so nothing gets a chance to finish the file: what the workers wrote so far
must be a WAV that the standard library and soundfile read, holding the
tones of both parties on their channels; after the restart the call's CDR
says it was interrupted and still links the file.
"""

from __future__ import annotations

import os
import re
import signal
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from peers import Phone
from switch import SwitchProcess
from test_b2bua_calls import registered
from test_b2bua_midcall import connect
from test_media_calls import (
    CALLEE_TONE,
    CALLER_TONE,
    RECORD_INTERNAL,
    assert_continuous,
    assert_tone,
    check_two_way,
    play_tones,
    read_stereo,
    talk,
    wav_finished,
)

pytestmark = pytest.mark.integration

WORKER_LINE = re.compile(r"media worker \d+ started \(pid (\d+)\)")


def worker_pids(switch: SwitchProcess) -> list[int]:
    """The media workers of the switch's current run (from its log)."""
    run = switch.log().rsplit("=== start ", 1)[-1]
    pids = [int(pid) for pid in WORKER_LINE.findall(run)]
    assert pids, "the switch logged no media worker"
    return pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_recording(switch: SwitchProcess, timeout: float = 5.0) -> Path:
    """The recording the live call's CDR links, once it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        linked = [c.recording for c in switch.calls() if c.recording]
        if linked:
            return Path(linked[0])
        time.sleep(0.1)
    raise AssertionError("no CDR links a recording")


def test_recording_is_playable_after_sigkill_mid_call(phones: Callable[..., Phone],
                                                      tmp_path: Path) -> None:  # F-MEDIA-3
    with SwitchProcess(tmp_path, extra=RECORD_INTERNAL) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        play_tones(alice, call, bob, answered, tmp_path / "audio")
        path = wait_recording(switch)
        time.sleep(3.0)
        workers = worker_pids(switch)
        for pid in workers:  # workers first: none may finish the file on its way out
            os.kill(pid, signal.SIGKILL)
        assert switch.stop(signal.SIGKILL) == -signal.SIGKILL
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        with wave.open(str(path), "rb") as wav:  # the standard library reads it
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
            frames = wav.getnframes()
            raw = wav.readframes(frames)
        assert len(raw) == frames * 4 and frames >= 8000, f"{frames / 8000:.2f} s in the WAV"
        left, right, rate = read_stereo(path)
        assert left.size == frames
        stdlib = np.frombuffer(raw, "<i2").reshape(-1, 2)[:, 0] / 32768.0
        assert np.array_equal(stdlib, left), "soundfile and wave read the same samples"
        assert_tone(left, rate, CALLER_TONE, CALLEE_TONE, "recording, left (caller)", 1.0)
        assert_tone(right, rate, CALLEE_TONE, CALLER_TONE, "recording, right (callee)", 1.0)
        assert_continuous(left, rate, "recording, left (caller)")
        assert_continuous(right, rate, "recording, right (callee)")
        switch.start()
        [record] = switch.wait_calls(1, timeout=5)
    assert record.disposition == "interrupted" and record.hangup_side == "system"
    assert record.recording is not None and Path(record.recording) == path


def test_workers_finish_the_recording_when_the_main_process_dies(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-MEDIA-3
    with SwitchProcess(tmp_path, extra=RECORD_INTERNAL) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call, answered = connect(alice, bob, switch, "102")
        play_tones(alice, call, bob, answered, tmp_path / "audio")
        path = wait_recording(switch)
        time.sleep(2.0)
        workers = worker_pids(switch)
        assert switch.stop(signal.SIGKILL) == -signal.SIGKILL
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in workers), "orphaned media workers keep running"
        finished = wav_finished(path, timeout=1.0)  # the header covers every byte written
        left, right, rate = read_stereo(finished)
        assert_tone(left, rate, CALLER_TONE, CALLEE_TONE, "recording, left (caller)", 1.5)
        assert_tone(right, rate, CALLEE_TONE, CALLER_TONE, "recording, right (callee)", 1.5)
        switch.start()
        [record] = switch.wait_calls(1, timeout=5)
    assert record.disposition == "interrupted"
    assert record.recording is not None and Path(record.recording) == path


def test_trunk_with_record_calls_records_its_inbound_calls(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-MEDIA-3
    # 127.0.0.1 is the demo trunk's allowed source: an unregistered phone there
    # is the operator delivering a call to 102.
    with SwitchProcess(tmp_path, trunk_extra="record_calls = true") as switch:
        operator = phones(user="operator")
        bob = registered(phones, switch, "102")
        call, answered = connect(operator, bob, switch, "102")
        heard_by_operator, heard_by_bob = talk(operator, call, bob, answered,
                                               tmp_path / "audio")
        operator.hangup(call)
        bob.wait_state(answered, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
        assert record.trunk == "demo-operator" and record.direction == "inbound"
        check_two_way(switch, heard_by_operator, heard_by_bob)


def test_call_cancelled_before_answer_is_not_recorded(phones: Callable[..., Phone],
                                                      tmp_path: Path) -> None:  # F-MEDIA-3
    with SwitchProcess(tmp_path, extra=RECORD_INTERNAL) as switch:
        alice = registered(phones, switch, "101")
        bob = registered(phones, switch, "102")
        call = alice.call(switch.uri("102"))
        bob.wait_incoming(timeout=10)
        alice.wait_state(call, "EARLY", timeout=10)
        time.sleep(1.0)  # ringing for a while: nothing may be written meanwhile
        alice.hangup(call)
        alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
        time.sleep(0.5)
    assert record.disposition == "cancelled" and record.recording is None
    recordings = switch.data_dir / "recordings"
    assert not recordings.exists() or not any(recordings.rglob("*.wav"))
