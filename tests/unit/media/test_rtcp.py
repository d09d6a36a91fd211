"""RTCP packets and compound validation (RFC 3550 §6.4-6.6, A.2)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.errors import InvalidPacket, MediaError
from media.rtcp import (
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpOther,
    SdesChunk,
    SenderReport,
    SourceDescription,
    build_compound,
    compute_dlsr,
    compute_lsr,
    ntp_timestamp,
    parse_compound,
    round_trip_time,
)

U32 = st.integers(0, 2**32 - 1)
blocks = st.builds(ReportBlock, U32, st.integers(0, 255), st.integers(-0x800000, 0x7FFFFF),
                   U32, U32, U32, U32)
block_lists = st.lists(blocks, max_size=31).map(tuple)
words = st.binary(max_size=16).map(lambda b: b[:len(b) // 4 * 4])
senders = st.builds(SenderReport, U32, st.integers(0, 2**64 - 1), U32, U32, U32,
                    block_lists, words)
receivers = st.builds(ReceiverReport, U32, block_lists, words)
items = st.tuples(st.integers(1, 255), st.binary(max_size=255))
sdes = st.builds(SourceDescription, st.lists(
    st.builds(SdesChunk, U32, st.lists(items, max_size=4).map(tuple)), max_size=5).map(tuple))
byes = st.builds(Bye, st.lists(U32, max_size=31).map(tuple),
                 st.text(max_size=60).filter(lambda t: len(t.encode()) <= 255))
others = st.builds(RtcpOther, st.sampled_from([204, 205, 206, 207]), st.integers(0, 31), words)
any_packet = senders | receivers | sdes | byes | others


@given(any_packet)
def test_every_packet_round_trips(packet: object) -> None:
    data = bytes(packet)  # type: ignore[call-overload]
    assert len(data) % 4 == 0
    assert type(packet).parse(data) == packet  # type: ignore[attr-defined]


@given(senders | receivers, st.lists(sdes | byes | others, max_size=4))
def test_compound_round_trips(first: SenderReport | ReceiverReport, rest: list[object]) -> None:
    packets = [first, *rest]
    assert parse_compound(build_compound(packets)) == packets  # type: ignore[arg-type]


def test_sender_report_layout() -> None:
    block = ReportBlock(0x01020304, 64, -3, 0x0001FFFF, 42, 0xAABBCCDD, 65536)
    sr = SenderReport(0xCAFE, 0x1122334455667788, 8000, 50, 8000, (block,))
    data = bytes(sr)
    assert data[:4] == bytes([0x81, 200, 0, 12])
    assert struct.unpack_from("!IQIII", data, 4) == (0xCAFE, 0x1122334455667788, 8000, 50, 8000)
    assert data[28:32] == b"\x01\x02\x03\x04"
    assert data[32:36] == bytes([64, 0xFF, 0xFF, 0xFD])  # fraction, -3 in 24 bits
    assert ReportBlock.parse(data[28:52]).cumulative_lost == -3


def test_cname_and_bye_layout() -> None:
    data = bytes(SourceDescription.cname(0x11223344, "ab@host"))
    # header, SSRC, item (1, 7, "ab@host"), one null: 4 + 4 + 9 + 1 = 18 -> 20
    assert data == bytes([0x81, 202, 0, 4]) + bytes.fromhex("11223344") \
        + bytes([1, 7]) + b"ab@host" + b"\x00" * 3
    assert SourceDescription.parse(data).chunks[0].cname == "ab@host"
    assert bytes(Bye((7,), "bye")) == bytes([0x81, 203, 0, 2, 0, 0, 0, 7, 3]) + b"bye"
    assert bytes(Bye((7, 8))) == bytes([0x82, 203, 0, 2, 0, 0, 0, 7, 0, 0, 0, 8])


def test_sdes_chunk_without_cname_and_empty_chunk() -> None:
    chunk = SdesChunk(5, ((2, b"Alice"),))
    assert chunk.cname is None
    empty = SdesChunk(6)
    assert bytes(empty) == b"\x00\x00\x00\x06\x00\x00\x00\x00"
    assert SourceDescription.parse(bytes(SourceDescription((chunk, empty)))).chunks == (
        chunk, empty)


def test_padding_in_the_last_packet_is_accepted_and_stripped() -> None:
    rr = bytes(ReceiverReport(1))
    bye = bytes(Bye((1,)))
    padded = bytes([bye[0] | 0x20, bye[1], 0, 2]) + bye[4:] + b"\x00\x00\x00\x04"
    assert parse_compound(rr + padded) == [ReceiverReport(1), Bye((1,))]


def _with_header(first: int, pt: int, body: bytes, words: int | None = None) -> bytes:
    return bytes([first, pt]) + struct.pack("!H", len(body) // 4 if words is None else words) \
        + body


RR = bytes(ReceiverReport(1))
SDES_PACKET = bytes(SourceDescription.cname(1, "x"))


@pytest.mark.parametrize(("data", "why"), [
    (b"", "empty"),
    (RR[:6], "not a multiple of 32 bits"),
    (SDES_PACKET, "does not start with SR or RR"),
    (bytes([0x40 | (RR[0] & 0x3F)]) + RR[1:], "version 1"),
    (RR + bytes([0x40]) + SDES_PACKET[1:], "version 1 in a later packet"),
    (_with_header(0x80, 201, b"\x00" * 4, words=5), "length runs past the datagram"),
    (RR + SDES_PACKET[:4], "second packet's length runs past the datagram"),
    (bytes([RR[0] | 0x20]) + RR[1:] + SDES_PACKET, "padding in the first of two"),
    (_with_header(0xA0, 201, b"\x00\x00\x00\x01" + b"\x00\x00\x00\x00"), "padding count 0"),
    (_with_header(0xA0, 201, b"\x00\x00\x00\x01" + b"\x00\x00\x00\x09"), "padding too long"),
    (_with_header(0x81, 201, b"\x00" * 4), "RR announces a block it lacks"),
    (_with_header(0x80, 201, b""), "RR without SSRC"),
    (_with_header(0x80, 200, b"\x00" * 20), "SR shorter than sender info"),
    (_with_header(0x81, 200, b"\x00" * 24), "SR announces a block it lacks"),
    (RR + _with_header(0x82, 202, b"\x00\x00\x00\x01\x01\x01x\x00"), "SDES count 2, 1 chunk"),
    (RR + _with_header(0x81, 202, b"\x00\x00\x00\x01\x01\x09xy"), "SDES item too long"),
    (RR + _with_header(0x81, 202, b"\x00\x00\x00\x01\x01\x02xy"), "SDES unterminated"),
    (RR + _with_header(0x80, 202, b"\x00\x00\x00\x01\x00\x00\x00\x00"), "SDES chunk extra"),
    (RR + _with_header(0x82, 203, b"\x00\x00\x00\x01"), "BYE count beyond the packet"),
    (RR + _with_header(0x81, 203, b"\x00\x00\x00\x01\x09ab\x00"), "BYE reason too long"),
    (RR + _with_header(0x81, 203, b"\x00\x00\x00\x01\x02\xff\xfe\x00"), "BYE reason not UTF-8"),
])
def test_malformed_compounds_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(InvalidPacket):
        parse_compound(data)


def test_single_packet_parsers_check_type_and_length() -> None:
    with pytest.raises(InvalidPacket):
        SenderReport.parse(RR)
    with pytest.raises(InvalidPacket):
        ReceiverReport.parse(RR + b"\x00" * 4)  # length field says less
    with pytest.raises(InvalidPacket):
        ReportBlock.parse(b"\x00" * 23)
    with pytest.raises(InvalidPacket):
        RtcpOther.parse(b"\x80")


def test_reduced_size_rtcp_may_start_with_any_packet() -> None:
    assert parse_compound(SDES_PACKET, reduced_size=True) == [SourceDescription.cname(1, "x")]
    assert build_compound([Bye((1,))], reduced_size=True) == bytes(Bye((1,)))


@pytest.mark.parametrize("packets", [[], [Bye((1,))], [SourceDescription.cname(1, "x")]])
def test_build_compound_insists_on_a_report_first(packets: list[Bye]) -> None:
    with pytest.raises(MediaError):
        build_compound(packets)


@pytest.mark.parametrize("packet", [
    ReportBlock(1, 256, 0, 0, 0), ReportBlock(1, 0, 0x800000, 0, 0),
    ReportBlock(1, 0, -0x800001, 0, 0),
    ReceiverReport(1, (ReportBlock(1, 0, 0, 0, 0),) * 32),
    ReceiverReport(1, extension=b"abc"),
    SourceDescription((SdesChunk(1, ((0, b"x"),)),)),
    SourceDescription((SdesChunk(1, ((1, b"x" * 256),)),)),
    Bye((1,), "x" * 256),
    Bye((2**32,)),
    ReportBlock(-1, 0, 0, 0, 0),
    SenderReport(1, 2**64, 0, 0, 0),
    ReceiverReport(2**32),
    SourceDescription((SdesChunk(2**32),)),
    RtcpOther(256, 0, b""),
    RtcpOther(205, 32, b""),
])
def test_unrepresentable_values_do_not_serialise(packet: object) -> None:
    with pytest.raises(MediaError):
        bytes(packet)  # type: ignore[call-overload]


def test_ntp_lsr_dlsr_and_round_trip() -> None:
    assert ntp_timestamp(0.0) == 2_208_988_800 << 32
    assert ntp_timestamp(1.5) == ((2_208_988_800 + 1) << 32) | (1 << 31)
    sr_ntp = ntp_timestamp(1_700_000_000.25)
    lsr = compute_lsr(sr_ntp)
    assert lsr == ((sr_ntp >> 16) & 0xFFFFFFFF)
    assert compute_dlsr(10.0, 10.5) == 32768
    assert compute_dlsr(10.0, 9.0) == 0
    # We sent the SR at T, the peer held it 0.5 s, the report reached us at T + 0.62.
    block = ReportBlock(1, 0, 0, 0, 0, lsr, compute_dlsr(0.0, 0.5))
    rtt = round_trip_time(block, ntp_timestamp(1_700_000_000.25 + 0.62))
    assert rtt == pytest.approx(0.12, abs=1e-4)
    assert round_trip_time(ReportBlock(1, 0, 0, 0, 0), sr_ntp) is None
