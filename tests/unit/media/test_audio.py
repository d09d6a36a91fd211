"""media.audio: decoding, the 8 kHz resampler, levels, framing, the MPEG frame walk."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import soundfile as sf

from media.audio import (
    AudioError,
    decode,
    frames,
    mpeg_stream,
    normalize,
    parse_mpeg_header,
    peak_dbfs,
    rms_dbfs,
    to_8k,
)


def sine(freq: float, rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(pcm: np.ndarray, rate: int) -> float:
    x = pcm.astype(np.float64) * np.hanning(pcm.shape[0])
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.argmax(spectrum) * rate / pcm.shape[0])


def encode(pcm: np.ndarray, rate: int, fmt: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("rate", [44100, 48000, 22050, 16000, 11025, 8000])
def test_1khz_keeps_frequency_and_level(rate: int) -> None:
    y = to_8k(sine(1000, rate, 1.0), rate)
    assert y.dtype == np.int16
    assert abs(y.shape[0] - 8000) <= 1
    body = y[400:-400]
    assert dominant_hz(body, 8000) == pytest.approx(1000, abs=2)
    assert rms_dbfs(body) == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.1)


def test_6khz_at_44k1_does_not_alias_to_2khz() -> None:
    y = to_8k(sine(6000, 44100, 1.0), 44100)
    assert rms_dbfs(y[400:-400]) < -80  # folded, it would read -9 dBFS at 2 kHz


def test_tone_near_the_band_edge_passes_a_tone_past_it_does_not() -> None:
    assert rms_dbfs(to_8k(sine(3000, 44100, 0.5), 44100)[200:-200]) > -9.5
    assert rms_dbfs(to_8k(sine(4500, 44100, 0.5), 44100)[200:-200]) < -70


def test_upsampling_from_a_low_rate_keeps_the_tone() -> None:
    y = to_8k(sine(500, 6000, 1.0), 6000)
    assert dominant_hz(y[400:-400], 8000) == pytest.approx(500, abs=2)


def test_to_8k_accepts_int16_and_refuses_bad_input() -> None:
    pcm = (sine(1000, 16000, 0.1) * 32767).astype(np.int16)
    assert dominant_hz(to_8k(pcm, 16000), 8000) == pytest.approx(1000, abs=15)
    with pytest.raises(AudioError):
        to_8k(np.zeros((10, 2), np.float32), 8000)
    with pytest.raises(AudioError):
        to_8k(np.zeros(10, np.float32), 0)
    assert to_8k(np.zeros(0, np.float32), 44100).shape == (0,)


def test_decode_wav_stereo_is_mixed_to_mono() -> None:
    left, right = sine(440, 16000, 0.5), sine(440, 16000, 0.5, 0.1)
    decoded = decode(encode(np.stack([left, right], axis=1), 16000, "WAV"))
    assert (decoded.rate, decoded.channels, decoded.format) == (16000, 2, "WAV")
    assert decoded.subtype == "PCM_16"
    assert decoded.duration == pytest.approx(0.5)
    assert np.allclose(decoded.pcm, (left + right) / 2, atol=1e-3)


def test_decode_mp3_from_memory() -> None:
    decoded = decode(encode(sine(440, 22050, 1.0), 22050, "MP3"))
    assert (decoded.rate, decoded.channels, decoded.format) == (22050, 1, "MP3")
    assert decoded.subtype == "MPEG_LAYER_III"
    assert decoded.samples == 22050
    assert dominant_hz(decoded.pcm, 22050) == pytest.approx(440, abs=2)


def test_decode_garbage_raises_audio_error() -> None:
    with pytest.raises(AudioError) as info:
        decode(b"this is not audio at all" * 10)
    assert info.value.reason == "undecodable"


def test_levels() -> None:
    assert rms_dbfs(sine(1000, 8000, 1.0, 1.0)) == pytest.approx(-3.01, abs=0.01)
    assert peak_dbfs(sine(1000, 8000, 1.0, 0.5)) == pytest.approx(-6.02, abs=0.01)
    assert rms_dbfs(np.zeros(100, np.int16)) == -math.inf
    assert rms_dbfs(np.zeros(0, np.float32)) == -math.inf
    assert rms_dbfs(np.full(10, -32768, np.int16)) == pytest.approx(0.0)
    loud = normalize(sine(300, 8000, 1.0, 0.9), -20.0)
    assert rms_dbfs(loud) == pytest.approx(-20.0, abs=0.01)
    spiky = np.zeros(8000, np.float32)
    spiky[100] = 0.01
    assert peak_dbfs(normalize(spiky, -20.0, peak_limit_dbfs=-1.0)) == pytest.approx(-1.0)


def test_frames_pad_the_last_with_silence() -> None:
    pcm = np.arange(1, 401, dtype=np.int16)
    cut = frames(pcm)
    assert [f.shape[0] for f in cut] == [160, 160, 160]
    assert np.array_equal(np.concatenate(cut)[:400], pcm)
    assert not cut[-1][80:].any()
    assert frames(np.zeros(0, np.int16)) == []
    assert len(frames(np.zeros(320, np.int16))) == 2


def test_mpeg_header_fields() -> None:
    header = parse_mpeg_header(b"\xff\xfb\x90\xc4", 0)  # MPEG-1 L3 128 kbit/s 44.1 kHz mono
    assert header is not None
    assert (header.version, header.layer, header.rate, header.mono) == (3, 3, 44100, True)
    assert header.length == 417
    assert parse_mpeg_header(b"\xff\xfb\xf0\xc4", 0) is None  # bitrate index 15
    assert parse_mpeg_header(b"RIFF", 0) is None
    assert parse_mpeg_header(b"\xff\xfb", 0) is None


def test_mpeg_stream_complete_cut_and_broken() -> None:
    data = encode(sine(440, 44100, 2.0), 44100, "MP3")
    whole = mpeg_stream(data)
    assert whole.problem is None and whole.mono and whole.layer == 3
    assert whole.declared_frames == whole.frames - 1  # the Xing frame is not audio
    assert mpeg_stream(data[: len(data) // 2]).problem == "truncated"
    assert mpeg_stream(data + b"\x00" * 50).problem is None
    assert mpeg_stream(data + b"TAG" + b" " * 125).problem is None
    inserted = data[:1000] + b"junk" * 30 + data[1000:]  # frame headers no longer line up
    assert mpeg_stream(inserted).problem == "corrupt"
    stereo = encode(np.stack([sine(440, 44100, 0.5)] * 2, axis=1), 44100, "MP3")
    assert not mpeg_stream(stereo).mono
