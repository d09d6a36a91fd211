"""Test audio: write tone WAV files, read recordings, find their dominant tone.

Phones play and record 16-bit mono PCM WAV (the only format the pjsua2 file
player takes).  Frequency checks use a Hann-windowed FFT of the recording.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float64]


def write_tone(path: Path | str, freq: float = 1000.0, seconds: float = 2.0,
               rate: int = 8000, amplitude: float = 0.5) -> Path:
    """Write a sine of ``freq`` Hz as a 16-bit mono WAV; return its path."""
    t = np.arange(int(seconds * rate)) / rate
    pcm = (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype("<i2")
    target = Path(path)
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return target


def read_wav(path: Path | str) -> tuple[Samples, int]:
    """Samples of a 16-bit WAV (first channel) scaled to [-1, 1], and its rate."""
    with wave.open(str(path), "rb") as source:
        if source.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit samples")
        rate = source.getframerate()
        channels = source.getnchannels()
        raw = source.readframes(source.getnframes())
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    return samples[::channels], rate


def rms(samples: Samples) -> float:
    """Root-mean-square level, 0 for no samples."""
    return float(np.sqrt(np.mean(samples ** 2))) if samples.size else 0.0


def dominant_frequency(samples: Samples, rate: int) -> float:
    """The frequency (Hz) of the strongest FFT bin, DC excluded."""
    if samples.size < 2:
        raise ValueError("too few samples for a spectrum")
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    spectrum[0] = 0.0
    freqs = np.fft.rfftfreq(samples.size, 1.0 / rate)
    return float(freqs[int(np.argmax(spectrum))])


def voiced(samples: Samples, rate: int, threshold: float = 0.01,
           frame_ms: int = 20) -> Samples:
    """Only the frames whose level exceeds ``threshold`` (drops leading silence)."""
    size = max(1, rate * frame_ms // 1000)
    frames = [samples[i:i + size] for i in range(0, samples.size - size + 1, size)]
    kept = [f for f in frames if rms(f) > threshold]
    return np.concatenate(kept) if kept else np.zeros(0)


def peak_frequencies(samples: Samples, rate: int, count: int = 2,
                     min_gap_hz: float = 100.0) -> list[float]:
    """The ``count`` strongest tones, at least ``min_gap_hz`` apart, lowest first."""
    if samples.size < 2:
        raise ValueError("too few samples for a spectrum")
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    freqs = np.fft.rfftfreq(samples.size, 1.0 / rate)
    spectrum[freqs < 50.0] = 0.0
    peaks: list[float] = []
    for index in np.argsort(spectrum)[::-1]:
        freq = float(freqs[index])
        if all(abs(freq - p) >= min_gap_hz for p in peaks):
            peaks.append(freq)
        if len(peaks) == count:
            break
    return sorted(peaks)
