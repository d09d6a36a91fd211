"""Audio checks between real phones: does one party hear the other?"""

from __future__ import annotations

import time
from pathlib import Path

from peers import Phone
from peers.audio import dominant_frequency, read_wav, rms, write_tone


def hears(listener: Phone, listener_call: int, speaker: Phone, speaker_call: int,
          folder: Path, freq: float = 1000.0, seconds: float = 1.5) -> float:
    """Play a tone at ``speaker``, record at ``listener``; return the dominant
    frequency heard (0 when nothing audible arrived)."""
    folder.mkdir(parents=True, exist_ok=True)
    tone = write_tone(folder / f"tone-{int(freq)}.wav", freq, seconds=seconds + 1.0)
    speaker.play_file(speaker_call, tone, loop=True)
    try:
        listener.record(listener_call, folder / f"heard-{int(freq)}-{time.monotonic_ns()}.wav")
        time.sleep(seconds)
        samples, rate = read_wav(listener.stop_record(listener_call))
    finally:
        speaker.stop_play(speaker_call)
    samples = samples[rate // 4:]  # skip the jitter buffer's start
    if len(samples) == 0 or rms(samples) < 0.01:
        return 0.0
    return dominant_frequency(samples, rate)
