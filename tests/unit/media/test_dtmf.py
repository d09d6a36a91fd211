"""RFC 4733 telephone-events (F-MEDIA-1): payload round trips and invalid input, the
sender's packet sequence, and the receiver's one-report-per-press under loss,
duplication, reordering and retransmission."""

from __future__ import annotations

import itertools

import pytest

from media.dtmf import (
    EVENTS,
    DtmfBurst,
    DtmfEvent,
    DtmfReceiver,
    DtmfSender,
    EventPacket,
    InvalidTelephoneEvent,
    TelephoneEvent,
)
from media.errors import MediaError

# -- payload (§2.3) ----------------------------------------------------------------------


@pytest.mark.parametrize("report", [
    TelephoneEvent(0), TelephoneEvent(5, True, 10, 800), TelephoneEvent(15, False, 63, 0xFFFF),
    TelephoneEvent(16, True, 0, 160), TelephoneEvent(255, False, 0, 1),
])
def test_payload_round_trip(report: TelephoneEvent) -> None:
    data = bytes(report)
    assert len(data) == 4
    assert TelephoneEvent.parse(data) == report


def test_payload_layout() -> None:
    assert bytes(TelephoneEvent(11, True, 10, 0x0320)) == b"\x0b\x8a\x03\x20"
    assert TelephoneEvent.parse(b"\x01\x0a\x00\xa0") == TelephoneEvent(1, False, 10, 160)


def test_reserved_bit_is_ignored() -> None:
    assert TelephoneEvent.parse(b"\x05\xca\x00\xa0") == TelephoneEvent(5, True, 10, 160)


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x01\x0a\x00", b"\x01\x0a\x00\xa0\x00"])
def test_parse_refuses_wrong_lengths(data: bytes) -> None:
    with pytest.raises(InvalidTelephoneEvent):
        TelephoneEvent.parse(data)


@pytest.mark.parametrize(("event", "volume", "duration"),
                         [(-1, 10, 0), (256, 10, 0), (1, 64, 0), (1, -1, 0), (1, 10, 0x10000)])
def test_fields_out_of_range_are_refused(event: int, volume: int, duration: int) -> None:
    with pytest.raises(MediaError):
        TelephoneEvent(event, False, volume, duration)


def test_digits_and_event_codes() -> None:
    assert [TelephoneEvent(code).digit for code in range(16)] == list("0123456789*#ABCD")
    assert TelephoneEvent(16).digit is None
    assert TelephoneEvent.for_digit("#").event == 11
    assert TelephoneEvent.for_digit("a").event == 12
    for bad in ("", "E", "12", "x"):
        with pytest.raises(InvalidTelephoneEvent):
            TelephoneEvent.for_digit(bad)


def test_parse_all() -> None:
    reports = [TelephoneEvent(1, True, 10, 800), TelephoneEvent(2, False, 10, 160)]
    assert TelephoneEvent.parse_all(b"".join(bytes(r) for r in reports)) == reports
    for bad in (b"", b"\x00" * 6):
        with pytest.raises(InvalidTelephoneEvent):
            TelephoneEvent.parse_all(bad)


# -- sender (§2.5.1) ---------------------------------------------------------------------


def test_sender_packet_sequence() -> None:
    burst = DtmfSender().press("5", seq=1000, timestamp=8000)
    reports = [TelephoneEvent.parse(p.payload) for p in burst.packets]
    # 160 ms: updates at 20..140 ms, then the end packet three times
    assert [r.duration for r in reports] == [160 * k for k in range(1, 8)] + [1280] * 3
    assert [r.end for r in reports] == [False] * 7 + [True] * 3
    assert {r.event for r in reports} == {5}
    assert {r.volume for r in reports} == {10}
    assert [p.marker for p in burst.packets] == [True] + [False] * 9
    assert {p.timestamp for p in burst.packets} == {8000}
    assert [p.seq for p in burst.packets] == list(range(1000, 1010))
    assert [p.offset for p in burst.packets] == [160 * k for k in range(10)]
    assert (burst.next_seq, burst.next_timestamp) == (1010, 8000 + 1280)


def test_sender_wraps_sequence_and_timestamp() -> None:
    burst = DtmfSender(duration_ms=100).press("#", seq=65534, timestamp=2**32 - 160)
    assert [p.seq for p in burst.packets][:3] == [65534, 65535, 0]
    assert burst.next_seq == (65534 + len(burst.packets)) % 65536
    assert burst.next_timestamp == 800 - 160


def test_sender_rounds_duration_up_to_whole_updates_and_checks_it() -> None:
    burst = DtmfSender(duration_ms=100, volume=6).press("1", 0, 0)
    last = TelephoneEvent.parse(burst.packets[-1].payload)
    assert last.duration == 800 and last.volume == 6
    assert TelephoneEvent.parse(DtmfSender().press("1", 0, 0, 50).packets[-1].payload) \
        .duration == 480
    with pytest.raises(MediaError):
        DtmfSender(duration_ms=20)
    with pytest.raises(MediaError):
        DtmfSender().press("1", 0, 0, duration_ms=9000)
    with pytest.raises(MediaError):
        DtmfSender(volume=64)
    with pytest.raises(InvalidTelephoneEvent):
        DtmfSender().press("Z", 0, 0)


def test_shortest_press_still_marks_its_first_packet() -> None:
    burst = DtmfSender(duration_ms=40, packet_ms=40).press("9", 0, 0)
    assert [p.marker for p in burst.packets] == [True, False, False]
    assert all(TelephoneEvent.parse(p.payload).end for p in burst.packets)


# -- sender -> receiver -------------------------------------------------------------------


def _play(receiver: DtmfReceiver, packets: list[EventPacket]) -> list[DtmfEvent]:
    out: list[DtmfEvent] = []
    for p in packets:
        out += receiver.receive_events(p.payload, p.timestamp, p.seq)
    return out


def _dial(digits: str, sender: DtmfSender | None = None) -> list[DtmfBurst]:
    sender = sender or DtmfSender()
    seq, ts, bursts = 40000, 123456, []
    for digit in digits:
        burst = sender.press(digit, seq, ts)
        bursts.append(burst)
        seq, ts = burst.next_seq + 5, burst.next_timestamp + 800  # audio between presses
    return bursts


def test_all_sixteen_keys_round_trip_once_each_with_duration() -> None:
    receiver = DtmfReceiver()
    events = _play(receiver, [p for b in _dial(EVENTS) for p in b.packets])
    assert [e.digit for e in events if not e.end] == list(EVENTS)
    ends = [e for e in events if e.end]
    assert [e.digit for e in ends] == list(EVENTS)
    assert {e.duration for e in ends} == {1280}
    assert ends[0].duration_ms() == 160.0


def test_receive_gives_digits_once_per_press() -> None:
    receiver = DtmfReceiver()
    digits: list[str] = []
    for p in (p for b in _dial("1212##") for p in b.packets):
        digits += receiver.receive(p.payload, p.timestamp, p.seq)
    assert "".join(digits) == "1212##"


def test_lost_start_packets_still_report_the_press() -> None:
    (burst,) = _dial("7")
    events = _play(DtmfReceiver(), list(burst.packets[3:]))
    assert events == [DtmfEvent("7", burst.packets[0].timestamp, 640, False),
                      DtmfEvent("7", burst.packets[0].timestamp, 1280, True)]


def test_only_an_end_packet_survives() -> None:
    (burst,) = _dial("0")
    events = _play(DtmfReceiver(), [burst.packets[-1]])
    assert [(e.digit, e.end, e.duration) for e in events] == [("0", False, 1280),
                                                              ("0", True, 1280)]


def test_duplicated_and_retransmitted_packets_report_nothing_more() -> None:
    bursts = _dial("55")
    packets = [p for b in bursts for p in b.packets for _ in range(2)]
    events = _play(DtmfReceiver(), packets)
    assert [(e.digit, e.end) for e in events] == [("5", False), ("5", True)] * 2


def test_late_end_packets_of_a_previous_press_are_ignored() -> None:
    first, second = _dial("12")
    late = list(first.packets[:-3]) + list(second.packets[:2]) + list(first.packets[-3:]) \
        + list(second.packets[2:])
    events = _play(DtmfReceiver(), late)
    # the first press ends when the second starts (its end packets came too late)
    assert [(e.digit, e.end, e.duration) for e in events] == [
        ("1", False, 160), ("1", True, 1120), ("2", False, 160), ("2", True, 1280)]


def test_lost_end_packets_end_the_press_at_the_next_one_or_on_finish() -> None:
    first, second = _dial("34")
    receiver = DtmfReceiver()
    events = _play(receiver, list(first.packets[:-3]) + list(second.packets[:-3]))
    assert [(e.digit, e.end) for e in events] == [("3", False), ("3", True), ("4", False)]
    assert receiver.finish() == [DtmfEvent("4", second.packets[0].timestamp, 1120, True)]
    assert receiver.finish() == []


def test_reordered_updates_keep_the_longest_duration() -> None:
    (burst,) = _dial("8")
    packets = list(burst.packets)
    packets[1], packets[4] = packets[4], packets[1]
    events = _play(DtmfReceiver(), packets)
    assert [(e.end, e.duration) for e in events] == [(False, 160), (True, 1280)]


@pytest.mark.parametrize("drop", range(10))
def test_any_single_loss_still_one_press(drop: int) -> None:
    bursts = _dial("96")
    packets = [p for b in bursts for p in b.packets]
    del packets[drop]
    events = _play(DtmfReceiver(), packets)
    assert [e.digit for e in events if not e.end] == ["9", "6"]
    assert [e.digit for e in events if e.end] == ["9", "6"]


def test_random_loss_and_duplication_never_double_counts() -> None:
    import random

    rng = random.Random(4733)
    bursts = _dial("0123456789*#ABCD" * 2)
    for _ in range(50):
        packets: list[EventPacket] = []
        for b in bursts:
            kept = [p for p in b.packets if rng.random() > 0.3]
            packets += list(itertools.chain.from_iterable([p] * rng.choice((1, 1, 2))
                                                          for p in kept))
        events = _play(DtmfReceiver(), packets)
        begun = [e.digit for e in events if not e.end]
        survived = [b.packets[0] for b in bursts
                    if any(p.timestamp == b.packets[0].timestamp for p in packets)]
        assert len(begun) == len(survived)
        assert len([e for e in events if e.end]) <= len(begun)


def test_non_dtmf_events_and_garbage_are_ignored() -> None:
    receiver = DtmfReceiver()
    assert receiver.receive(bytes(TelephoneEvent(16, False, 10, 160)), 100, 1) == []
    assert receiver.receive(b"\x01\x0a", 200, 2) == []
    assert receiver.malformed == 1
    assert receiver.receive(bytes(TelephoneEvent(1, False, 10, 160)), 300, 3) == ["1"]


def test_new_ssrc_resets_sequence_tracking() -> None:
    receiver = DtmfReceiver()
    assert receiver.receive(bytes(TelephoneEvent(1, True, 10, 800)), 5000, 30000, ssrc=1) \
        == ["1"]
    # a new stream whose numbers happen to look older is still heard
    assert receiver.receive(bytes(TelephoneEvent(2, False, 10, 160)), 100, 10, ssrc=2) == ["2"]
    # without the SSRC the same packet would look late
    other = DtmfReceiver()
    other.receive(bytes(TelephoneEvent(1, True, 10, 800)), 5000, 30000)
    assert other.receive(bytes(TelephoneEvent(2, False, 10, 160)), 100, 10) == []


def test_long_press_in_two_segments_is_one_press() -> None:
    receiver = DtmfReceiver()
    seg1 = [TelephoneEvent(5, False, 10, d) for d in (160, 32000, 0xFFFF)]
    seg2 = [TelephoneEvent(5, False, 10, 160), TelephoneEvent(5, True, 10, 8000)]
    events: list[DtmfEvent] = []
    seq = 0
    for report in seg1:
        seq += 1
        events += receiver.receive_events(bytes(report), 1000, seq)
    for report in seg2:
        seq += 1
        events += receiver.receive_events(bytes(report), 1000 + 0xFFFF, seq)
    assert events == [DtmfEvent("5", 1000, 160, False),
                      DtmfEvent("5", 1000, 0xFFFF + 8000, True)]
