"""In-band DTMF detection (ITU-T Q.23 tone pairs, Q.24 recognition limits) on numpy.

Each 20 ms window is projected on the eight DTMF frequencies and their second
harmonics with one matrix product (the Goertzel algorithm evaluates the same
single-frequency DFT terms; a product over a block of windows vectorises it).
A window holds a digit when:

- the strongest row tone and the strongest column tone each clear an absolute
  level (-36 dBFS peak) and together carry 70 % of the window's energy, so speech,
  music and noise, which spread their energy, do not qualify; each tone is
  measured at its frequency and 1.5 % either side (the Q.24 tolerance);
- each beats the other tones of its group by 8 dB (one pair, not a chord);
- the twist is within limits: the row tone at most 8 dB above the column tone
  (normal twist), the column tone at most 4 dB above the row tone (reverse);
- neither tone has a second harmonic within 6 dB of it (voiced speech has one).

Windows of 20 ms advance by 10 ms.  A key press is reported once, when three
windows in a row hold the same digit (every tone of 40 ms, Q.24's shortest
recognised, does; none under 28 ms does); a new press needs three windows without
it (a 40 ms pause always gives them, a 10 ms drop-out does not) or a different
digit held for three windows.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from media.errors import MediaError

ROWS = (697.0, 770.0, 852.0, 941.0)
COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")  # KEYPAD[row][column]

FRAME_MS = 20
MIN_LEVEL_DBFS = -36.0  # per tone, peak amplitude against full scale
MIN_TONE_SHARE = 0.7  # the pair's share of the frame energy
# Each tone is measured at its nominal frequency and 1.5 % either side (the
# Q.24 tolerance) and the strongest probe counts, so an off-frequency sender
# loses no level in a 50 Hz wide 20 ms analysis.
TOLERANCE_PROBES = (-0.015, 0.0, 0.015)
GROUP_MARGIN_DB = 8.0
NORMAL_TWIST_DB = 8.0
REVERSE_TWIST_DB = 4.0
HARMONIC_MARGIN_DB = 6.0
# Windows of one frame advance by half a frame (10 ms).  Three in a row holding a
# digit make a key press: a 40 ms tone always fills three, one under 28 ms never
# does.  Three in a row without it end the press: a 40 ms pause always does, a
# 10 ms drop-out inside a tone does not.
MIN_ON_WINDOWS = 3
MIN_OFF_WINDOWS = 3


def _ratio(db: float) -> float:
    return float(10.0 ** (db / 10.0))


@lru_cache(maxsize=8)
def _basis(rate: int, frame: int) -> npt.NDArray[np.float32]:
    """The DFT terms of every probed frequency over one frame, shared by all
    detectors of a rate (read only): building it is most of a detector's cost."""
    tones = np.array(ROWS + COLUMNS)
    probes = np.outer(tones, 1.0 + np.array(TOLERANCE_PROBES)).ravel()
    freqs = np.concatenate([probes, 2 * tones])
    phase = 2 * np.pi * np.outer(np.arange(frame), freqs) / rate
    # columns: cos for each frequency, then sin; scaled so |X|^2 is the tone's
    # peak amplitude squared
    basis = (np.hstack([np.cos(phase), np.sin(phase)]) * (2.0 / frame)).astype(np.float32)
    basis.flags.writeable = False
    return basis


class InbandDetector:
    """Key presses in mono int16 audio, fed in any chunks (20 ms frames are analysed).

    ``feed`` returns the digits whose key press was confirmed by the audio just
    fed; each press is reported once however long the key is held.
    """

    def __init__(self, rate: int = 8000) -> None:
        if rate < 4000 or rate % 50:
            raise MediaError(f"in-band DTMF needs a rate of 4 kHz or more in 20 ms frames, "
                             f"not {rate}")
        self.rate = rate
        self.frame = rate * FRAME_MS // 1000
        self.hop = self.frame // 2
        self._basis = _basis(rate, self.frame)
        self._min_amplitude2 = (32768.0 * 10 ** (MIN_LEVEL_DBFS / 20)) ** 2
        self._pending = np.zeros(0, dtype=np.float32)
        self._candidate: str | None = None  # digit of the last window
        self._run = 0  # windows in a row holding the candidate
        self._active: str | None = None  # digit reported and still held
        self._misses = 0  # windows in a row without the active digit

    def feed(self, pcm: npt.ArrayLike) -> list[str]:
        """Digits whose key press was confirmed by this audio."""
        samples = np.concatenate([self._pending, np.asarray(pcm, dtype=np.float32).ravel()])
        count = (len(samples) - self.frame) // self.hop + 1 if len(samples) >= self.frame else 0
        if count <= 0:
            self._pending = samples
            return []
        windows = sliding_window_view(samples, self.frame)[::self.hop][:count]
        self._pending = samples[count * self.hop:].copy()
        out: list[str] = []
        for digit in self.classify(windows):
            reported = self._step(digit)
            if reported is not None:
                out.append(reported)
        return out

    def reset(self) -> None:
        """Forget buffered audio and any key press in progress."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._candidate, self._run, self._active, self._misses = None, 0, None, 0

    def classify(self, frames: npt.NDArray[np.float32]) -> list[str | None]:
        """The digit each row of ``frames`` (shape ``(n, frame)``) holds, or None."""
        proj = frames @ self._basis
        half = proj.shape[1] // 2
        power = proj[:, :half] ** 2 + proj[:, half:] ** 2  # peak amplitude^2 per freq
        n_probes = len(TOLERANCE_PROBES)
        tone = power[:, :8 * n_probes].reshape(len(frames), 8, n_probes).max(axis=2)
        harmonics = power[:, 8 * n_probes:]
        rows, cols = tone[:, 0:4], tone[:, 4:8]
        r = np.argmax(rows, axis=1)
        c = np.argmax(cols, axis=1)
        idx = np.arange(len(frames))
        row, col = rows[idx, r], cols[idx, c]
        # mean square of a sine is amplitude^2 / 2
        mean_square = np.einsum("ij,ij->i", frames, frames) / self.frame
        ok = (row >= self._min_amplitude2) & (col >= self._min_amplitude2)
        ok &= (row + col) / 2 >= MIN_TONE_SHARE * mean_square
        ok &= _second_best(rows) * _ratio(GROUP_MARGIN_DB) <= row
        ok &= _second_best(cols) * _ratio(GROUP_MARGIN_DB) <= col
        ok &= row <= col * _ratio(NORMAL_TWIST_DB)
        ok &= col <= row * _ratio(REVERSE_TWIST_DB)
        harmonic = _ratio(HARMONIC_MARGIN_DB)
        ok &= harmonics[idx, r] * harmonic <= row
        ok &= harmonics[idx, 4 + c] * harmonic <= col
        return [KEYPAD[ri][ci] if good else None
                for ri, ci, good in zip(r.tolist(), c.tolist(), ok.tolist(), strict=True)]

    def _step(self, digit: str | None) -> str | None:
        """Advance the key-press state by one window; the digit if a press is confirmed."""
        if digit is not None and digit == self._candidate:
            self._run += 1
        else:
            self._candidate, self._run = digit, 1 if digit is not None else 0
        if self._active is not None:
            if digit == self._active:
                self._misses = 0
                return None
            self._misses += 1
            other_held = digit is not None and self._run >= MIN_ON_WINDOWS
            if self._misses < MIN_OFF_WINDOWS and not other_held:
                return None
            self._active = None
        if digit is not None and self._run >= MIN_ON_WINDOWS:
            self._active, self._misses = digit, 0
            return digit
        return None


def _second_best(group: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.sort(group, axis=1)[:, -2]
