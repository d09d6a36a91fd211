"""media.recorder (F-MEDIA-3): stereo WAV content, header updates, SIGKILL survival,
the off-loop writer with its bounded queue, and the per-month path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import wave
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media.recorder import (
    HEADER_BYTES,
    RecordingError,
    RecordingThread,
    RecordingWriter,
    WavRecorder,
    recording_path,
    wav_header,
)

ROOT = Path(__file__).resolve().parents[3]


def tone(freq: float, start: int, count: int, amplitude: int = 8000) -> np.ndarray:
    n = np.arange(start, start + count)
    return (amplitude * np.sin(2 * np.pi * freq * n / 8000)).astype(np.int16)


def dominant_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(x.shape[0])))
    return float(np.argmax(spectrum) * 8000 / x.shape[0])


def test_caller_left_callee_right_silence_where_missing(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    rec = WavRecorder(path)
    rec.write(tone(440, 0, 160), tone(1000, 0, 160))
    rec.write(tone(440, 160, 160), None)
    rec.write(None, tone(1000, 320, 80))
    rec.write(tone(440, 400, 160), tone(1000, 400, 80))  # the shorter side is padded
    assert rec.close() == pytest.approx(560 / 8000)
    data, rate = sf.read(path, dtype="int16")
    assert rate == 8000 and data.shape == (560, 2)
    assert np.array_equal(data[:320, 0], tone(440, 0, 320))
    assert np.array_equal(data[:160, 1], tone(1000, 0, 160))
    assert not data[160:320, 1].any() and not data[320:400, 0].any()
    assert np.array_equal(data[320:400, 1], tone(1000, 320, 80))
    assert np.array_equal(data[400:, 0], tone(440, 400, 160))
    assert np.array_equal(data[400:480, 1], tone(1000, 400, 80))
    assert not data[480:, 1].any()
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        assert w.getnframes() == 560


def test_mono_recording_mixes_both_sides_with_clipping(tmp_path: Path) -> None:
    rec = WavRecorder(tmp_path / "m.wav", channels=1)
    rec.write(np.array([1000, 30000, -30000], np.int16), np.array([500, 10000, -10000], np.int16))
    rec.close()
    data, _ = sf.read(tmp_path / "m.wav", dtype="int16")
    assert data.tolist() == [1500, 32767, -32768]


def test_header_sizes_follow_the_audio_every_second(tmp_path: Path) -> None:
    path = tmp_path / "h.wav"
    rec = WavRecorder(path, header_every=1.0)
    assert path.read_bytes() == wav_header(8000, 2, 0)  # playable (empty) from the start
    for i in range(49):
        rec.write(tone(440, i * 160, 160), None)
    assert path.stat().st_size == HEADER_BYTES  # still buffered: under one second
    rec.write(tone(440, 49 * 160, 160), None)  # the 50th tick makes one second
    assert path.read_bytes()[:HEADER_BYTES] == wav_header(8000, 2, 8000 * 4)
    assert path.stat().st_size == HEADER_BYTES + 8000 * 4
    rec.write(tone(440, 8000, 160), None)
    rec.close()
    assert sf.info(str(path)).frames == 8160
    rec.close()  # twice is harmless
    with pytest.raises(RecordingError):
        rec.flush()


def test_refuses_float_audio_and_bad_channel_counts(tmp_path: Path) -> None:
    rec = WavRecorder(tmp_path / "x.wav")
    with pytest.raises(RecordingError):
        rec.write(np.zeros(160, np.float32), None)
    rec.close()
    with pytest.raises(RecordingError):
        WavRecorder(tmp_path / "y.wav", channels=3)
    (tmp_path / "file").write_text("")
    with pytest.raises(RecordingError):
        WavRecorder(tmp_path / "file" / "z.wav")


CHILD = """
import sys, time
import numpy as np
from pathlib import Path
from media.recorder import RecordingWriter
writer = RecordingWriter(Path(sys.argv[1]))
n = np.arange(160)
start = time.monotonic()
for tick in range(10_000):
    base = tick * 160
    left = (8000 * np.sin(2 * np.pi * 440 * (base + n) / 8000)).astype(np.int16)
    right = (8000 * np.sin(2 * np.pi * 1000 * (base + n) / 8000)).astype(np.int16)
    writer.write(left, right)
    if tick == 0:
        print("recording", flush=True)
    time.sleep(max(0.0, start + (tick + 1) * 0.02 - time.monotonic()))
"""


def test_a_recording_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "2024-05" / "killed.wav"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env,
                             stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"recording\n"
    time.sleep(2.0)
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL
    data, rate = sf.read(path, dtype="int16")
    assert rate == 8000 and data.shape[1] == 2
    assert data.shape[0] >= 8000  # at least one second, up to the last header update
    assert dominant_hz(data[:, 0]) == pytest.approx(440, abs=2)
    assert dominant_hz(data[:, 1]) == pytest.approx(1000, abs=2)
    expected = (8000 * np.sin(2 * np.pi * 440 * np.arange(data.shape[0]) / 8000)).astype(np.int16)
    assert np.array_equal(data[:, 0], expected)  # no tick lost or repeated
    with wave.open(str(path)) as w:
        assert w.getnframes() == data.shape[0]


def test_writer_writes_off_the_calling_thread_and_close_flushes(tmp_path: Path) -> None:
    path = tmp_path / "w.wav"
    writer = RecordingWriter(path)
    for i in range(30):
        writer.write(tone(440, i * 160, 160), tone(1000, i * 160, 160))
    assert writer.close() == pytest.approx(30 * 0.02)
    data, _ = sf.read(path, dtype="int16")
    assert np.array_equal(data[:, 0], tone(440, 0, 4800))
    assert writer.dropped == 0
    with pytest.raises(RecordingError):
        writer.write(None, None)


def test_full_queue_drops_counts_and_keeps_the_timeline(tmp_path: Path) -> None:
    thread = RecordingThread(max_pending=5)
    gate = threading.Event()
    writer = RecordingWriter(tmp_path / "d.wav", thread=thread)
    def slow_disk(_: object) -> None:
        gate.wait(5)

    thread.submit(writer, slow_disk, False)
    for i in range(8):
        writer.write(tone(440, i * 160, 160), None)  # returns at once, never blocks
    assert (writer.dropped, thread.dropped) == (3, 3)
    gate.set()
    for _ in range(500):
        if thread.pending == 0:
            break
        time.sleep(0.01)
    writer.write(tone(440, 8 * 160, 160), None)
    assert writer.close() == pytest.approx(9 * 0.02)  # the 3 lost ticks became silence
    data, _ = sf.read(tmp_path / "d.wav", dtype="int16")
    assert np.array_equal(data[:800, 0], tone(440, 0, 800))
    assert not data[800:1280].any()
    assert np.array_equal(data[1280:, 0], tone(440, 1280, 160))
    thread.stop()


def test_one_thread_serves_many_recordings_and_reports_errors(tmp_path: Path) -> None:
    thread = RecordingThread()
    writers = [RecordingWriter(tmp_path / f"{i}.wav", thread=thread) for i in range(3)]
    for w in writers:
        w.write(tone(300, 0, 160), None)
    (tmp_path / "blocker").write_text("")
    broken = RecordingWriter(tmp_path / "blocker" / "x.wav", thread=thread)
    broken.write(tone(300, 0, 160), None)
    assert [w.close() for w in writers] == [0.02] * 3
    with pytest.raises(RecordingError):
        broken.close()
    assert broken.error is not None
    thread.stop()
    with pytest.raises(RecordingError):
        RecordingWriter(tmp_path / "late.wav", thread=thread)


def test_recording_path_is_per_month_and_safe() -> None:
    when = datetime(2024, 3, 9, 23, 59)
    assert recording_path(Path("/r"), when, "abc123@host") == Path("/r/2024-03/abc123@host.wav")
    odd = recording_path(Path("/r"), when, "../../etc/x y")
    assert odd.parent == Path("/r/2024-03") and "/" not in odd.name and " " not in odd.name
    assert not odd.name.startswith(".")
    assert odd != recording_path(Path("/r"), when, "../../etc/x_y")
