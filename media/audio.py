"""Audio helpers for prompts and recordings: decode, resample to 8 kHz, levels, 20 ms frames.

Files are decoded by ``soundfile`` (libsndfile, MP3 through mpg123) from memory and
mixed down to mono float32. Telephony runs at 8 kHz (G.711, ITU-T G.711 §2), so
:func:`to_8k` band-limits and resamples with a Kaiser-windowed sinc evaluated at
each output instant; any input rate works, no scipy needed. Levels are in dBFS
with full scale = 1.0 (a full-scale sine reads -3.01 dBFS).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soundfile as sf

from media.errors import MediaError

RATE = 8000
FRAME = 160  # samples in 20 ms at 8 kHz

# Resampler design: ZEROS zero crossings of the sinc each side of the centre (in
# units of the narrower of the two rates), Kaiser window of parameter BETA, and a
# cutoff at ROLLOFF of the narrower Nyquist so the transition band ends near it.
ZEROS = 24
BETA = 9.0
ROLLOFF = 0.92
_CHUNK = 4096  # output samples per vectorised block
_MAX_PHASES = 2048  # beyond this many distinct fractions, kernels are computed per block

Float32Array = npt.NDArray[np.float32]
Int16Array = npt.NDArray[np.int16]


class AudioError(MediaError):
    """Audio that cannot be decoded; ``reason`` is a short code, the message a sentence."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True, eq=False)
class Decoded:
    """A decoded file: mono float32 PCM in [-1, 1] at the source rate."""

    pcm: Float32Array
    rate: int
    channels: int  # channels in the file (pcm is their mean)
    format: str  # libsndfile major format, e.g. "MP3", "WAV"
    subtype: str  # e.g. "MPEG_LAYER_III", "PCM_16"
    duration: float  # seconds of pcm

    @property
    def samples(self) -> int:
        return int(self.pcm.shape[0])


def decode(data: bytes) -> Decoded:
    """Decode a whole audio file held in memory (any format libsndfile reads)."""
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            block = f.read(dtype="float32", always_2d=True)
            rate, channels, fmt, subtype = f.samplerate, f.channels, f.format, f.subtype
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioError("undecodable", f"the audio cannot be decoded ({exc})") from exc
    pcm = block[:, 0].copy() if channels == 1 else block.mean(axis=1, dtype=np.float32)
    return Decoded(np.ascontiguousarray(pcm, dtype=np.float32), int(rate), int(channels),
                   str(fmt), str(subtype), pcm.shape[0] / rate if rate else 0.0)


def to_8k(pcm: npt.NDArray[np.floating] | Int16Array, rate: int) -> Int16Array:
    """Resample mono PCM (float in [-1, 1], or int16) from ``rate`` to 8 kHz int16.

    Content above the lower of the two Nyquist frequencies is removed first, so a
    6 kHz tone in a 44.1 kHz file does not fold back to 2 kHz."""
    x = as_float(pcm)
    if rate <= 0:
        raise AudioError("bad_rate", f"the sample rate {rate} Hz is not usable")
    y = x if rate == RATE else _resample(x, rate, RATE)
    return float_to_int16(y)


def _resample(x: Float32Array, src: int, dst: int) -> Float32Array:
    """Windowed-sinc interpolation: output n sits at input time n * src / dst.

    Output positions fall on ``dst / gcd`` distinct fractions of an input
    sample, so the kernels are computed once per fraction (polyphase)."""
    count = (x.shape[0] * dst + src - 1) // src
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    scale = min(1.0, dst / src)  # <1 when decimating: stretch the kernel
    half = math.ceil(ZEROS / scale)  # kernel half-width in input samples
    taps = np.arange(-half + 1, half + 1)  # offsets from floor(position)
    phases = dst // math.gcd(src, dst)
    table = _kernels(np.arange(min(phases, _MAX_PHASES)) / phases, taps, scale, half)
    padded = np.concatenate([np.zeros(half, np.float64), x.astype(np.float64),
                             np.zeros(half + 1, np.float64)])
    out = np.empty(count, dtype=np.float64)
    for start in range(0, count, _CHUNK):
        n = np.arange(start, min(start + _CHUNK, count), dtype=np.int64)
        base, rest = n * src // dst, n * src % dst
        if phases <= _MAX_PHASES:
            kernel = table[rest * phases // dst]
        else:
            kernel = _kernels(rest / dst, taps, scale, half)
        window = padded[(base + half)[:, None] + taps[None, :]]
        out[start : start + n.shape[0]] = np.einsum("ij,ij->i", window, kernel)
    return out.astype(np.float32)


def _kernels(frac: npt.NDArray[np.float64], taps: npt.NDArray[np.int64], scale: float,
             half: int) -> npt.NDArray[np.float64]:
    """One normalised low-pass kernel per fractional position (rows)."""
    dist = taps[None, :] - frac[:, None]  # input sample minus exact position
    kernel = np.sinc(ROLLOFF * scale * dist) * _kaiser(dist / half)
    return np.asarray(kernel / kernel.sum(axis=1, keepdims=True), dtype=np.float64)


def _kaiser(u: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Kaiser window at relative positions ``u`` in [-1, 1] (0 outside)."""
    inside = np.clip(1.0 - u * u, 0.0, None)
    return np.asarray(np.i0(BETA * np.sqrt(inside)) / np.i0(BETA), dtype=np.float64)


def as_float(pcm: npt.NDArray[np.floating] | Int16Array) -> Float32Array:
    """PCM as float32 in [-1, 1] (int16 is scaled by 1/32768)."""
    a = np.asarray(pcm)
    if a.ndim != 1:
        raise AudioError("not_mono", f"expected mono PCM, got an array of shape {a.shape}")
    if a.dtype == np.int16:
        return (a.astype(np.float32) / 32768.0).astype(np.float32)
    return a.astype(np.float32, copy=False)


def float_to_int16(pcm: npt.NDArray[np.floating]) -> Int16Array:
    """Round and clip float PCM in [-1, 1] to int16."""
    return np.clip(np.rint(np.asarray(pcm, np.float64) * 32767.0), -32768, 32767).astype(np.int16)


def rms_dbfs(pcm: npt.NDArray[np.floating] | Int16Array) -> float:
    """RMS level in dBFS (full scale 1.0); ``-inf`` for silence or no samples."""
    x = as_float(pcm).astype(np.float64)
    if x.size == 0:
        return -math.inf
    rms = math.sqrt(float(np.mean(x * x)))
    return 20.0 * math.log10(rms) if rms > 0.0 else -math.inf


def peak_dbfs(pcm: npt.NDArray[np.floating] | Int16Array) -> float:
    """Peak level in dBFS; ``-inf`` for silence or no samples."""
    x = as_float(pcm)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf


def normalize(pcm: npt.NDArray[np.floating], target_dbfs: float = -20.0,
              peak_limit_dbfs: float = -1.0) -> Float32Array:
    """Scale float PCM to an RMS of ``target_dbfs`` without peaks above the limit."""
    x = as_float(pcm)
    level, peak = rms_dbfs(x), peak_dbfs(x)
    if math.isinf(level):
        return x.copy()
    gain_db = min(target_dbfs - level, peak_limit_dbfs - peak)
    return (x * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


def frames(pcm8k: Int16Array, samples: int = FRAME) -> list[Int16Array]:
    """Cut 8 kHz int16 PCM into frames of ``samples``; the last is padded with silence."""
    a = np.asarray(pcm8k, dtype=np.int16)
    if a.size == 0:
        return []
    whole = -(-a.shape[0] // samples) * samples
    padded = np.zeros(whole, dtype=np.int16)
    padded[: a.shape[0]] = a
    return [padded[i : i + samples] for i in range(0, whole, samples)]


# -- MPEG audio frame stream (ISO/IEC 11172-3 §2.4.2.3, 13818-3 for MPEG-2/2.5) --------

_BITRATES = {  # kbit/s by (MPEG-1?, layer), index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_LAYERS = {3: 1, 2: 2, 1: 3}  # header bits -> layer number


@dataclass(frozen=True, slots=True)
class MpegFrame:
    """One MPEG audio frame header: where it is and how long the frame is."""

    offset: int
    length: int
    version: int  # header bits: 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    layer: int  # 1, 2 or 3
    rate: int
    mono: bool
    crc: bool


@dataclass(frozen=True, slots=True)
class MpegStream:
    """The frame walk of a whole file: ``problem`` is None for a complete stream."""

    frames: int
    layer: int
    mono: bool
    rate: int
    declared_frames: int | None  # from a Xing/Info header, which is not counted in frames
    problem: str | None  # "truncated" or "corrupt"
    detail: str


def parse_mpeg_header(data: bytes, offset: int) -> MpegFrame | None:
    """The frame header at ``offset``, or None if there is no valid one there."""
    if offset + 4 > len(data):
        return None
    h = int.from_bytes(data[offset : offset + 4], "big")
    version, layer_bits = (h >> 19) & 3, (h >> 17) & 3
    bitrate_index, rate_index = (h >> 12) & 15, (h >> 10) & 3
    if h >> 21 != 0x7FF or version == 1 or layer_bits == 0:
        return None
    if bitrate_index in (0, 15) or rate_index == 3:  # free format is not supported
        return None
    layer, mpeg1 = _LAYERS[layer_bits], version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    rate, padding = _RATES[version][rate_index], (h >> 9) & 1
    if layer == 1:
        length = (12 * bitrate // rate + padding) * 4
    else:
        length = (144 if mpeg1 or layer == 2 else 72) * bitrate // rate + padding
    return MpegFrame(offset, length, version, layer, rate, (h >> 6) & 3 == 3, not (h >> 16) & 1)


def mpeg_stream(data: bytes) -> MpegStream:
    """Walk every frame from the first to the end of the audio data.

    The frames must follow each other without gaps up to the trailing tags
    (ID3v1, APEv2); a last frame shorter than its header announces means the
    file was cut. A Xing/Info header (LAME and libsndfile write one) declares
    the frame count, which catches a cut that falls exactly on a frame boundary.
    """
    start, end = _skip_id3v2(data), _strip_trailing_tags(data)
    first = parse_mpeg_header(data, start)
    if first is None:
        return MpegStream(0, 0, False, 0, None, "corrupt",
                          f"no MPEG audio frame where the audio should start (byte {start})")
    count, offset, problem, detail = 0, start, None, ""
    while offset < end:
        frame = parse_mpeg_header(data, offset)
        if frame is None or (frame.version, frame.layer, frame.rate) != (
                first.version, first.layer, first.rate):
            problem, detail = _classify_remainder(data[offset:end], offset)
            break
        if offset + frame.length > end:
            problem = "truncated"
            detail = f"the last frame is cut short ({end - offset} of {frame.length} bytes)"
            break
        count, offset = count + 1, offset + frame.length
    declared = _xing_frames(data, first)
    if problem is None and declared is not None and count - 1 < declared:
        problem = "truncated"
        detail = f"{count - 1} audio frames of the {declared} the file declares"
    return MpegStream(count, first.layer, first.mono, first.rate, declared, problem, detail)


def _classify_remainder(rest: bytes, offset: int) -> tuple[str | None, str]:
    if not rest.strip(b"\x00"):
        return None, ""  # zero padding after the last frame
    return "corrupt", f"the frame stream is broken at byte {offset}"


def _skip_id3v2(data: bytes) -> int:
    offset = 0
    while data[offset : offset + 3] == b"ID3" and offset + 10 <= len(data):
        size = 0
        for byte in data[offset + 6 : offset + 10]:
            size = (size << 7) | (byte & 0x7F)
        footer = 10 if data[offset + 5] & 0x10 else 0
        offset += 10 + size + footer
    return offset


def _strip_trailing_tags(data: bytes) -> int:
    end = len(data)
    if end >= 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128
    if end >= 32 and data[end - 32 : end - 24] == b"APETAGEX":
        size = int.from_bytes(data[end - 20 : end - 16], "little")
        has_header = data[end - 9] & 0x80
        end = max(0, end - size - (32 if has_header else 0))
    return end


def _xing_frames(data: bytes, first: MpegFrame) -> int | None:
    """Frame count of a Xing/Info header in the first frame, if it has one."""
    if first.layer != 3:
        return None
    side = (32 if not first.mono else 17) if first.version == 3 else (17 if not first.mono else 9)
    at = first.offset + 4 + (2 if first.crc else 0) + side
    if data[at : at + 4] not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(data[at + 4 : at + 8], "big")
    return int.from_bytes(data[at + 8 : at + 12], "big") if flags & 1 else None
