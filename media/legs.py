"""A call's media legs, and the values that cross the media worker's boundary.

RFC 3550 §5.1 (each leg sends one continuous RTP stream: its own SSRC,
sequence and timestamp, :class:`media.rtp.OutgoingStream`), §6.4 (what a leg
counts for its RTCP reports), RFC 4733 (telephone-event digits), RFC 3605
(the peer's RTCP port). :class:`LegConfig` is what SDP negotiation decided
for a leg; :class:`Leg` is one side of the call as the relay sees it (where
to send, what it heard, what plays to it, its channel of a recording);
:data:`MediaEvent` is what a call's media reports (digits, silence, prompts
done). :class:`media.session.CallMedia` drives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from media.dtmf import DtmfReceiver, InbandDetector
from media.latch import SourceLatch
from media.rtp import OutgoingStream
from media.stats import ReceiveStats

Address = tuple[str, int]
RATE = 8000
FRAME = 160  # samples per 20 ms at 8 kHz
# A recording plays each side out at the clock's pace from a small buffer, so
# packets that reach a different 20 ms tick than usual (jitter) leave no gap.
RECORD_LATENCY = 2 * FRAME  # held back before a side starts, or restarts after a gap
RECORD_BACKLOG = 10 * FRAME  # more than this waiting (a burst) is cut to the latency
_NO_AUDIO = np.zeros(0, np.int16)


@dataclass(frozen=True, slots=True)
class LegConfig:
    """What SDP negotiation decided for one leg (media.offer_answer.Negotiated):
    where to send, the codec both ways, the payload type numbers we send with
    (the peer's) and receive with (ours), and telephone-event's."""

    remote: Address | None
    codec: str  # "PCMU" or "PCMA"
    send_pt: int
    recv_pt: int
    te_send: int | None = None
    te_recv: int | None = None
    rtcp_port: int | None = None  # the peer's RTCP port (RFC 3605), None: RTP port + 1


@dataclass(frozen=True, slots=True)
class Digit:
    leg: str
    digit: str
    source: str  # "rfc4733" or "inband"


@dataclass(frozen=True, slots=True)
class MediaTimeout:
    """No RTP from ``leg`` for the configured time (and it is not on hold)."""

    leg: str
    silent_for: float


@dataclass(frozen=True, slots=True)
class PlaybackDone:
    leg: str
    prompt: str


MediaEvent = Digit | MediaTimeout | PlaybackDone


class Recorder(Protocol):
    """Where recorded audio goes (media.recorder.RecordingWriter)."""

    def write(self, left: np.ndarray | None, right: np.ndarray | None) -> None: ...


@dataclass(slots=True)
class Player:
    """A prompt or hold music playing to a leg, frame by frame."""

    name: str
    frames: Sequence[bytes]
    loop: bool
    index: int = 0


@dataclass(slots=True)
class Track:
    """One channel of a recording: what a leg sent, played out at the clock's pace."""

    pending: np.ndarray = field(default_factory=lambda: _NO_AUDIO)
    primed: bool = False

    def take(self, due: int) -> np.ndarray:
        """Exactly ``due`` samples: the oldest waiting, silence where none is."""
        pending = self.pending
        if not self.primed:
            if pending.size < due + RECORD_LATENCY:
                return np.zeros(due, np.int16)
            self.primed = True
        if pending.size > due + RECORD_BACKLOG:
            pending = pending[pending.size - due - RECORD_LATENCY:]
        out, self.pending = pending[:due], pending[due:]
        if out.size < due:  # underrun (loss, or the phone stopped): build up again
            self.primed = False
            out = np.concatenate([out, np.zeros(due - out.size, np.int16)])
        return out


@dataclass(slots=True)
class Leg:
    """One side of the call as the switch sees it."""

    name: str
    ssrc: int
    config: LegConfig | None = None
    latch: SourceLatch = field(default_factory=lambda: SourceLatch(None))
    out: OutgoingStream | None = None
    stats: ReceiveStats = field(default_factory=ReceiveStats)
    dtmf: DtmfReceiver = field(default_factory=DtmfReceiver)
    inband: InbandDetector | None = None
    player: Player | None = None
    held: bool = False  # the other side put this leg on hold: it hears music
    last_rx: float | None = None
    packets_in: int = 0
    packets_out: int = 0
    reported_out: int = 0  # packets_out at the last RTCP report
    # Payloads (in the leg's codec) heard since the last tick: decoded once
    # per tick for the recording, not once per packet.
    heard: list[bytes] = field(default_factory=list)
    track: Track = field(default_factory=Track)  # its channel of a recording

    @property
    def target(self) -> Address | None:
        return self.latch.target
