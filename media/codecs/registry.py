"""Codec facts in one place: SDP encoding names, static payload types (RFC 3551 §6
Table 4), clock rates, 20 ms frame sizes, silence, and the RFC 4733 telephone-event
format.

The SDP code and the engine look codecs up here by encoding name (case-insensitive,
RFC 4566 §6 ``a=rtpmap``) or by static payload type, and transcode through
:func:`transcode_table`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

import numpy as np

from media.codecs import g711
from media.codecs.g711 import Int16Array, Uint8Array
from media.errors import MediaError

PTIME_MS = 20  # packetisation of every frame the switch makes


class UnknownCodec(MediaError):
    """A codec name or payload type the media engine does not speak."""


class Codec(Protocol):
    """An audio codec: what SDP calls it, how RTP carries it, how to code a frame."""

    @property
    def name(self) -> str:
        """Encoding name in SDP ``a=rtpmap`` (e.g. ``PCMU``)."""

    @property
    def payload_type(self) -> int | None:
        """Static RTP payload type, or None if it is always negotiated."""

    @property
    def clock_rate(self) -> int:
        """RTP timestamp units per second."""

    @property
    def frame_samples(self) -> int:
        """Samples (and timestamp units) in one 20 ms frame."""

    @property
    def silence_frame(self) -> bytes:
        """The payload of 20 ms of silence."""

    def encode(self, pcm: Int16Array) -> bytes:
        """int16 PCM at ``clock_rate`` -> payload."""

    def decode(self, data: bytes) -> Int16Array:
        """Payload -> int16 PCM at ``clock_rate``."""


@dataclass(frozen=True, slots=True, eq=False)
class G711Codec:
    """PCMU or PCMA (ITU-T G.711): one byte per sample at 8 kHz, coded by table."""

    name: str
    payload_type: int
    silence_byte: int
    decode_table: Int16Array  # 256 entries: code -> sample
    encode_table: Uint8Array  # 65536 entries: int16 sample viewed as uint16 -> code
    clock_rate: int = 8000

    @property
    def frame_samples(self) -> int:
        return self.clock_rate * PTIME_MS // 1000

    @property
    def silence_frame(self) -> bytes:
        return bytes([self.silence_byte]) * self.frame_samples

    def encode(self, pcm: Int16Array) -> bytes:
        return bytes(self.encode_table[g711.as_int16(pcm).view(np.uint16)].tobytes())

    def decode(self, data: bytes) -> Int16Array:
        return self.decode_table[np.frombuffer(data, dtype=np.uint8)]

    def __repr__(self) -> str:
        return f"G711Codec({self.name!r}, payload_type={self.payload_type})"


@dataclass(frozen=True, slots=True)
class EventFormat:
    """The RFC 4733 telephone-event format: always a dynamic payload type."""

    name: str = "telephone-event"
    clock_rate: int = 8000
    default_payload_type: int = 101  # what the switch offers; peers choose their own
    fmtp: str = "0-16"  # DTMF 0-9 * # A-D and flash (RFC 4733 §3.2, §7.1.1)


PCMU = G711Codec("PCMU", 0, g711.ULAW_SILENCE, g711.ULAW_DECODE, g711.ULAW_ENCODE)
PCMA = G711Codec("PCMA", 8, g711.ALAW_SILENCE, g711.ALAW_DECODE, g711.ALAW_ENCODE)
TELEPHONE_EVENT = EventFormat()

CODECS: Mapping[str, Codec] = MappingProxyType({"PCMU": PCMU, "PCMA": PCMA})
BY_PAYLOAD_TYPE: Mapping[int, Codec] = MappingProxyType(
    {c.payload_type: c for c in CODECS.values() if c.payload_type is not None})
_TRANSCODE: Mapping[tuple[str, str], bytes] = MappingProxyType({
    ("PCMU", "PCMA"): g711.ULAW_TO_ALAW,
    ("PCMA", "PCMU"): g711.ALAW_TO_ULAW,
})


def by_name(name: str) -> Codec:
    """The codec SDP calls ``name`` (case-insensitive, as RFC 4566 encoding names are)."""
    found = CODECS.get(name.upper())
    if found is None:
        raise UnknownCodec(f"no codec called {name!r}")
    return found


def by_payload_type(payload_type: int) -> Codec:
    """The codec with static RTP payload type ``payload_type``."""
    found = BY_PAYLOAD_TYPE.get(payload_type)
    if found is None:
        raise UnknownCodec(f"no codec with static payload type {payload_type}")
    return found


def transcode_table(source: str, target: str) -> bytes | None:
    """The ``bytes.translate`` table from codec ``source`` to ``target``; None
    when they are the same codec (nothing to do)."""
    src, dst = by_name(source).name, by_name(target).name
    if src == dst:
        return None
    table = _TRANSCODE.get((src, dst))
    if table is None:
        raise UnknownCodec(f"no transcoding from {src} to {dst}")
    return table
