"""RTP packets, the raw-bytes relay helpers and OutgoingStream (RFC 3550 §5.1)."""

from __future__ import annotations

import struct
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.errors import InvalidPacket, MediaError
from media.rtp import (
    OutgoingStream,
    RtpExtension,
    RtpPacket,
    header_length,
    is_rtcp,
    payload_of,
    peek,
    rewrite_header,
    seq_diff,
    ts_diff,
)

U32 = st.integers(0, 2**32 - 1)
packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 65535),
    timestamp=U32,
    ssrc=U32,
    payload=st.binary(max_size=300),
    marker=st.booleans(),
    csrc=st.lists(U32, max_size=15).map(tuple),
    extension=st.none() | st.builds(RtpExtension, st.integers(0, 0xFFFF),
                                    st.binary(max_size=40).map(lambda b: b[:len(b) // 4 * 4])),
    padding=st.integers(0, 255),
)


def header(pt: int = 0, seq: int = 1, ts: int = 160, ssrc: int = 0x1234,
           first: int = 0x80, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq, ts, ssrc)


# -- the value ----------------------------------------------------------------


def test_parse_a_plain_pcmu_packet() -> None:
    data = header(pt=0, seq=7, ts=1600, ssrc=0xDEADBEEF) + b"\xff" * 160
    packet = RtpPacket.parse(data)
    assert packet == RtpPacket(0, 7, 1600, 0xDEADBEEF, b"\xff" * 160)
    assert packet.version == 2
    assert bytes(packet) == data


def test_parse_every_optional_part() -> None:
    data = (header(pt=96, first=0x80 | 0x20 | 0x10 | 2, marker=True)
            + struct.pack("!II", 11, 22) + struct.pack("!HH", 0xBEDE, 1) + b"ext!"
            + b"payload" + b"\x00\x00\x03")
    packet = RtpPacket.parse(data)
    assert packet.marker and packet.payload_type == 96
    assert packet.csrc == (11, 22)
    assert packet.extension == RtpExtension(0xBEDE, b"ext!")
    assert packet.payload == b"payload" and packet.padding == 3
    assert bytes(packet) == data


@given(packets)
def test_round_trip(packet: RtpPacket) -> None:
    assert RtpPacket.parse(bytes(packet)) == packet


@pytest.mark.parametrize(("data", "why"), [
    (b"", "empty"),
    (header()[:11], "shorter than the fixed header"),
    (header(first=0x40), "version 1"),
    (header(first=0x00), "version 0"),
    (header(first=0xC0), "version 3"),
    (header(first=0x83) + b"\x00" * 8, "three CSRCs announced, two present"),
    (header(first=0x90), "extension bit without extension header"),
    (header(first=0x90) + b"\xbe\xde", "half an extension header"),
    (header(first=0x90) + b"\xbe\xde\x00\x02" + b"1234", "extension longer than the packet"),
    (header(first=0xA0) + b"abc\x00", "padding count zero"),
    (header(first=0xA0) + b"ab\x05", "padding count beyond the payload"),
    (header(first=0xA0), "padding bit with no room for padding"),
])
def test_malformed_packets_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(InvalidPacket):
        RtpPacket.parse(data)


@pytest.mark.parametrize("packet", [
    RtpPacket(128, 0, 0, 0),
    RtpPacket(0, 65536, 0, 0),
    RtpPacket(0, 0, 2**32, 0),
    RtpPacket(0, 0, 0, -1),
    RtpPacket(0, 0, 0, 0, csrc=tuple(range(16))),
    RtpPacket(0, 0, 0, 0, csrc=(2**32,)),
    RtpPacket(0, 0, 0, 0, padding=256),
    RtpPacket(0, 0, 0, 0, extension=RtpExtension(0, b"abc")),
    RtpPacket(0, 0, 0, 0, extension=RtpExtension(0x10000, b"")),
])
def test_unrepresentable_values_do_not_serialise(packet: RtpPacket) -> None:
    with pytest.raises(MediaError):
        bytes(packet)


# -- the HOT helpers agree with the value -------------------------------------------


@given(packets)
def test_peek_and_payload_agree_with_parse(packet: RtpPacket) -> None:
    data = bytes(packet)
    assert peek(data) == (packet.payload_type, packet.sequence, packet.timestamp, packet.ssrc)
    assert payload_of(data) == packet.payload
    assert header_length(data) == len(data) - len(packet.payload) - packet.padding


@given(packets, st.integers(0, 127), st.integers(0, 65535), U32, U32)
def test_rewrite_header_agrees_with_the_object_path(packet: RtpPacket, pt: int, seq: int,
                                                   ts: int, ssrc: int) -> None:
    rewritten = RtpPacket.parse(rewrite_header(bytes(packet), pt, seq, ts, ssrc))
    expected = RtpPacket(pt, seq, ts, ssrc, packet.payload, packet.marker, packet.csrc,
                         packet.extension, packet.padding)
    assert rewritten == expected


def test_rewrite_header_can_set_or_clear_the_marker() -> None:
    data = header(marker=False) + b"x"
    assert RtpPacket.parse(rewrite_header(data, 8, 1, 2, 3, marker=True)).marker
    marked = header(marker=True) + b"x"
    assert RtpPacket.parse(rewrite_header(marked, 8, 1, 2, 3)).marker
    assert not RtpPacket.parse(rewrite_header(marked, 8, 1, 2, 3, marker=False)).marker


@pytest.mark.parametrize("data", [b"", header()[:11], header(first=0x40) + b"x"])
def test_peek_refuses_what_is_not_rtp_v2(data: bytes) -> None:
    assert peek(data) is None


@pytest.mark.parametrize("data", [header(first=0x82), header(first=0x90) + b"\x00\x00\x00\x09"])
def test_header_length_and_payload_refuse_truncated_headers(data: bytes) -> None:
    with pytest.raises(InvalidPacket):
        header_length(data)
    with pytest.raises(InvalidPacket):
        payload_of(data)


def test_payload_of_refuses_bad_padding() -> None:
    with pytest.raises(InvalidPacket):
        payload_of(header(first=0xA0) + b"ab\x00")


def test_rtcp_demultiplexing_rfc5761() -> None:
    rr = bytes([0x81, 201, 0, 7]) + b"\x00" * 28
    assert is_rtcp(rr)
    assert is_rtcp(bytes([0x80, 200, 0, 6]) + b"\x00" * 24)
    assert is_rtcp(bytes([0x80, 223, 0, 1]) + b"\x00" * 4)
    assert not is_rtcp(header(pt=0) + b"\xff" * 160)
    assert not is_rtcp(header(pt=0, marker=True) + b"\xff" * 160)
    assert not is_rtcp(header(pt=101, marker=True) + b"\x00" * 4)  # byte 229
    assert not is_rtcp(bytes([0x80, 191, 0, 1]) + b"\x00" * 4)
    assert not is_rtcp(bytes([0x40, 201, 0, 1]) + b"\x00" * 4)  # version 1
    assert not is_rtcp(rr[:7])


# -- wrap-around arithmetic ---------------------------------------------------------


def test_seq_and_ts_differences_wrap() -> None:
    assert seq_diff(0, 65535) == 1
    assert seq_diff(65535, 0) == -1
    assert seq_diff(5, 5) == 0
    assert seq_diff(32767, 0) == 32767 and seq_diff(32768, 0) == -32768
    assert ts_diff(0, 2**32 - 1) == 1
    assert ts_diff(80, 2**32 - 80) == 160
    assert ts_diff(2**32 - 80, 80) == -160


@given(st.integers(0, 65535), st.integers(-32768, 32767))
def test_seq_diff_inverts_addition(a: int, d: int) -> None:
    assert seq_diff((a + d) % 65536, a) == d


# -- OutgoingStream --------------------------------------------------------------------


def relay(stream: OutgoingStream, ssrc: int, seq: int, ts: int, n: int,
          marker_first: bool = False) -> list[tuple[int, int, bool]]:
    out = []
    for i in range(n):
        o_seq, o_ts = stream.forward(0, (seq + i) % 65536, (ts + 160 * i) % 2**32, ssrc,
                                     marker_first and i == 0)
        out.append((o_seq, o_ts, stream.marker))
    return out


def frames(stream: OutgoingStream, n: int) -> list[tuple[int, int, bool]]:
    out = []
    for _ in range(n):
        o_seq, o_ts = stream.next_frame(160)
        out.append((o_seq, o_ts, stream.marker))
    return out


def assert_continuous(out: list[tuple[int, int, bool]]) -> None:
    for (s1, t1, _), (s2, t2, _) in pairwise(out):
        assert seq_diff(s2, s1) == 1
        assert ts_diff(t2, t1) == 160


def test_relay_starts_at_the_chosen_numbers_with_the_marker() -> None:
    stream = OutgoingStream(0xAAAA, 1000, 50_000)
    out = relay(stream, ssrc=1, seq=30_000, ts=9_999_999, n=3)
    assert out == [(1000, 50_000, True), (1001, 50_160, False), (1002, 50_320, False)]


def test_sequence_and_timestamp_wrap_at_65535_and_2_32() -> None:
    stream = OutgoingStream(1, 65534, 2**32 - 160)
    out = relay(stream, ssrc=9, seq=10, ts=0, n=4)
    assert [(s, t) for s, t, _ in out] == [(65534, 2**32 - 160), (65535, 0), (0, 160),
                                           (1, 320)]
    incoming_wrap = OutgoingStream(1, 100, 0)
    out = relay(incoming_wrap, ssrc=9, seq=65534, ts=2**32 - 320, n=4)
    assert [(s, t) for s, t, _ in out] == [(100, 0), (101, 160), (102, 320), (103, 480)]


def test_losses_reordering_and_silence_gaps_of_the_source_show_through() -> None:
    stream = OutgoingStream(1, 0, 0)
    assert stream.forward(0, 500, 8000, 7, False) == (0, 0)
    assert stream.forward(0, 503, 8480, 7, False) == (3, 480)  # two lost
    assert stream.forward(0, 502, 8320, 7, False) == (2, 320)  # late
    assert stream.forward(0, 504, 8000 + 160 * 4 + 16000, 7, True) == (4, 16640)  # VAD gap
    assert stream.marker
    assert stream.forward(0, 505, 8000 + 160 * 5 + 16000, 7, False) == (5, 16800)


def test_an_ssrc_change_rebases_and_marks() -> None:
    stream = OutgoingStream(1, 10, 1000)
    first = relay(stream, ssrc=111, seq=4000, ts=123_456, n=3)
    after_transfer = relay(stream, ssrc=222, seq=60_000, ts=2**32 - 100, n=3)
    out = first + after_transfer
    assert_continuous(out)
    assert [m for _, _, m in out] == [True, False, False, True, False, False]


def test_a_sequence_jump_beyond_max_dropout_rebases() -> None:
    stream = OutgoingStream(1, 0, 0)
    out = relay(stream, 5, 100, 0, 2) + relay(stream, 5, 100 + 20_000, 7_777_777, 2)
    assert_continuous(out)
    assert out[2][2] is True


def test_interleaving_relay_and_local_frames_stays_one_stream() -> None:
    stream = OutgoingStream(1, 65530, 2**32 - 480)
    out = (relay(stream, 77, 100, 5000, 3) + frames(stream, 4)
           + relay(stream, 77, 103, 5480, 3) + frames(stream, 1)
           + relay(stream, 88, 9, 1, 2))
    assert_continuous(out)
    markers = [m for _, _, m in out]
    assert markers == [True, False, False, True, False, False, False, True, False, False,
                       True, True, False]
    assert len({s for s, _, _ in out}) == len(out)


def test_local_frames_follow_the_source_packet_time() -> None:
    stream = OutgoingStream(1, 0, 0)
    stream.forward(0, 1, 0, 5, False)
    stream.forward(0, 2, 240, 5, False)  # 30 ms packets
    assert stream.next_frame(160) == (2, 480)
    assert stream.next_frame(160) == (3, 640)


def test_a_telephone_event_does_not_disturb_the_numbering() -> None:
    stream = OutgoingStream(1, 0, 0)
    relay(stream, 5, 10, 1600, 2)  # out (0, 0), (1, 160)
    # RFC 4733: the event's packets share the timestamp of its start
    assert stream.forward(101, 12, 1920, 5, True) == (2, 320)
    assert stream.forward(101, 13, 1920, 5, False) == (3, 320)
    assert stream.forward(0, 14, 2400, 5, False) == (4, 800)
    assert stream.next_frame(160) == (5, 960)


@given(st.integers(0, 65535), U32,
       st.lists(st.tuples(st.sampled_from(["relay", "local"]), st.booleans(),
                          st.integers(0, 65535), U32, st.integers(1, 20)), max_size=12))
def test_any_mix_of_sources_without_loss_is_one_continuous_stream(
        seq0: int, ts0: int, runs: list[tuple[str, bool, int, int, int]]) -> None:
    """Relay runs come from a new SSRC, or from the previous one again after
    local frames (a prompt between two stretches of the far phone)."""
    stream = OutgoingStream(1, seq0, ts0)
    out: list[tuple[int, int, bool]] = []
    ssrc, previous = 100, "local"
    for kind, same_source, seq, ts, n in runs:
        if kind == "local":
            out += frames(stream, n)
        else:
            ssrc += 0 if same_source and previous == "local" else 1
            out += relay(stream, ssrc, seq, ts, n)
        previous = kind
    assert_continuous(out)
    if out:
        assert out[0][:2] == (seq0, ts0) and out[0][2]
