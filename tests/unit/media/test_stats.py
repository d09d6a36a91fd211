"""Reception statistics: RFC 3550 A.1 validation, A.3 loss, A.8 jitter."""

from __future__ import annotations

import pytest

from media.rtcp import ReportBlock, compute_lsr, ntp_timestamp
from media.stats import MAX_DROPOUT, ReceiveStats

SSRC = 0x5151


def feed(stats: ReceiveStats, seqs: list[int], ssrc: int = SSRC) -> list[bool]:
    return [stats.update(seq % 65536, (seq * 160) % 2**32, ssrc, seq * 0.02) for seq in seqs]


# -- A.1 probation -------------------------------------------------------------------


def test_a_new_source_is_valid_after_two_packets_in_sequence() -> None:
    stats = ReceiveStats()
    assert feed(stats, [100, 101, 102]) == [False, True, True]
    assert stats.received == 2 and stats.expected == 2 and stats.lost == 0


def test_probation_restarts_on_a_gap() -> None:
    stats = ReceiveStats()
    assert feed(stats, [100, 105, 106, 107]) == [False, False, True, True]
    assert stats.base_seq == 106


def test_nothing_to_report_during_probation() -> None:
    stats = ReceiveStats()
    feed(stats, [7])
    assert stats.expected == 0
    assert stats.report_block(SSRC) is None


# -- A.1 wrap, loss, misorder, dropout -------------------------------------------------


def test_sequence_wrap_is_counted_in_the_extended_number() -> None:
    stats = ReceiveStats()
    assert all(feed(stats, [65533, 65534, 65535, 65536, 65537])[1:])
    assert stats.cycles == 65536
    assert stats.extended_max == 65536 + 1
    block = stats.report_block(SSRC)
    assert block is not None and block.highest_sequence == 0x10001
    assert block.cumulative_lost == 0


def test_loss_duplicates_and_late_packets() -> None:
    stats = ReceiveStats()
    feed(stats, [10, 11, 12, 15, 16])  # 13 and 14 missing
    assert stats.expected == 6 and stats.received == 4 and stats.lost == 2
    assert feed(stats, [13]) == [True]  # late: counted, not lost any more
    assert stats.lost == 1
    assert feed(stats, [16, 16]) == [True, True]  # duplicates push loss below zero
    assert stats.lost == -1


def test_a_big_jump_is_refused_until_the_next_packet_confirms_it() -> None:
    stats = ReceiveStats()
    feed(stats, [1000, 1001, 1002])
    jump = 1002 + MAX_DROPOUT + 500
    assert feed(stats, [jump]) == [False]
    assert feed(stats, [1003]) == [True]  # the old sequence goes on
    assert feed(stats, [jump, jump + 1]) == [False, True]  # a restart: stats begin again
    assert stats.base_seq == jump + 1 and stats.received == 1 and stats.lost == 0


def test_a_packet_far_behind_max_misorder_is_refused() -> None:
    stats = ReceiveStats()
    feed(stats, list(range(5000, 5010)))
    assert feed(stats, [4000]) == [False]
    assert feed(stats, [4950]) == [True]  # within MAX_MISORDER: late, accepted


def test_an_ssrc_change_starts_a_new_source() -> None:
    stats = ReceiveStats()
    feed(stats, [1, 2, 3, 5])
    assert stats.lost == 1
    assert feed(stats, [40000, 40001], ssrc=0x7777) == [False, True]
    assert stats.ssrc == 0x7777 and stats.lost == 0 and stats.received == 1
    assert stats.report_block(SSRC) is None
    assert stats.report_block(0x7777) is not None


# -- A.3 fraction lost per interval ------------------------------------------------------


def test_fraction_lost_is_per_report_interval() -> None:
    stats = ReceiveStats()
    feed(stats, [0, 1] + [s for s in range(2, 10) if s not in (4, 5)])  # 2 of 9 lost
    block = stats.report_block(SSRC)
    assert block is not None
    assert block.fraction_lost == (2 << 8) // 9 and block.cumulative_lost == 2
    feed(stats, list(range(10, 20)))
    block = stats.report_block(SSRC)
    assert block is not None and block.fraction_lost == 0 and block.cumulative_lost == 2


def test_cumulative_loss_is_clamped_to_24_bits() -> None:
    stats = ReceiveStats()
    feed(stats, [0, 1])
    stats.received -= 0x900000  # as if eight million packets had gone missing
    block = stats.report_block(SSRC)
    assert block is not None and block.cumulative_lost == 0x7FFFFF
    assert bytes(block)  # still serialisable


# -- A.8 jitter --------------------------------------------------------------------------


def reference_jitter(arrivals: list[float], timestamps: list[int], rate: int) -> float:
    """RFC 3550 A.8 as written, on unwrapped timestamps."""
    jitter = 0.0
    previous = None
    for arrival, ts in zip(arrivals, timestamps, strict=True):
        transit = arrival * rate - ts
        if previous is not None:
            d = abs(transit - previous)
            jitter += (d - jitter) / 16
        previous = transit
    return jitter


def jittery(n: int, ts0: int) -> tuple[list[float], list[int]]:
    delays = [0.0, 0.013, 0.002, 0.030, 0.007, 0.0, 0.021, 0.004]
    arrivals = [100.0 + 0.02 * i + delays[i % len(delays)] for i in range(n)]
    return arrivals, [ts0 + 160 * i for i in range(n)]


def test_jitter_matches_the_a8_formula() -> None:
    arrivals, timestamps = jittery(200, 1_000)
    stats = ReceiveStats(8000)
    for i, (now, ts) in enumerate(zip(arrivals, timestamps, strict=True)):
        stats.update(i, ts, SSRC, now)
    # The first packet is on probation and so not measured.
    expected = reference_jitter(arrivals[1:], timestamps[1:], 8000)
    assert expected > 50  # the sequence really is jittery: 13 ms swings are ~100 units
    assert stats.jitter == pytest.approx(expected)
    block = stats.report_block(SSRC)
    assert block is not None and block.jitter == int(expected)


def test_jitter_survives_the_timestamp_wrap() -> None:
    arrivals, timestamps = jittery(100, 2**32 - 160 * 50)
    stats = ReceiveStats(8000)
    for i, (now, ts) in enumerate(zip(arrivals, timestamps, strict=True)):
        stats.update(i, ts % 2**32, SSRC, now)
    assert stats.jitter == pytest.approx(reference_jitter(arrivals[1:], timestamps[1:], 8000))


def test_steady_arrival_has_no_jitter_and_other_clock_rates_scale() -> None:
    stats = ReceiveStats(48000)
    for i in range(50):
        stats.update(i, 960 * i, SSRC, 5.0 + 0.02 * i)
    assert stats.jitter == pytest.approx(0.0, abs=1e-6)


# -- LSR / DLSR -------------------------------------------------------------------------


def test_report_block_carries_lsr_and_dlsr_of_the_last_sr() -> None:
    stats = ReceiveStats()
    feed(stats, [1, 2, 3])
    sr_ntp = ntp_timestamp(1_700_000_000.0)
    stats.sender_report(SSRC, sr_ntp, now=50.0)
    block = stats.report_block(SSRC, now=51.25)
    assert isinstance(block, ReportBlock)
    assert block.lsr == compute_lsr(sr_ntp) and block.dlsr == int(1.25 * 65536)
    other = ReceiveStats()
    feed(other, [1, 2])
    other.sender_report(0x9999, sr_ntp, now=50.0)  # an SR from somebody else
    block = other.report_block(SSRC, now=51.0)
    assert block is not None and block.lsr == 0 and block.dlsr == 0
