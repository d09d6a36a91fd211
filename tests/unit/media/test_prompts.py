"""media.prompts (F-MEDIA-2): upload validation, store precedence, frame cache."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media.audio import mpeg_stream, parse_mpeg_header
from media.prompts import (
    PromptError,
    PromptInfo,
    PromptStore,
    UploadRefused,
    validate_upload,
)


def sine(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def encode(pcm: np.ndarray, rate: int, fmt: str = "MP3", **options: object) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, format=fmt, **options)
    return buf.getvalue()


def dominant_hz(pcm: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64) * np.hanning(pcm.shape[0])))
    return float(np.argmax(spectrum) * 8000 / pcm.shape[0])


def l16(frames: tuple[bytes, ...]) -> np.ndarray:
    return np.frombuffer(b"".join(frames), dtype="<i2")


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    noise = np.random.default_rng(7).standard_normal(48000 * 80).astype(np.float32) * 0.3
    mono = encode(sine(440, 22050, 2.0), 22050)
    return {
        "mono": mono,
        "mono_660": encode(sine(660, 44100, 1.0), 44100),
        "stereo": encode(np.stack([sine(440, 44100, 1.0)] * 2, axis=1), 44100),
        "wav": encode(sine(440, 8000, 1.0), 8000, "WAV"),
        "big": encode(noise, 48000, bitrate_mode="CONSTANT", compression_level=0.0),
        "half": mono[: len(mono) // 2],
        "tiny": encode(np.zeros(20, np.float32), 8000),
    }


# -- validation ---------------------------------------------------------------------------

def test_a_mono_mp3_is_accepted(files: dict[str, bytes]) -> None:
    decoded = validate_upload(files["mono"])
    assert (decoded.rate, decoded.channels, decoded.format) == (22050, 1, "MP3")
    assert decoded.duration == pytest.approx(2.0)


@pytest.mark.parametrize(("case", "reason", "message"), [
    ("stereo", "not_mono", "the file has 2 channels; upload a mono MP3"),
    ("wav", "not_mp3", "the file is WAV audio (WAV (Microsoft)), not an MP3; upload a mono MP3"),
    ("big", "too_large", "the file is 3.1 MB; the limit is 2 MB"),
    ("half", "truncated", "the MP3 is incomplete: "),
    ("tiny", "no_audio", "the MP3 contains no audio (less than 20 ms)"),
])
def test_each_bad_upload_is_refused_with_its_own_message(
        files: dict[str, bytes], case: str, reason: str, message: str) -> None:
    with pytest.raises(UploadRefused) as info:
        validate_upload(files[case])
    assert info.value.reason == reason
    assert str(info.value).startswith(message)


def test_the_big_file_is_a_real_mp3_over_the_limit(files: dict[str, bytes]) -> None:
    assert 3 * 1024 * 1024 < len(files["big"]) < 3.2 * 1024 * 1024
    assert validate_upload(files["big"], max_bytes=4 * 1024 * 1024).channels == 1


@pytest.mark.parametrize(("data", "reason", "says"), [
    (b"", "empty", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not_mp3", "a PNG image"),
    (b"just some text\n" * 20, "not_mp3", "not audio in a known format"),
    (b"ID3\x03\x00\x00\x00\x00\x00\x00", "corrupt", "the MP3 is damaged"),
])
def test_other_refusals(data: bytes, reason: str, says: str) -> None:
    with pytest.raises(UploadRefused) as info:
        validate_upload(data)
    assert info.value.reason == reason and says in str(info.value)


def test_a_cut_on_a_frame_boundary_is_caught_by_the_declared_length(
        files: dict[str, bytes]) -> None:
    data = files["mono"]
    # walk the frames to find a boundary near the middle
    offset, boundaries = 0, []
    while (frame := parse_mpeg_header(data, offset)) is not None:
        offset += frame.length
        boundaries.append(offset)
    cut = data[: boundaries[len(boundaries) // 2]]
    assert mpeg_stream(cut).problem == "truncated"
    with pytest.raises(UploadRefused) as info:
        validate_upload(cut)
    assert info.value.reason == "truncated" and "of the" in str(info.value)


# -- the store ----------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path) -> PromptStore:
    return PromptStore(tmp_path / "prompts")


def test_built_in_prompts_are_generated_into_root(store: PromptStore) -> None:
    frames = store.frames("goodbye", "fr", "L16")
    assert frames and all(len(f) == 320 for f in frames)
    info = store.info("goodbye", "fr")
    assert info.source == "builtin" and info.language == "fr"
    assert info.path.is_relative_to(store.root / "builtin" / "fr")
    assert info.frames == len(frames) and info.duration == pytest.approx(len(frames) * 0.02,
                                                                         abs=0.02)
    assert store.frames("goodbye", "fr", "L16") is frames  # decoded once


def test_hold_music_frames_loop_without_padding(store: PromptStore) -> None:
    frames = store.frames("hold_music", "en", "L16")
    assert len(frames) * 160 == store.pcm("hold_music", "en").shape[0]
    assert l16(frames[-1:]).any()  # the last frame is music, not padding
    assert store.pcm("hold_music", "pl") is store.pcm("hold_music", "en")  # decoded once
    beep = l16(store.frames("beep", "it", "L16"))
    assert dominant_hz(beep) == pytest.approx(1000, abs=3)


def test_upload_takes_precedence_and_replaces_the_cache(store: PromptStore,
                                                       files: dict[str, bytes]) -> None:
    before = store.frames("welcome", "en", "L16")
    info = store.upload("welcome", files["mono"], "en")
    assert info == PromptInfo("welcome", "en", "upload",
                              store.root / "uploads" / "en" / "welcome.mp3", 2.0, 100)
    after = store.frames("welcome", "en", "L16")
    assert after != before and len(after) == 100
    assert dominant_hz(l16(after)) == pytest.approx(440, abs=3)
    assert store.info("welcome", "it").source == "builtin"  # other languages untouched


def test_language_upload_beats_every_language_upload(store: PromptStore,
                                                    files: dict[str, bytes]) -> None:
    store.upload("hold_music", files["mono"])
    store.upload("hold_music", files["mono_660"], "pl")
    assert dominant_hz(l16(store.frames("hold_music", "en", "L16"))) == pytest.approx(440, abs=3)
    assert dominant_hz(l16(store.frames("hold_music", "pl", "L16"))) == pytest.approx(660, abs=3)
    assert store.info("hold_music", "es").language is None
    assert store.remove_upload("hold_music", "pl")
    assert dominant_hz(l16(store.frames("hold_music", "pl", "L16"))) == pytest.approx(440, abs=3)
    assert store.remove_upload("hold_music")
    assert store.info("hold_music", "pl").source == "builtin"
    assert not store.remove_upload("hold_music")


@pytest.mark.parametrize("case", ["stereo", "wav", "big", "half", "tiny"])
def test_a_refused_upload_leaves_the_previous_audio_in_use(
        store: PromptStore, files: dict[str, bytes], case: str) -> None:
    store.upload("voicemail_greeting", files["mono"], "es")
    served = store.frames("voicemail_greeting", "es", "L16")
    stored = (store.root / "uploads" / "es" / "voicemail_greeting.mp3").read_bytes()
    with pytest.raises(UploadRefused):
        store.upload("voicemail_greeting", files[case], "es")
    assert store.frames("voicemail_greeting", "es", "L16") is served
    assert (store.root / "uploads" / "es" / "voicemail_greeting.mp3").read_bytes() == stored
    assert [p.name for p in (store.root / "uploads" / "es").iterdir()] == [
        "voicemail_greeting.mp3"]  # no temporary file left behind


def test_an_upload_by_another_process_is_picked_up(tmp_path: Path,
                                                  files: dict[str, bytes]) -> None:
    reader, writer = PromptStore(tmp_path), PromptStore(tmp_path)
    writer.upload("menu", files["mono"])
    assert dominant_hz(l16(reader.frames("menu", "en", "L16"))) == pytest.approx(440, abs=3)
    writer.upload("menu", files["mono_660"])
    assert dominant_hz(l16(reader.frames("menu", "en", "L16"))) == pytest.approx(660, abs=3)
    assert "menu" in reader.names() and "welcome" in reader.names()


def test_custom_names_exist_only_once_uploaded(store: PromptStore,
                                              files: dict[str, bytes]) -> None:
    with pytest.raises(PromptError) as info:
        store.frames("sales_menu", "en", "L16")
    assert info.value.reason == "unknown_prompt"
    store.upload("sales_menu", files["mono"], "it")
    assert store.info("sales_menu", "it").source == "upload"
    with pytest.raises(PromptError):
        store.info("sales_menu", "en")


@pytest.mark.parametrize(("call", "reason"), [
    (lambda s: s.frames("welcome", "de", "L16"), "unknown_language"),
    (lambda s: s.frames("../etc/passwd", "en", "L16"), "bad_name"),
    (lambda s: s.frames("welcome", "en", "G729"), "unknown_codec"),
    (lambda s: s.upload("Welcome", b"x"), "bad_name"),
])
def test_bad_requests(store: PromptStore, call: Callable[[PromptStore], object],
                      reason: str) -> None:
    with pytest.raises(PromptError) as info:
        call(store)
    assert info.value.reason == reason


def test_missing_espeak_becomes_a_prompt_error(store: PromptStore, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PromptError) as info:
        store.frames("thank_you", "pl", "L16")
    assert info.value.reason == "espeak_missing" and "espeak-ng" in info.value.message
    assert store.frames("beep", "pl", "L16")  # synthesised sounds still work


def test_an_unreadable_file_in_uploads_is_a_prompt_error(store: PromptStore) -> None:
    path = store.root / "uploads" / "any" / "broken.mp3"
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(100))
    with pytest.raises(PromptError) as info:
        store.frames("broken", "en", "L16")
    assert info.value.reason == "unreadable"
