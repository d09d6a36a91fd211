"""In-band DTMF detection (F-MEDIA-1): every key through µ-law at -6 and -20 dBFS, once per
press; nothing from a 1 kHz tone, white noise or speech-like audio."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from media.codecs import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from media.dtmf import InbandDetector
from media.errors import MediaError
from media.goertzel import COLUMNS, KEYPAD, ROWS

RATE = 8000
KEYS = "0123456789*#ABCD"
F64 = npt.NDArray[np.float64]


def _pair(key: str, ms: float, dbfs: float, rng: np.random.Generator, *,
          deviation: float = 0.0, twist_db: float = 0.0) -> F64:
    """Two sines of ``key``, each at ``dbfs`` peak (the column tone ``twist_db`` lower)."""
    row = next(i for i, keys in enumerate(KEYPAD) if key in keys)
    col = KEYPAD[row].index(key)
    t = np.arange(int(RATE * ms / 1000)) / RATE
    amp = 32767 * 10 ** (dbfs / 20)
    low, high = rng.uniform(0, 2 * np.pi, 2)
    pair: F64 = (amp * np.sin(2 * np.pi * ROWS[row] * (1 + deviation) * t + low)
                 + amp * 10 ** (-twist_db / 20)
                 * np.sin(2 * np.pi * COLUMNS[col] * (1 + deviation) * t + high))
    return pair


def _dialled(keys: str, dbfs: float, rng: np.random.Generator, **kw: float) -> F64:
    parts = [np.zeros(int(rng.integers(0, 160)))]  # frames do not line up with tones
    for key in keys:
        parts.append(_pair(key, rng.uniform(60, 200), dbfs, rng, **kw))
        parts.append(np.zeros(int(RATE * rng.uniform(0.06, 0.2))))
    return np.concatenate(parts)


def _through_ulaw(x: F64) -> npt.NDArray[np.int16]:
    return ulaw_decode(ulaw_encode(np.clip(np.rint(x), -32768, 32767).astype(np.int16)))


def _detect(pcm: npt.NDArray[np.int16], chunk: int = 160) -> str:
    detector = InbandDetector()
    out: list[str] = []
    for start in range(0, len(pcm), chunk):
        out += detector.feed(pcm[start:start + chunk])
    return "".join(out)


@pytest.mark.parametrize("dbfs", [-6.0, -20.0])
@pytest.mark.parametrize("seed", range(5))
def test_every_key_through_ulaw_is_detected_once(dbfs: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = "".join(rng.permutation(list(KEYS)))
    assert _detect(_through_ulaw(_dialled(keys, dbfs, rng))) == keys


def test_repeated_keys_are_separate_presses() -> None:
    rng = np.random.default_rng(11)
    assert _detect(_through_ulaw(_dialled("1155##00", -12.0, rng))) == "1155##00"


def test_through_alaw_and_in_odd_chunks() -> None:
    rng = np.random.default_rng(3)
    x = np.clip(np.rint(_dialled(KEYS, -10.0, rng)), -32768, 32767).astype(np.int16)
    pcm = alaw_decode(alaw_encode(x))
    assert _detect(pcm, chunk=97) == KEYS
    assert _detect(pcm, chunk=len(pcm)) == KEYS


@pytest.mark.parametrize("deviation", [-0.015, 0.015])
def test_frequency_tolerance_of_one_and_a_half_percent(deviation: float) -> None:
    rng = np.random.default_rng(5)
    assert _detect(_through_ulaw(_dialled(KEYS, -15.0, rng, deviation=deviation))) == KEYS


def test_twist_within_limits_is_accepted_and_beyond_refused() -> None:
    rng = np.random.default_rng(8)
    # column tone 6 dB under the row tone: normal twist within 8 dB
    assert _detect(_through_ulaw(_dialled("159", -10.0, rng, twist_db=6.0))) == "159"
    # column tone 6 dB over the row tone: beyond the 4 dB reverse twist
    assert _detect(_through_ulaw(_dialled("159", -16.0, rng, twist_db=-6.0))) == ""
    # row tone 12 dB over the column tone: beyond the 8 dB normal twist
    assert _detect(_through_ulaw(_dialled("159", -6.0, rng, twist_db=12.0))) == ""


def test_too_quiet_tones_are_not_digits() -> None:
    rng = np.random.default_rng(9)
    assert _detect(_through_ulaw(_dialled("123", -45.0, rng))) == ""


@pytest.mark.parametrize(("ms", "heard"), [(40, "5"), (25, "")])
def test_forty_ms_is_always_a_digit_and_25_ms_never(ms: int, heard: str) -> None:
    rng = np.random.default_rng(10)
    for offset in range(0, 160, 10):  # every alignment with the analysis windows
        x = np.concatenate([np.zeros(160 + offset), _pair("5", ms, -10.0, rng), np.zeros(480)])
        assert _detect(_through_ulaw(x)) == heard, offset


def test_a_40ms_pause_separates_presses_and_a_10ms_dropout_does_not() -> None:
    rng = np.random.default_rng(6)
    for offset in range(0, 160, 20):
        paused = np.concatenate([np.zeros(offset), _pair("3", 80, -10.0, rng), np.zeros(320),
                                 _pair("3", 80, -10.0, rng), np.zeros(480)])
        assert _detect(_through_ulaw(paused)) == "33", offset
        dropout = np.concatenate([np.zeros(offset), _pair("3", 80, -10.0, rng), np.zeros(80),
                                  _pair("3", 80, -10.0, rng), np.zeros(480)])
        assert _detect(_through_ulaw(dropout)) == "3", offset


def test_a_long_press_is_counted_once() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate([np.zeros(300), _pair("7", 3000, -12.0, rng), np.zeros(800)])
    noise = rng.normal(0, 300, len(x))  # line noise about 40 dB under the tones
    assert _detect(_through_ulaw(x + noise)) == "7"


def test_a_digit_is_heard_through_speech_level_noise() -> None:
    rng = np.random.default_rng(12)
    x = _dialled("2580", -10.0, rng) + rng.normal(0, 600, 1)[0]
    x = x + rng.normal(0, 500, len(x))
    assert _detect(_through_ulaw(x)) == "2580"


# -- no false digits --------------------------------------------------------------------


def _speech_like(seconds: float, rng: np.random.Generator) -> npt.NDArray[np.int16]:
    """Voiced speech stand-in: harmonics of a gliding pitch shaped by two formants,
    under a random syllable-rate envelope."""
    n = int(RATE * seconds)
    t = np.arange(n) / RATE
    f0 = 130 + 50 * np.sin(2 * np.pi * 0.6 * t) + 25 * np.sin(2 * np.pi * 3.3 * t + 1.0) \
        + 15 * np.cumsum(rng.normal(0, 0.02, n)).clip(-3, 3)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    formants = rng.uniform([500, 1100], [800, 1800])
    x = np.zeros(n)
    for k in range(1, 30):
        fk = k * f0
        gain = (1 / k) * (1 + 3 * np.exp(-((fk - formants[0]) / 200) ** 2)
                          + 2 * np.exp(-((fk - formants[1]) / 300) ** 2))
        x += np.where(fk < 3600, gain, 0.0) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    syllables = np.repeat(rng.uniform(0, 1, n // 1200 + 1) ** 2, 1200)[:n]
    envelope = np.convolve(syllables, np.hanning(600) / 300, mode="same")
    x *= envelope
    return _through_ulaw(x / np.max(np.abs(x)) * 20000)


def test_no_digit_from_a_1khz_tone() -> None:
    t = np.arange(RATE * 5) / RATE
    assert _detect(_through_ulaw(16000 * np.sin(2 * np.pi * 1000 * t))) == ""


def test_no_digit_from_white_noise() -> None:
    rng = np.random.default_rng(1)
    for sigma in (100.0, 3000.0, 10000.0):
        assert _detect(_through_ulaw(rng.normal(0, sigma, RATE * 10))) == ""


@pytest.mark.parametrize("seed", range(6))
def test_no_digit_from_speech_like_audio(seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert _detect(_speech_like(30.0, rng)) == ""


def test_no_digit_from_single_tones_at_dtmf_frequencies() -> None:
    t = np.arange(RATE * 2) / RATE
    for f in ROWS + COLUMNS:
        assert _detect(_through_ulaw(12000 * np.sin(2 * np.pi * f * t))) == ""


def test_classify_is_per_frame_and_reset_forgets() -> None:
    rng = np.random.default_rng(4)
    detector = InbandDetector()
    frames = np.stack([_pair("#", 20, -10.0, rng), np.zeros(160)]).astype(np.float32)
    assert detector.classify(frames) == ["#", None]
    detector.feed(_through_ulaw(_pair("#", 20, -10.0, rng)))
    detector.reset()
    assert detector.feed(_through_ulaw(_pair("#", 20, -10.0, rng))) == []


def test_rate_must_give_whole_frames() -> None:
    with pytest.raises(MediaError):
        InbandDetector(rate=8001)
    assert InbandDetector(rate=16000).frame == 320
