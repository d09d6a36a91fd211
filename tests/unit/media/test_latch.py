"""Symmetric RTP source latching (RFC 4961): who may take a leg's stream."""

from __future__ import annotations

import pytest

from media.errors import MediaError
from media.latch import SourceLatch

SDP = ("192.168.1.20", 4000)  # what the phone wrote in its SDP, behind NAT
NAT = ("203.0.113.7", 31000)  # where its packets really come from
REBOUND = ("203.0.113.7", 52000)  # the NAT's new mapping for the same phone
ATTACKER = ("198.51.100.66", 5060)


def stream(latch: SourceLatch, addr: tuple[str, int], ssrc: int, start: float,
           n: int) -> list[bool]:
    return [latch.seen(addr, ssrc, start + 0.02 * i) for i in range(n)]


def test_before_any_packet_the_target_is_the_sdp_address() -> None:
    assert SourceLatch(SDP).target == SDP
    assert SourceLatch(None).target is None


def test_the_sdp_address_is_trusted_at_once() -> None:
    latch = SourceLatch(SDP)
    assert latch.seen(SDP, 1, 0.0)
    assert latch.source == SDP and latch.target == SDP


def test_a_natted_phone_latches_after_probation() -> None:
    latch = SourceLatch(SDP, probation=3)
    assert stream(latch, NAT, 0xAB, 0.0, 4) == [False, False, True, True]
    assert latch.target == NAT and latch.ssrc == 0xAB


def test_probation_wants_consecutive_packets_of_one_ssrc() -> None:
    latch = SourceLatch(SDP, probation=3)
    assert latch.seen(NAT, 1, 0.00) is False
    assert latch.seen(NAT, 1, 0.02) is False
    assert latch.seen(NAT, 2, 0.04) is False  # another SSRC: count starts again
    assert latch.seen(ATTACKER, 2, 0.05) is False  # another address: again
    assert stream(latch, NAT, 2, 0.06, 3) == [False, False, True]


def test_stray_packets_never_steal_a_live_stream() -> None:
    latch = SourceLatch(SDP)
    stream(latch, NAT, 0xAB, 0.0, 5)
    # The attacker sprays packets between the phone's 20 ms packets, for seconds.
    t = 0.1
    for _ in range(300):
        assert latch.seen(ATTACKER, 0xEE, t + 0.01) is False
        assert latch.seen(NAT, 0xAB, t + 0.02) is True
        t += 0.02
    assert latch.target == NAT


def test_a_single_stray_packet_after_silence_does_not_steal() -> None:
    latch = SourceLatch(SDP)
    stream(latch, NAT, 0xAB, 0.0, 5)
    assert latch.seen(ATTACKER, 0xEE, 10.0) is False
    assert latch.target == NAT
    assert latch.seen(NAT, 0xAB, 10.5) is True


def test_a_nat_rebinding_relatches_after_silence() -> None:
    latch = SourceLatch(SDP, probation=3, silence=2.0)
    stream(latch, NAT, 0xAB, 0.0, 50)  # last packet at 0.98
    # The NAT forgets the mapping: the same phone now arrives from another port.
    early = stream(latch, REBOUND, 0xAB, 1.0, 50)  # 1.00 .. 1.98: still within 2 s
    assert not any(early)
    late = stream(latch, REBOUND, 0xAB, 3.0, 4)
    assert late == [False, False, True, True]
    assert latch.target == REBOUND
    # ... and the old mapping no longer takes it back with one packet.
    assert latch.seen(NAT, 0xAB, 3.1) is False


def test_an_attacker_steady_during_the_silence_is_the_weakness_of_comedia() -> None:
    # Documented behaviour: after the latched source is silent, any steady
    # source wins. The SDP address always wins back at once.
    latch = SourceLatch(SDP)
    stream(latch, NAT, 1, 0.0, 5)
    assert stream(latch, ATTACKER, 9, 5.0, 3) == [False, False, True]
    assert latch.seen(SDP, 1, 5.1) is True and latch.target == SDP


def test_a_new_sdp_address_from_a_reinvite_is_trusted_at_once() -> None:
    latch = SourceLatch(SDP)
    stream(latch, NAT, 1, 0.0, 5)
    moved = ("10.9.9.9", 7000)
    latch.expect(moved)
    assert latch.target == NAT  # still latched until the phone is heard there
    assert latch.seen(moved, 1, 0.2) is True and latch.target == moved


def test_no_sdp_address_latches_on_the_first_steady_source() -> None:
    latch = SourceLatch(None, probation=1)
    assert latch.seen(NAT, 5, 0.0) is True and latch.target == NAT


def test_probation_must_be_positive() -> None:
    with pytest.raises(MediaError):
        SourceLatch(SDP, probation=0)
