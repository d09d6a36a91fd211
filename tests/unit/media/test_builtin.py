"""media.builtin (F-MEDIA-2): generated speech per language, seamless hold music, the beep."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media import builtin
from media.audio import AudioError, peak_dbfs, rms_dbfs, to_8k


def dominant_hz(x: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(x.shape[0])))
    return float(np.argmax(spectrum) * rate / x.shape[0])


@pytest.mark.parametrize("language", ["en", "it", "pl", "fr", "es"])
def test_speech_is_generated_per_language_and_is_not_silent(tmp_path: Path,
                                                            language: str) -> None:
    path = builtin.ensure(tmp_path, "recording_notice", language)
    assert path.parent == tmp_path / language
    pcm, rate = sf.read(path, dtype="float32")
    assert pcm.ndim == 1 and 0.8 < pcm.shape[0] / rate < 6.0
    # at the reference level unless the peak limit (-1 dBFS) holds it lower
    assert builtin.LEVEL_DBFS - 6 < rms_dbfs(pcm) < builtin.LEVEL_DBFS + 0.1
    assert peak_dbfs(pcm) < -0.9
    speech = to_8k(pcm, rate)
    loud = [rms_dbfs(w) > -45 for w in speech[: speech.shape[0] // 400 * 400].reshape(-1, 400)]
    assert sum(loud) >= len(loud) // 2  # speech most of the time, not one click


def test_every_prompt_has_every_language() -> None:
    for name, texts in builtin.SPEECH.items():
        assert set(texts) == set(builtin.VOICES), name
    assert {"welcome", "recording_notice", "invalid_extension", "voicemail_greeting",
            "goodbye", "hold_music", "beep"} <= builtin.names()
    assert builtin.is_language_independent("hold_music")
    assert not builtin.is_language_independent("welcome")


def test_generated_files_are_reused_and_named_after_their_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = builtin.ensure(tmp_path, "goodbye", "en")
    stamp = first.stat().st_mtime_ns
    assert builtin.ensure(tmp_path, "goodbye", "en") == first
    assert first.stat().st_mtime_ns == stamp
    monkeypatch.setitem(builtin.SPEECH, "goodbye", {**builtin.SPEECH["goodbye"], "en": "Bye."})
    assert builtin.builtin_path(tmp_path, "goodbye", "en") != first  # new text, new file


def test_missing_espeak_is_reported_clearly(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on it
    with pytest.raises(AudioError) as info:
        builtin.ensure(tmp_path, "welcome", "en")
    assert info.value.reason == "espeak_missing"
    assert "espeak-ng" in str(info.value)
    assert not list(tmp_path.rglob("*.wav"))


def prediction_error(x: np.ndarray, order: int = 16) -> np.ndarray:
    """|x[n] - linear prediction from the 16 samples before|; a click stands out in it."""
    lagged = np.stack([x[order - k - 1 : x.shape[0] - k - 1] for k in range(order)], axis=1)
    target = x[order:].astype(np.float64)
    coeffs, *_ = np.linalg.lstsq(lagged.astype(np.float64), target, rcond=None)
    return np.asarray(np.abs(target - lagged @ coeffs))


def test_hold_music_loops_without_a_click() -> None:
    loop = builtin.hold_music()
    assert loop.shape[0] % 160 == 0  # whole 20 ms frames: no padding at the seam
    assert loop.shape[0] >= 5 * 8000
    seam = loop.shape[0] - 16  # index of the loop's first sample in the error signal
    error = prediction_error(np.concatenate([loop, loop]))
    # notes cut off at the end of the loop would give an error 30x this large
    assert error[seam - 2 : seam + 3].max() <= np.percentile(error[:seam], 99.9)


def test_hold_music_is_a_melody_not_a_tone() -> None:
    loop = builtin.hold_music()
    windows = loop.reshape(-1, 2000)  # quarter seconds
    assert all(rms_dbfs(w) > -40 for w in windows)  # never drops out
    pitches = {round(dominant_hz(w)) for w in windows}
    assert len(pitches) >= 5


def test_hold_music_is_stored_at_the_reference_level(tmp_path: Path) -> None:
    pcm, rate = sf.read(builtin.ensure(tmp_path, "hold_music", "pl"), dtype="float32")
    assert rate == 8000 and pcm.shape[0] == builtin.hold_music().shape[0]
    assert rms_dbfs(pcm) == pytest.approx(builtin.LEVEL_DBFS, abs=0.5)
    assert builtin.ensure(tmp_path, "hold_music", "en") == builtin.ensure(tmp_path,
                                                                          "hold_music", "it")


def test_beep_is_1khz_with_soft_edges() -> None:
    tone = builtin.beep()
    assert tone.shape[0] == 3200
    assert dominant_hz(tone) == pytest.approx(1000, abs=3)
    assert abs(tone[0]) < 1e-3 and abs(tone[-1]) < 0.01
    assert np.max(np.abs(tone)) == pytest.approx(0.5, abs=0.01)
