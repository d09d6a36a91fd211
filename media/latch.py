"""Symmetric RTP (RFC 4961) with source latching ("comedia", RFC 4145 §4).

Phones behind NAT announce an address in SDP that the switch cannot reach;
what works is sending to where their RTP really comes from. The latch
learns that address without letting a stray or forged packet take the
stream over:

- packets from the SDP address are always trusted and latch at once;
- another address latches only after ``probation`` consecutive packets of
  one SSRC from it, and, once a source is latched, only after that source
  has been silent for ``silence`` seconds (a NAT rebinding or a phone that
  moved, not a stranger talking over a live stream).

Pure: arrival times come in as ``now`` (seconds).
"""

from __future__ import annotations

from media.errors import MediaError

Address = tuple[str, int]


class SourceLatch:
    """Where a leg's RTP comes from, and so where to send its RTP."""

    __slots__ = ("_candidate", "_count", "_last", "expected", "probation", "silence",
                 "source", "ssrc")

    def __init__(self, expected: Address | None, probation: int = 3,
                 silence: float = 2.0) -> None:
        if probation < 1:
            raise MediaError("probation must be at least one packet")
        self.expected = expected  # the SDP address
        self.probation = probation
        self.silence = silence
        self.source: Address | None = None  # the latched address
        self.ssrc: int | None = None  # SSRC last heard from it
        self._last = 0.0
        self._candidate: tuple[Address, int] | None = None
        self._count = 0

    @property
    def target(self) -> Address | None:
        """Where to send: the latched address, else the SDP address."""
        return self.source if self.source is not None else self.expected

    def expect(self, expected: Address | None) -> None:
        """A new SDP address (re-INVITE); a latched source stays latched."""
        self.expected = expected

    def seen(self, addr: Address, ssrc: int, now: float) -> bool:
        """A packet of ``ssrc`` from ``addr`` arrived at ``now``: accept it?"""
        if addr == self.source or addr == self.expected:
            self._latch(addr, ssrc, now)
            return True
        if self.source is not None and now - self._last < self.silence:
            self._candidate = None  # the latched source is alive: no takeover
            return False
        if self._candidate == (addr, ssrc):
            self._count += 1
        else:
            self._candidate, self._count = (addr, ssrc), 1
        if self._count < self.probation:
            return False
        self._latch(addr, ssrc, now)
        return True

    def _latch(self, addr: Address, ssrc: int, now: float) -> None:
        self.source, self.ssrc, self._last = addr, ssrc, now
        self._candidate, self._count = None, 0
