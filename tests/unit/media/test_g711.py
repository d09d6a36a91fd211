"""G.711 µ-law/A-law tables (F-MEDIA-1): known values, round trips, audioop cross-check,
transcoding tables, codec registry."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from media.codecs import (
    ALAW_TO_ULAW,
    BY_PAYLOAD_TYPE,
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    ULAW_TO_ALAW,
    Codec,
    UnknownCodec,
    alaw_decode,
    alaw_encode,
    alaw_to_ulaw,
    by_name,
    by_payload_type,
    transcode_table,
    ulaw_decode,
    ulaw_encode,
    ulaw_to_alaw,
)
from media.errors import MediaError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:  # removed in Python 3.13
        audioop = None  # type: ignore[assignment]

ALL_CODES = bytes(range(256))
ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)
needs_audioop = pytest.mark.skipif(audioop is None, reason="audioop removed from Python")


# -- values of the standard (G.191 / audioop 16-bit scale) -----------------------------


@pytest.mark.parametrize(("code", "value"), [
    (0xFF, 0), (0x7F, 0), (0x00, -32124), (0x80, 32124),
    (0xFE, 8), (0x7E, -8), (0xF0, 120), (0xEF, 132),
])
def test_ulaw_known_decodes(code: int, value: int) -> None:
    assert int(ulaw_decode(bytes([code]))[0]) == value


@pytest.mark.parametrize(("code", "value"), [
    (0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xD4, 24), (0x54, -24),
])
def test_alaw_known_decodes(code: int, value: int) -> None:
    assert int(alaw_decode(bytes([code]))[0]) == value


@pytest.mark.parametrize(("sample", "ulaw", "alaw"), [
    (0, 0xFF, 0xD5), (-1, 0x7E, 0x55), (-4, 0x7E, 0x55), (32767, 0x80, 0xAA), (-32768, 0x00, 0x2A),
    (8, 0xFE, 0xD5), (-8, 0x7E, 0x55),
])
def test_known_encodes(sample: int, ulaw: int, alaw: int) -> None:
    pcm = np.array([sample], dtype=np.int16)
    assert ulaw_encode(pcm) == bytes([ulaw])
    assert alaw_encode(pcm) == bytes([alaw])


def test_decoded_tables_are_odd_symmetric_and_monotonic() -> None:
    u = ulaw_decode(ALL_CODES).astype(np.int64)
    a = alaw_decode(ALL_CODES).astype(np.int64)
    # µ-law: code c and c ^ 0x80 are the same magnitude with opposite signs
    assert np.array_equal(u[:128], -u[128:])
    assert np.array_equal(a[:128], -a[128:])
    positive_u = u[255:127:-1]  # 0xFF (zero) up to 0x80 (largest)
    assert np.all(np.diff(positive_u) > 0)
    positive_a = np.sort(a[128:])
    assert len(set(positive_a.tolist())) == 128


# -- round trips -----------------------------------------------------------------------


def test_ulaw_encode_decode_gives_back_every_code_but_negative_zero() -> None:
    again = ulaw_encode(ulaw_decode(ALL_CODES))
    differ = [c for c in range(256) if again[c] != c]
    assert differ == [0x7F]  # negative zero encodes as positive zero
    assert again[0x7F] == 0xFF


def test_alaw_encode_decode_gives_back_every_code() -> None:
    assert alaw_encode(alaw_decode(ALL_CODES)) == ALL_CODES


def test_decode_of_encode_is_idempotent_over_all_samples() -> None:
    for encode, decode in ((ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)):
        once = decode(encode(ALL_SAMPLES))
        assert np.array_equal(decode(encode(once)), once)


def test_quantisation_error_is_within_half_a_step() -> None:
    # G.711 decoders output the middle of the decision interval
    for encode, decode, worst in ((ulaw_encode, ulaw_decode, 0x84 * 8),
                                  (alaw_encode, alaw_decode, 512)):
        err = np.abs(decode(encode(ALL_SAMPLES)).astype(np.int64) - ALL_SAMPLES)
        assert int(err.max()) <= worst
        small = np.abs(ALL_SAMPLES.astype(np.int64)) < 64
        assert int(err[small].max()) <= 16


def test_encode_accepts_wider_integers_by_clipping_and_refuses_floats() -> None:
    wide = np.array([-100000, 0, 100000], dtype=np.int32)
    assert ulaw_encode(wide) == ulaw_encode(np.array([-32768, 0, 32767], dtype=np.int16))
    assert alaw_encode(wide) == alaw_encode(np.array([-32768, 0, 32767], dtype=np.int16))
    with pytest.raises(MediaError):
        ulaw_encode(np.zeros(160, dtype=np.float32))


def test_decode_empty_and_frame_shapes() -> None:
    assert ulaw_decode(b"").shape == (0,)
    assert ulaw_decode(b"\xff" * 160).dtype == np.int16
    assert ulaw_encode(np.zeros(0, dtype=np.int16)) == b""


# -- audioop as an independent reference -----------------------------------------------


@needs_audioop
def test_decoders_match_audioop() -> None:
    assert ulaw_decode(ALL_CODES).tobytes() == audioop.ulaw2lin(ALL_CODES, 2)
    assert alaw_decode(ALL_CODES).tobytes() == audioop.alaw2lin(ALL_CODES, 2)


@needs_audioop
def test_encoders_match_audioop_for_every_sample() -> None:
    raw = ALL_SAMPLES.tobytes()
    assert ulaw_encode(ALL_SAMPLES) == audioop.lin2ulaw(raw, 2)
    assert alaw_encode(ALL_SAMPLES) == audioop.lin2alaw(raw, 2)


@needs_audioop
def test_translate_tables_match_audioop_decode_encode() -> None:
    ulaw_to_alaw_ref = audioop.lin2alaw(audioop.ulaw2lin(ALL_CODES, 2), 2)
    alaw_to_ulaw_ref = audioop.lin2ulaw(audioop.alaw2lin(ALL_CODES, 2), 2)
    assert ulaw_to_alaw_ref == ULAW_TO_ALAW
    assert alaw_to_ulaw_ref == ALAW_TO_ULAW


# -- transcoding -------------------------------------------------------------------------


def test_translate_tables_equal_decode_then_encode() -> None:
    assert len(ULAW_TO_ALAW) == len(ALAW_TO_ULAW) == 256
    assert ALL_CODES.translate(ULAW_TO_ALAW) == alaw_encode(ulaw_decode(ALL_CODES))
    assert ALL_CODES.translate(ALAW_TO_ULAW) == ulaw_encode(alaw_decode(ALL_CODES))


def test_transcoding_keeps_silence_silent_and_a_frame_its_length() -> None:
    assert ulaw_to_alaw(b"\xff" * 160) == b"\xd5" * 160
    assert alaw_to_ulaw(b"\xd5" * 160) == ulaw_encode(np.full(160, 8, dtype=np.int16))
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, 160, dtype=np.uint8).tobytes()
    assert len(ulaw_to_alaw(frame)) == 160


def test_transcoding_twice_stays_close() -> None:
    back = ulaw_decode(alaw_to_ulaw(ulaw_to_alaw(ALL_CODES))).astype(np.int64)
    orig = ulaw_decode(ALL_CODES).astype(np.int64)
    assert np.all(np.abs(back - orig) <= np.maximum(np.abs(orig) // 8, 16))


# -- registry ---------------------------------------------------------------------------


def test_registry_facts() -> None:
    assert (PCMU.name, PCMU.payload_type, PCMU.clock_rate, PCMU.frame_samples) == \
        ("PCMU", 0, 8000, 160)
    assert (PCMA.name, PCMA.payload_type, PCMA.clock_rate, PCMA.frame_samples) == \
        ("PCMA", 8, 8000, 160)
    assert PCMU.silence_frame == b"\xff" * 160
    assert PCMA.silence_frame == b"\xd5" * 160
    assert TELEPHONE_EVENT.name == "telephone-event"
    assert TELEPHONE_EVENT.clock_rate == 8000
    assert TELEPHONE_EVENT.default_payload_type == 101


def test_lookups_by_name_and_payload_type() -> None:
    assert by_name("pcmu") is PCMU
    assert by_name("PCMA") is PCMA
    assert by_payload_type(0) is PCMU
    assert by_payload_type(8) is PCMA
    assert set(BY_PAYLOAD_TYPE) == {0, 8}
    with pytest.raises(UnknownCodec):
        by_name("G729")
    with pytest.raises(UnknownCodec):
        by_payload_type(18)
    with pytest.raises(MediaError):
        by_payload_type(101)


def test_transcode_table_lookup() -> None:
    assert transcode_table("PCMU", "pcmu") is None
    assert transcode_table("PCMU", "PCMA") == ULAW_TO_ALAW
    assert transcode_table("pcma", "PCMU") == ALAW_TO_ULAW
    with pytest.raises(UnknownCodec):
        transcode_table("PCMU", "opus")


def test_codecs_satisfy_the_protocol_and_code_frames() -> None:
    codecs: list[Codec] = [PCMU, PCMA]
    t = np.arange(160) / 8000
    tone = np.rint(8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    for codec in codecs:
        payload = codec.encode(tone)
        assert len(payload) == codec.frame_samples
        back = codec.decode(payload)
        assert back.dtype == np.int16
        assert np.max(np.abs(back.astype(np.int64) - tone)) <= 256
        assert np.all(codec.decode(codec.silence_frame) == codec.decode(codec.silence_frame[:1]))
    assert PCMU.encode(tone) == ulaw_encode(tone)
    assert PCMA.encode(tone) == alaw_encode(tone)
