"""Reception statistics of one RTP source (RFC 3550 §6.4.1, Appendix A.1,
A.3 and A.8).

:meth:`ReceiveStats.update` runs A.1's ``update_seq`` on every packet: a new
source is on probation until MIN_SEQUENTIAL packets arrive in sequence,
sequence wraps are counted, jumps beyond MAX_DROPOUT/MAX_MISORDER are
refused unless the next packet confirms the new sequence (the sender
restarted). Valid packets feed A.8's interarrival jitter. A different SSRC
starts a new source. :meth:`ReceiveStats.report_block` gives the §6.4.1
report block, with loss since the previous report (A.3) and LSR/DLSR from
the last SR noted with :meth:`ReceiveStats.sender_report`.
"""

from __future__ import annotations

from media.rtcp import ReportBlock, compute_dlsr, compute_lsr

RTP_SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000
MAX_MISORDER = 100
MIN_SEQUENTIAL = 2
_TS_MOD = 1 << 32


class ReceiveStats:
    """A.1/A.8 state of the source heard on one leg; times are seconds."""

    __slots__ = ("_sr_at", "_sr_lsr", "_sr_ssrc", "_transit", "bad_seq", "base_seq",
                 "clock_rate", "cycles", "expected_prior", "jitter", "max_seq",
                 "probation", "received", "received_prior", "ssrc")

    def __init__(self, clock_rate: int = 8000) -> None:
        self.clock_rate = clock_rate
        self.ssrc: int | None = None
        self.jitter = 0.0  # A.8 estimate, timestamp units
        self._transit: float | None = None
        self.probation = MIN_SEQUENTIAL
        self._init_seq(0)
        self._sr_ssrc: int | None = None
        self._sr_lsr = 0
        self._sr_at = 0.0

    # -- A.1 -----------------------------------------------------------------

    def _init_seq(self, seq: int) -> None:
        self.base_seq = seq
        self.max_seq = seq
        self.bad_seq = RTP_SEQ_MOD + 1  # so seq == bad_seq is false
        self.cycles = 0
        self.received = 0
        self.received_prior = 0
        self.expected_prior = 0
        self._transit = None

    def _new_source(self, ssrc: int, seq: int) -> None:
        self.ssrc = ssrc
        self._init_seq(seq)
        self.max_seq = (seq - 1) & 0xFFFF
        self.probation = MIN_SEQUENTIAL
        self.jitter = 0.0

    def _update_seq(self, seq: int) -> bool:
        udelta = (seq - self.max_seq) & 0xFFFF
        if self.probation:
            if seq == (self.max_seq + 1) & 0xFFFF:
                self.probation -= 1
                self.max_seq = seq
                if self.probation == 0:
                    self._init_seq(seq)
                    self.received += 1
                    return True
            else:
                self.probation = MIN_SEQUENTIAL - 1
                self.max_seq = seq
            return False
        if udelta < MAX_DROPOUT:
            if seq < self.max_seq:
                self.cycles += RTP_SEQ_MOD  # wrapped
            self.max_seq = seq
        elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
            if seq != self.bad_seq:
                self.bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1)
                return False
            self._init_seq(seq)  # two in a row: the sender restarted
        # else: a duplicate or a packet from before max_seq, still counted
        self.received += 1
        return True

    # -- the entry --------------------------------------------------------------

    def update(self, seq: int, ts: int, ssrc: int, now: float) -> bool:
        """Account for a packet that arrived at ``now``; False if A.1 refuses it
        (source on probation, or a jump not yet confirmed)."""
        if ssrc != self.ssrc:
            self._new_source(ssrc, seq)
        if not self._update_seq(seq):
            return False
        self._update_jitter(ts, now)
        return True

    def _update_jitter(self, ts: int, now: float) -> None:
        transit = now * self.clock_rate - ts
        previous, self._transit = self._transit, transit
        if previous is None:
            return
        # The timestamp wraps at 2**32: take the transit change modulo that.
        d = (transit - previous + _TS_MOD / 2) % _TS_MOD - _TS_MOD / 2
        self.jitter += (abs(d) - self.jitter) / 16

    # -- figures (A.3) ------------------------------------------------------------

    @property
    def extended_max(self) -> int:
        return self.cycles + self.max_seq

    @property
    def expected(self) -> int:
        return 0 if self.probation else self.extended_max - self.base_seq + 1

    @property
    def lost(self) -> int:
        """Cumulative loss; negative when duplicates outnumber losses."""
        return self.expected - self.received

    def sender_report(self, ssrc: int, ntp_timestamp: int, now: float) -> None:
        """Note an SR from ``ssrc`` that arrived at ``now`` (for LSR/DLSR)."""
        self._sr_ssrc, self._sr_lsr, self._sr_at = ssrc, compute_lsr(ntp_timestamp), now

    def report_block(self, ssrc_of_source: int, now: float | None = None) -> ReportBlock | None:
        """The report block about ``ssrc_of_source``, ``None`` if that is not
        the source heard (or it is still on probation). Starts a new
        interval for the fraction lost. LSR/DLSR are filled when an SR from
        the source was noted and ``now`` is given."""
        if ssrc_of_source != self.ssrc or self.probation:
            return None
        expected = self.expected
        expected_interval = expected - self.expected_prior
        received_interval = self.received - self.received_prior
        self.expected_prior, self.received_prior = expected, self.received
        lost_interval = expected_interval - received_interval
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = min((lost_interval << 8) // expected_interval, 255)
        lsr = dlsr = 0
        if self._sr_ssrc == ssrc_of_source and now is not None:
            lsr, dlsr = self._sr_lsr, compute_dlsr(self._sr_at, now)
        cumulative = min(max(self.lost, -0x800000), 0x7FFFFF)
        return ReportBlock(ssrc_of_source, fraction, cumulative,
                           self.extended_max & 0xFFFFFFFF, int(self.jitter), lsr, dlsr)
