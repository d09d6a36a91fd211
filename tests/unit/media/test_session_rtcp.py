"""RTCP the switch sends for each anchored leg (F-MEDIA-1, RFC 3550 §6.4)."""

from __future__ import annotations

from media.rtcp import (
    ReceiverReport,
    SenderReport,
    SourceDescription,
    build_compound,
    ntp_timestamp,
    parse_compound,
)
from media.rtp import RtpPacket
from media.session import CallMedia, LegConfig

A = ("192.0.2.10", 4000)
B = ("192.0.2.20", 5000)


def call() -> CallMedia:
    counter = iter(range(1000, 2000))
    media = CallMedia("call-1", lambda: next(counter))
    for name, remote in (("a", A), ("b", B)):
        media.add_leg(name)
        media.configure(name, LegConfig(remote, "PCMU", 0, 0, rtcp_port=remote[1] + 1), 0.0)
    return media


def test_reports_say_what_was_sent_and_what_was_lost() -> None:
    media = call()
    sent = 0
    for seq in range(100, 120):
        if seq in (105, 106):  # two packets lost on the way from phone A
            continue
        packet = RtpPacket(0, seq, seq * 160, 0xA1A1, b"\xff" * 160)
        assert media.receive("a", bytes(packet), A, seq * 0.02) is not None
        sent += 1
    reports = {leg: (data, target) for leg, data, target in media.rtcp_reports(2.5, 1e9)}
    data_b, target_b = reports["b"]
    assert target_b == ("192.0.2.20", 5001)
    sr, sdes = parse_compound(data_b)
    assert isinstance(sr, SenderReport) and isinstance(sdes, SourceDescription)
    assert sr.packet_count == sent and sr.octet_count == sent * 160
    assert sr.ntp_timestamp == ntp_timestamp(1e9)
    data_a, target_a = reports["a"]
    assert target_a == ("192.0.2.10", 4001)
    rr, _ = parse_compound(data_a)
    assert isinstance(rr, ReceiverReport)  # nothing was sent to phone A
    [block] = rr.reports
    assert block.ssrc == 0xA1A1 and block.cumulative_lost == 2
    assert block.highest_sequence == 119 and block.fraction_lost > 0


def test_a_sender_report_from_the_phone_fills_lsr_and_dlsr() -> None:
    media = call()
    for seq in range(10):
        media.receive("a", bytes(RtpPacket(0, seq, seq * 160, 0xA1A1, b"\xff" * 160)), A,
                      seq * 0.02)
    phone_sr = SenderReport(0xA1A1, ntp_timestamp(1e9), 1600, 10, 1600)
    media.receive_rtcp("a", build_compound([phone_sr]), 1.0)
    media.receive_rtcp("a", b"\x00garbage", 1.1)  # dropped, the call goes on
    reports = {leg: data for leg, data, _ in media.rtcp_reports(1.5, 1e9 + 1)}
    rr = parse_compound(reports["a"])[0]
    assert isinstance(rr, ReceiverReport)
    [block] = rr.reports
    assert block.lsr != 0 and block.dlsr == round(0.5 * 65536)
