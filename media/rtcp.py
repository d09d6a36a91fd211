"""RTCP packets (RFC 3550 §6.4 SR/RR, §6.5 SDES, §6.6 BYE) and compound
packets validated as in Appendix A.2.

Each packet type has ``parse`` (one whole packet, header included) and
``__bytes__``; :func:`parse_compound` splits and checks a datagram,
:func:`build_compound` joins packets. Other types (APP, RTPFB, PSFB, XR)
travel as :class:`RtcpOther` so a compound packet that carries them still
parses. The NTP helpers compute LSR and DLSR (§6.4.1) and the round-trip time.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from media.errors import InvalidPacket, MediaError

SR, RR, SDES, BYE = 200, 201, 202, 203
CNAME = 1  # SDES item types (§6.5): CNAME=1, NAME=2 ... PRIV=8
MAX_COUNT = 31  # a 5-bit count field

_HEADER = struct.Struct("!BBH")
_SENDER_INFO = struct.Struct("!IQIII")
_BLOCK = struct.Struct("!IIIIII")
_WORD = struct.Struct("!I")
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


def _pack(fmt: struct.Struct | str, *values: int) -> bytes:
    """Pack fields; one out of its range is a MediaError, not a struct.error."""
    try:
        return fmt.pack(*values) if isinstance(fmt, struct.Struct) else struct.pack(fmt, *values)
    except struct.error as exc:
        raise MediaError(f"RTCP field out of range: {exc}") from exc


def _header(count: int, packet_type: int, body_length: int) -> bytes:
    if count > MAX_COUNT:
        raise MediaError(f"RTCP count {count} exceeds {MAX_COUNT}")
    if body_length % 4:
        raise MediaError("RTCP packet body must be a multiple of 32 bits")
    return _pack(_HEADER, 0x80 | count, packet_type, body_length // 4)


def _split(data: bytes, expected_type: int) -> tuple[int, bytes]:
    """``(count, body)`` of one whole packet, padding removed."""
    n = len(data)
    if n < 4 or n % 4:
        raise InvalidPacket(f"RTCP packet of {n} octets")
    b0, packet_type, words = _HEADER.unpack_from(data)
    if b0 >> 6 != 2:
        raise InvalidPacket(f"RTCP version {b0 >> 6}, expected 2")
    if packet_type != expected_type:
        raise InvalidPacket(f"RTCP packet type {packet_type}, expected {expected_type}")
    if 4 * (words + 1) != n:
        raise InvalidPacket(f"RTCP length field {words} does not match {n} octets")
    end = n
    if b0 & 0x20:
        pad = data[-1]
        if pad == 0 or pad > n - 4:
            raise InvalidPacket(f"RTCP padding count {pad} is invalid")
        end -= pad
    return b0 & 0x1F, bytes(data[4:end])


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """Reception statistics about one source (§6.4.1)."""

    ssrc: int
    fraction_lost: int  # 8-bit fixed point, lost/expected * 256
    cumulative_lost: int  # signed 24 bits: duplicates can make it negative
    highest_sequence: int  # extended: cycles << 16 | highest sequence number
    jitter: int  # interarrival jitter in timestamp units
    lsr: int = 0  # middle 32 bits of the last SR's NTP timestamp, 0 if none
    dlsr: int = 0  # 1/65536 s since that SR arrived

    SIZE = 24

    @classmethod
    def parse(cls, data: bytes) -> ReportBlock:
        if len(data) != cls.SIZE:
            raise InvalidPacket(f"report block of {len(data)} octets, expected 24")
        ssrc, loss, highest, jitter, lsr, dlsr = _BLOCK.unpack(data)
        lost = loss & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        return cls(ssrc, loss >> 24, lost, highest, jitter, lsr, dlsr)

    def __bytes__(self) -> bytes:
        if not 0 <= self.fraction_lost <= 0xFF:
            raise MediaError(f"fraction lost {self.fraction_lost} out of 0..255")
        if not -0x800000 <= self.cumulative_lost <= 0x7FFFFF:
            raise MediaError(f"cumulative lost {self.cumulative_lost} outside 24 bits")
        loss = self.fraction_lost << 24 | (self.cumulative_lost & 0xFFFFFF)
        return _pack(_BLOCK, self.ssrc, loss, self.highest_sequence, self.jitter,
                           self.lsr, self.dlsr)


def _parse_blocks(body: bytes, offset: int, count: int) -> tuple[tuple[ReportBlock, ...], bytes]:
    end = offset + count * ReportBlock.SIZE
    if end > len(body):
        raise InvalidPacket(f"RTCP report count {count} exceeds the packet")
    blocks = tuple(ReportBlock.parse(body[i:i + ReportBlock.SIZE])
                   for i in range(offset, end, ReportBlock.SIZE))
    return blocks, body[end:]


@dataclass(frozen=True, slots=True)
class SenderReport:
    """SR (§6.4.1): a sender's NTP/RTP time pair and counts, plus reports.
    ``extension`` is the profile-specific tail, a multiple of 32 bits."""

    ssrc: int
    ntp_timestamp: int  # 64-bit NTP time, seconds since 1900 in 32.32 fixed point
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> SenderReport:
        count, body = _split(data, SR)
        if len(body) < 24:
            raise InvalidPacket("SR shorter than its sender information")
        ssrc, ntp, rtp_ts, packets, octets = _SENDER_INFO.unpack_from(body)
        reports, extension = _parse_blocks(body, 24, count)
        return cls(ssrc, ntp, rtp_ts, packets, octets, reports, extension)

    def __bytes__(self) -> bytes:
        info = _pack(_SENDER_INFO, self.ssrc, self.ntp_timestamp, self.rtp_timestamp,
                                 self.packet_count, self.octet_count)
        body = b"".join((info, *map(bytes, self.reports), self.extension))
        return _header(len(self.reports), SR, len(body)) + body


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """RR (§6.4.2): reception reports from a participant that is not sending."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> ReceiverReport:
        count, body = _split(data, RR)
        if len(body) < 4:
            raise InvalidPacket("RR without the sender's SSRC")
        reports, extension = _parse_blocks(body, 4, count)
        return cls(_WORD.unpack_from(body)[0], reports, extension)

    def __bytes__(self) -> bytes:
        body = b"".join((_pack(_WORD, self.ssrc), *map(bytes, self.reports), self.extension))
        return _header(len(self.reports), RR, len(body)) + body


@dataclass(frozen=True, slots=True)
class SdesChunk:
    """The items describing one SSRC/CSRC: ``(type, value)`` pairs."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...] = ()

    @property
    def cname(self) -> str | None:
        for kind, value in self.items:
            if kind == CNAME:
                return value.decode("utf-8", "replace")
        return None

    def __bytes__(self) -> bytes:
        out = bytearray(_pack(_WORD, self.ssrc))
        for kind, value in self.items:
            if not 1 <= kind <= 0xFF or len(value) > 0xFF:
                raise MediaError(f"SDES item type {kind} or length {len(value)} invalid")
            out += bytes((kind, len(value))) + value
        out += bytes(4 - len(out) % 4)  # one null ends the list, more pad to 32 bits
        return bytes(out)


def _parse_chunk(body: bytes, pos: int) -> tuple[SdesChunk, int]:
    if pos + 4 > len(body):
        raise InvalidPacket("SDES chunk truncated")
    ssrc = _WORD.unpack_from(body, pos)[0]
    pos += 4
    items: list[tuple[int, bytes]] = []
    while True:
        if pos >= len(body):
            raise InvalidPacket("SDES item list not terminated")
        kind = body[pos]
        if kind == 0:
            return SdesChunk(ssrc, tuple(items)), (pos + 4) & ~3
        if pos + 2 > len(body) or pos + 2 + body[pos + 1] > len(body):
            raise InvalidPacket("SDES item exceeds the packet")
        length = body[pos + 1]
        items.append((kind, body[pos + 2:pos + 2 + length]))
        pos += 2 + length


@dataclass(frozen=True, slots=True)
class SourceDescription:
    """SDES (§6.5): chunks of items; every compound packet carries a CNAME."""

    chunks: tuple[SdesChunk, ...]

    @classmethod
    def cname(cls, ssrc: int, cname: str) -> SourceDescription:
        return cls((SdesChunk(ssrc, ((CNAME, cname.encode()),)),))

    @classmethod
    def parse(cls, data: bytes) -> SourceDescription:
        count, body = _split(data, SDES)
        chunks: list[SdesChunk] = []
        pos = 0
        for _ in range(count):
            chunk, pos = _parse_chunk(body, pos)
            chunks.append(chunk)
        if pos != len(body):
            raise InvalidPacket("SDES source count does not match its chunks")
        return cls(tuple(chunks))

    def __bytes__(self) -> bytes:
        body = b"".join(map(bytes, self.chunks))
        return _header(len(self.chunks), SDES, len(body)) + body


@dataclass(frozen=True, slots=True)
class Bye:
    """BYE (§6.6): the sources leave, with an optional reason."""

    sources: tuple[int, ...]
    reason: str = ""

    @classmethod
    def parse(cls, data: bytes) -> Bye:
        count, body = _split(data, BYE)
        end = 4 * count
        if end > len(body):
            raise InvalidPacket(f"BYE source count {count} exceeds the packet")
        sources = struct.unpack_from(f"!{count}I", body)
        reason = ""
        if end < len(body):
            length = body[end]
            if end + 1 + length > len(body):
                raise InvalidPacket("BYE reason exceeds the packet")
            try:
                reason = body[end + 1:end + 1 + length].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidPacket("BYE reason is not UTF-8") from exc
        return cls(sources, reason)

    def __bytes__(self) -> bytes:
        body = _pack(f"!{len(self.sources)}I", *self.sources)
        if self.reason:
            text = self.reason.encode()
            if len(text) > 0xFF:
                raise MediaError("BYE reason longer than 255 octets")
            body += bytes((len(text),)) + text
            body += bytes(-len(body) % 4)
        return _header(len(self.sources), BYE, len(body)) + body


@dataclass(frozen=True, slots=True)
class RtcpOther:
    """A packet type this module does not interpret (APP, RTPFB, PSFB, XR...)."""

    packet_type: int
    count: int  # the 5-bit field after V and P (subtype, FMT or count)
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> RtcpOther:
        packet_type = data[1] if len(data) > 1 else -1
        count, body = _split(data, packet_type)
        return cls(packet_type, count, body)

    def __bytes__(self) -> bytes:
        return _header(self.count, self.packet_type, len(self.body)) + self.body


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | RtcpOther

_PARSERS: dict[int, Callable[[bytes], RtcpPacket]] = {
    SR: SenderReport.parse, RR: ReceiverReport.parse,
    SDES: SourceDescription.parse, BYE: Bye.parse,
}


def parse_compound(data: bytes, *, reduced_size: bool = False) -> list[RtcpPacket]:
    """Split and validate a compound RTCP packet (RFC 3550 A.2).

    Every packet is version 2, the length fields add up to the datagram,
    only the last packet may be padded, and the first is an SR or RR
    (unless ``reduced_size``, RFC 5506).
    """
    n = len(data)
    if n < 4 or n % 4:
        raise InvalidPacket(f"compound RTCP packet of {n} octets")
    packets: list[RtcpPacket] = []
    pos = 0
    while pos < n:
        b0, packet_type, words = _HEADER.unpack_from(data, pos)
        end = pos + 4 * (words + 1)
        if end > n:
            raise InvalidPacket("RTCP length field runs past the datagram")
        if b0 & 0x20 and end != n:
            raise InvalidPacket("RTCP padding before the last packet")
        packets.append(_PARSERS.get(packet_type, RtcpOther.parse)(data[pos:end]))
        pos = end
    if not reduced_size and not isinstance(packets[0], SenderReport | ReceiverReport):
        raise InvalidPacket("compound RTCP packet does not start with SR or RR")
    return packets


def build_compound(packets: Iterable[RtcpPacket], *, reduced_size: bool = False) -> bytes:
    """Join packets into one datagram; the first must be an SR or RR (§6.1)."""
    items = list(packets)
    if not items:
        raise MediaError("an RTCP compound packet needs at least one packet")
    if not reduced_size and not isinstance(items[0], SenderReport | ReceiverReport):
        raise MediaError("a compound RTCP packet starts with an SR or RR")
    return b"".join(map(bytes, items))


# -- NTP time, LSR and DLSR (§4, §6.4.1) -------------------------------------------


def ntp_timestamp(unix_time: float) -> int:
    """64-bit NTP timestamp (32.32 fixed point since 1900) of a Unix time."""
    return int((unix_time + NTP_EPOCH_OFFSET) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


def compute_lsr(ntp: int) -> int:
    """The LSR field for an SR with NTP timestamp ``ntp``: its middle 32 bits."""
    return (ntp >> 16) & 0xFFFFFFFF


def compute_dlsr(received_at: float, now: float) -> int:
    """The DLSR field: seconds since the SR arrived, in units of 1/65536."""
    return min(max(round((now - received_at) * 65536), 0), 0xFFFFFFFF)


def round_trip_time(block: ReportBlock, arrival_ntp: int) -> float | None:
    """Seconds of round trip from a report block about our stream that
    arrived at NTP time ``arrival_ntp`` (§6.4.1: A - LSR - DLSR).
    ``None`` when the reporter has not received an SR from us yet."""
    if block.lsr == 0:
        return None
    units = (compute_lsr(arrival_ntp) - block.lsr - block.dlsr) & 0xFFFFFFFF
    return 0.0 if units >= 0x80000000 else units / 65536
