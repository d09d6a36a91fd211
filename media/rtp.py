"""RTP data packets (RFC 3550 §5.1 fixed header, §5.3.1 header extension).

Two ways in: :class:`RtpPacket` is the full value (``parse``/``__bytes__``)
for code that builds or inspects packets; the relay path (HOT, ~100k
packets/s per core) works on raw bytes with :func:`peek`,
:func:`rewrite_header`, :func:`payload_of` and :func:`is_rtcp` (RFC 5761 §4
demultiplexing) and creates no objects per packet.

:class:`OutgoingStream` keeps what the switch sends to one leg a single RTP
stream (§5.1: one SSRC, sequence numbers +1 per packet, timestamps that keep
advancing) while its source changes between the far phone, a prompt and the
far phone again, or the far phone's SSRC changes after a transfer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from media.errors import InvalidPacket, MediaError

VERSION = 2
SEQ_MOD = 1 << 16
TS_MOD = 1 << 32
_SEQ_MASK = SEQ_MOD - 1
_TS_MASK = TS_MOD - 1

_FIXED = struct.Struct("!BBHII")
_PEEK = struct.Struct("!xBHII")
_EXT_HEADER = struct.Struct("!HH")
_pack_fixed = _FIXED.pack
_unpack_peek = _PEEK.unpack_from


# -- wrap-around arithmetic ---------------------------------------------------


def seq_diff(a: int, b: int) -> int:
    """``a - b`` for 16-bit sequence numbers, in [-32768, 32767]."""
    return ((a - b + 0x8000) & _SEQ_MASK) - 0x8000


def ts_diff(a: int, b: int) -> int:
    """``a - b`` for 32-bit timestamps, in [-2**31, 2**31 - 1]."""
    return ((a - b + 0x80000000) & _TS_MASK) - 0x80000000


# -- HOT helpers on raw bytes ----------------------------------------------------


def peek(data: bytes) -> tuple[int, int, int, int] | None:
    """``(payload type, sequence, timestamp, ssrc)`` of an RTP v2 packet.

    ``None`` when ``data`` is shorter than the fixed header or not version 2.
    Only the fixed header is looked at (use :func:`header_length` to check
    the rest).
    """
    if len(data) < 12 or data[0] & 0xC0 != 0x80:
        return None
    b1, seq, ts, ssrc = _unpack_peek(data)
    return b1 & 0x7F, seq, ts, ssrc


def rewrite_header(data: bytes, pt: int, seq: int, ts: int, ssrc: int,
                   marker: bool | None = None) -> bytes:
    """``data`` with a new payload type, sequence, timestamp and SSRC.

    The first octet (version, padding, extension, CSRC count) and everything
    after the 12-octet fixed header are kept, and so is the marker bit unless
    ``marker`` says otherwise. ``data`` must have passed :func:`peek`.
    """
    m = data[1] & 0x80 if marker is None else (0x80 if marker else 0)
    return _pack_fixed(data[0], m | pt, seq, ts, ssrc) + data[12:]


def is_rtcp(data: bytes) -> bool:
    """Whether a datagram on an rtcp-mux port is RTCP (RFC 5761 §4).

    The second octet of RTCP is its packet type; seen as RTP it is the marker
    bit plus payload type, and RTCP types 192-223 are RTP payload types 64-95
    with the marker set, which RFC 5761 keeps out of muxed sessions.
    """
    return len(data) >= 8 and data[0] & 0xC0 == 0x80 and 192 <= data[1] <= 223


def header_length(data: bytes) -> int:
    """Octets before the payload: fixed header, CSRC list and extension."""
    n = len(data)
    if n < 12 or data[0] & 0xC0 != 0x80:
        raise InvalidPacket("not an RTP version 2 packet")
    length = 12 + (data[0] & 0x0F) * 4
    if data[0] & 0x10:
        if n < length + 4:
            raise InvalidPacket("RTP header extension truncated")
        length += 4 + ((data[length + 2] << 8) | data[length + 3]) * 4
    if length > n:
        raise InvalidPacket("RTP header longer than the packet")
    return length


def payload_of(data: bytes) -> bytes:
    """The payload of an RTP packet, without header and padding."""
    start = header_length(data)
    end = len(data)
    if data[0] & 0x20:
        pad = data[-1]
        if pad == 0 or start + pad > end:
            raise InvalidPacket("bad RTP padding count")
        end -= pad
    return data[start:end]


# -- the packet as a value -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RtpExtension:
    """A header extension (§5.3.1): 16 profile-defined bits and 32-bit words."""

    profile: int
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP data packet. ``padding`` is the number of padding octets
    (0: the P bit is clear); serialised padding is zeros plus the count."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: RtpExtension | None = None
    padding: int = 0
    version: int = field(default=VERSION, init=False)

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one packet; :class:`InvalidPacket` on anything malformed."""
        n = len(data)
        if n < 12:
            raise InvalidPacket(f"RTP packet of {n} octets, the fixed header is 12")
        b0, b1, seq, ts, ssrc = _FIXED.unpack_from(data)
        if b0 >> 6 != VERSION:
            raise InvalidPacket(f"RTP version {b0 >> 6}, expected 2")
        count = b0 & 0x0F
        pos = 12 + 4 * count
        if pos > n:
            raise InvalidPacket(f"RTP CSRC count {count} exceeds the packet")
        csrc = struct.unpack_from(f"!{count}I", data, 12) if count else ()
        extension = None
        if b0 & 0x10:
            extension, pos = _parse_extension(data, pos)
        padding, end = 0, n
        if b0 & 0x20:
            padding = data[-1]
            if padding == 0 or pos + padding > n:
                raise InvalidPacket(f"RTP padding count {padding} is invalid")
            end = n - padding
        return cls(b1 & 0x7F, seq, ts, ssrc, bytes(data[pos:end]), bool(b1 & 0x80),
                   csrc, extension, padding)

    def __bytes__(self) -> bytes:
        self._check()
        b0 = 0x80 | len(self.csrc)
        parts = [b""]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if self.extension is not None:
            b0 |= 0x10
            ext = self.extension
            parts.append(_EXT_HEADER.pack(ext.profile, len(ext.data) // 4) + ext.data)
        parts.append(self.payload)
        if self.padding:
            b0 |= 0x20
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        parts[0] = _pack_fixed(b0, (0x80 if self.marker else 0) | self.payload_type,
                               self.sequence, self.timestamp, self.ssrc)
        return b"".join(parts)

    def _check(self) -> None:
        limits = ((self.payload_type, 0x7F, "payload type"),
                  (self.sequence, _SEQ_MASK, "sequence"),
                  (self.timestamp, _TS_MASK, "timestamp"), (self.ssrc, _TS_MASK, "SSRC"),
                  (self.padding, 0xFF, "padding"), (len(self.csrc), 15, "CSRC count"),
                  *((c, _TS_MASK, "CSRC") for c in self.csrc))
        for value, top, name in limits:
            if not 0 <= value <= top:
                raise MediaError(f"RTP {name} {value} out of range 0..{top}")
        ext = self.extension
        if ext is not None and (not 0 <= ext.profile <= 0xFFFF or len(ext.data) % 4
                                or len(ext.data) > 4 * 0xFFFF):
            raise MediaError("RTP header extension needs a 16-bit profile and 32-bit words")


def _parse_extension(data: bytes, pos: int) -> tuple[RtpExtension, int]:
    if pos + 4 > len(data):
        raise InvalidPacket("RTP header extension truncated")
    profile, words = _EXT_HEADER.unpack_from(data, pos)
    end = pos + 4 + 4 * words
    if end > len(data):
        raise InvalidPacket(f"RTP header extension of {words} words exceeds the packet")
    return RtpExtension(profile, bytes(data[pos + 4:end])), end


# -- one continuous outgoing stream ------------------------------------------------

MAX_DROPOUT = 3000  # RFC 3550 A.1: a larger forward jump is a new sequence
MAX_MISORDER = 100  # ... and so is a jump further back than this
DEFAULT_STEP = 160  # 20 ms at 8 kHz until the source shows its own packet time
MAX_STEP = 8000  # a timestamp step above 1 s at 8 kHz is a gap, not a packet time


class OutgoingStream:
    """Numbering of everything the switch sends to one leg (RFC 3550 §5.1).

    Relayed packets keep their source's spacing (loss, reordering and
    timestamp gaps of silence suppression stay visible to the receiver)
    through fixed offsets. When the source changes (another SSRC, locally
    made frames in between, or a sequence jump beyond A.1's
    MAX_DROPOUT/MAX_MISORDER) the offsets are re-based so the output goes on
    at the next sequence number and one packet time later, and
    :attr:`marker` is set: a new talk-spurt begins (RFC 3551 §4.1).
    """

    __slots__ = ("_in_pt", "_in_seq", "_in_ts", "_last_seq", "_last_ts", "_local",
                 "_seq_off", "_source", "_step", "_ts_off", "marker", "ssrc")

    def __init__(self, ssrc: int, seq_start: int, ts_start: int) -> None:
        self.ssrc = ssrc
        #: Whether the packet numbered last begins a talk-spurt (set its M bit).
        self.marker = False
        self._last_seq = (seq_start - 1) & _SEQ_MASK
        self._last_ts = (ts_start - DEFAULT_STEP) & _TS_MASK
        self._step = DEFAULT_STEP
        self._local = False
        self._source: int | None = None
        self._seq_off = self._ts_off = 0
        self._in_seq = self._in_ts = self._in_pt = 0

    @property
    def last_timestamp(self) -> int:
        """RTP timestamp of the packet numbered last (for an RTCP sender report)."""
        return self._last_ts

    def forward(self, pt: int, seq: int, ts: int, ssrc: int, marker: bool) -> tuple[int, int]:
        """Outgoing ``(sequence, timestamp)`` for a relayed packet."""
        if ssrc == self._source:
            d = seq_diff(seq, self._in_seq)
            if -MAX_MISORDER <= d <= MAX_DROPOUT:
                out_seq = (seq + self._seq_off) & _SEQ_MASK
                out_ts = (ts + self._ts_off) & _TS_MASK
                if d > 0:
                    self._advance(pt, seq, ts, d, out_seq, out_ts)
                self.marker = marker
                return out_seq, out_ts
        return self._rebase(pt, seq, ts, ssrc)

    def next_frame(self, samples: int) -> tuple[int, int]:
        """``(sequence, timestamp)`` for a locally made frame of ``samples``."""
        seq = (self._last_seq + 1) & _SEQ_MASK
        ts = (self._last_ts + self._step) & _TS_MASK
        self.marker = not self._local
        self._local = True
        self._source = None
        self._last_seq, self._last_ts, self._step = seq, ts, samples
        return seq, ts

    def _advance(self, pt: int, seq: int, ts: int, d: int, out_seq: int, out_ts: int) -> None:
        if d == 1 and pt == self._in_pt:
            step = ts_diff(ts, self._in_ts)
            if 0 < step <= MAX_STEP:
                self._step = step
        self._in_seq, self._in_ts, self._in_pt = seq, ts, pt
        self._last_seq, self._last_ts = out_seq, out_ts

    def _rebase(self, pt: int, seq: int, ts: int, ssrc: int) -> tuple[int, int]:
        out_seq = (self._last_seq + 1) & _SEQ_MASK
        out_ts = (self._last_ts + self._step) & _TS_MASK
        self._seq_off = (out_seq - seq) & _SEQ_MASK
        self._ts_off = (out_ts - ts) & _TS_MASK
        self._source, self._local = ssrc, False
        self._in_seq, self._in_ts, self._in_pt = seq, ts, pt
        self._last_seq, self._last_ts = out_seq, out_ts
        self.marker = True
        return out_seq, out_ts
