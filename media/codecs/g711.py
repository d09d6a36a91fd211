"""G.711 µ-law (PCMU) and A-law (PCMA), ITU-T G.711 §2 and §3, by lookup table.

Linear scale: decoders return int16 on the 16-bit scale, the G.711 decoder
output shifted left (µ-law's 14-bit value by 2, A-law's 13-bit value by 3),
the convention of the G.191 reference code and of Python's ``audioop``:
µ-law 0x00 -> -32124, 0x80 -> +32124, 0xFF and 0x7F -> 0; A-law
0xD5 -> +8, 0x55 -> -8, 0xAA -> +32256, 0x2A -> -32256.

Encoding truncates the int16 sample to the codec's linear width and follows
the segment tables of G.711 (µ-law: bias 33 on 14 bits, 8 segments, all bits
inverted; A-law: 13 bits, 8 segments, even bits inverted, XOR 0x55).  Each law
is evaluated once for all 65536 int16 values into a table, so encoding a frame
is one numpy indexing operation, and decoding one of 256 entries.

``ULAW_TO_ALAW`` and ``ALAW_TO_ULAW`` are 256-byte tables for
``bytes.translate``: the relay transcodes a payload with one C call and no
numpy. They equal decode-then-encode for every code.

Encoding decode(code) gives back ``code`` for every code except µ-law 0x7F
(negative zero), which encodes as 0xFF (positive zero): both decode to 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from media.errors import MediaError

Int16Array = npt.NDArray[np.int16]
Uint8Array = npt.NDArray[np.uint8]

ULAW_SILENCE = 0xFF  # decodes to 0
ALAW_SILENCE = 0xD5  # decodes to +8, the smallest positive step

_ULAW_BIAS = 33  # on the 14-bit scale (0x84 on the 16-bit scale)
_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def _ulaw_decode_table() -> Int16Array:
    u = ~np.arange(256, dtype=np.int64) & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = (((u & 0x0F) << 3) + 0x84) << exponent
    value = np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84)
    return value.astype(np.int16)


def _alaw_decode_table() -> Int16Array:
    a = np.arange(256, dtype=np.int64) ^ 0x55
    segment = (a >> 4) & 0x07
    mantissa = (a & 0x0F) << 4
    shifted = (mantissa + 0x108) << np.maximum(segment - 1, 0)
    magnitude = np.where(segment == 0, mantissa + 8, shifted)
    value = np.where(a & 0x80, magnitude, -magnitude)
    return value.astype(np.int16)


def _all_int16() -> npt.NDArray[np.int64]:
    """Every int16 value, ordered by its bit pattern read as uint16 (the table index)."""
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int64)


def _ulaw_encode_table() -> Uint8Array:
    x = _all_int16() >> 2  # 14-bit linear
    negative = x < 0
    magnitude = np.minimum(np.where(negative, -x, x) + _ULAW_BIAS, 0x1FFF)
    segment = np.searchsorted(_ULAW_SEG_END, magnitude)
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    inverted: npt.NDArray[np.int64] = code ^ np.where(negative, 0x7F, 0xFF)
    return inverted.astype(np.uint8)


def _alaw_encode_table() -> Uint8Array:
    x = _all_int16() >> 3  # 13-bit linear
    negative = x < 0
    magnitude = np.where(negative, ~x, x)  # one's complement: -1 -> 0
    segment = np.searchsorted(_ALAW_SEG_END, magnitude)
    shift = np.maximum(segment, 1)
    code = (segment << 4) | ((magnitude >> shift) & 0x0F)
    return (code ^ np.where(negative, 0x55, 0xD5)).astype(np.uint8)


ULAW_DECODE: Int16Array = _ulaw_decode_table()
ALAW_DECODE: Int16Array = _alaw_decode_table()
ULAW_ENCODE: Uint8Array = _ulaw_encode_table()  # indexed by int16 sample viewed as uint16
ALAW_ENCODE: Uint8Array = _alaw_encode_table()
for _table in (ULAW_DECODE, ALAW_DECODE, ULAW_ENCODE, ALAW_ENCODE):
    _table.flags.writeable = False

ULAW_TO_ALAW: bytes = ALAW_ENCODE[ULAW_DECODE.view(np.uint16)].tobytes()
ALAW_TO_ULAW: bytes = ULAW_ENCODE[ALAW_DECODE.view(np.uint16)].tobytes()


def as_int16(pcm: npt.ArrayLike) -> Int16Array:
    """``pcm`` as int16: integer samples are clipped, anything else is refused."""
    a: npt.NDArray[np.generic] = np.asarray(pcm)
    if a.dtype == np.int16:
        return a.astype(np.int16, copy=False)
    if a.dtype.kind in "iu":
        clipped: Int16Array = np.clip(a, -32768, 32767).astype(np.int16)
        return clipped
    raise MediaError(f"G.711 encodes int16 PCM, not {a.dtype} "
                     "(media.audio.float_to_int16 converts float PCM)")


def ulaw_decode(data: bytes) -> Int16Array:
    """PCMU payload -> int16 PCM (one sample per byte)."""
    return ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def alaw_decode(data: bytes) -> Int16Array:
    """PCMA payload -> int16 PCM (one sample per byte)."""
    return ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def ulaw_encode(pcm: npt.ArrayLike) -> bytes:
    """int16 PCM -> PCMU payload; wider integer samples are clipped to int16."""
    return ULAW_ENCODE[as_int16(pcm).view(np.uint16)].tobytes()


def alaw_encode(pcm: npt.ArrayLike) -> bytes:
    """int16 PCM -> PCMA payload; wider integer samples are clipped to int16."""
    return ALAW_ENCODE[as_int16(pcm).view(np.uint16)].tobytes()


def ulaw_to_alaw(data: bytes) -> bytes:
    """Transcode a PCMU payload to PCMA (one ``bytes.translate``)."""
    return data.translate(ULAW_TO_ALAW)


def alaw_to_ulaw(data: bytes) -> bytes:
    """Transcode a PCMA payload to PCMU (one ``bytes.translate``)."""
    return data.translate(ALAW_TO_ULAW)
