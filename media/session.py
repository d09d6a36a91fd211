"""The media of one call: two anchored legs, relay, playback, recording, DTMF.

Sans-IO: :meth:`CallMedia.receive` takes an RTP datagram of a leg and
returns datagrams to send; :meth:`CallMedia.tick` runs every 20 ms for
players and the recorder; events (DTMF digits, media timeouts, finished
prompts) queue up for :meth:`CallMedia.next_event`.

What goes to a leg is one continuous RTP stream (RFC 3550 §5.1) whatever
feeds it: the other phone's packets (relayed, re-numbered, transcoded
between PCMU and PCMA by table when the legs differ), a prompt or hold
music. A relayed call with no recording, no detection and matching codecs
touches only the RTP header (the fast path).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import numpy as np

from media.codecs import CODECS, transcode_table
from media.dtmf import InbandDetector
from media.errors import InvalidPacket, MediaError
from media.latch import SourceLatch
from media.legs import (
    FRAME,
    RATE,
    RECORD_BACKLOG,
    RECORD_LATENCY,
    Address,
    Digit,
    Leg,
    LegConfig,
    MediaEvent,
    MediaTimeout,
    PlaybackDone,
    Player,
    Recorder,
    Track,
)
from media.rtcp import (
    ReceiverReport,
    SenderReport,
    SourceDescription,
    build_compound,
    ntp_timestamp,
    parse_compound,
)
from media.rtp import OutgoingStream, is_rtcp, payload_of, peek, rewrite_header

__all__ = ["FRAME", "RATE", "RECORD_BACKLOG", "RECORD_LATENCY", "Address", "CallMedia",
           "Digit", "Leg", "LegConfig", "MediaEvent", "MediaTimeout", "PlaybackDone",
           "Recorder"]


class CallMedia:
    """Media state of one call: legs by name ("a" caller, "b" callee)."""

    def __init__(self, call_id: str, ssrcs: Callable[[], int], *,
                 rtp_timeout: float = 60.0) -> None:
        self.call_id = call_id
        self.rtp_timeout = rtp_timeout
        self._ssrcs = ssrcs
        self.legs: dict[str, Leg] = {}
        self.bridged = True
        self.recorder: Recorder | None = None
        self._record_start: float | None = None
        self._recorded = 0  # samples per channel written since _record_start
        self._events: deque[MediaEvent] = deque()
        self._timed_out: set[str] = set()

    # -- control --------------------------------------------------------------

    def add_leg(self, name: str) -> Leg:
        leg = Leg(name, self._ssrcs())
        self.legs[name] = leg
        return leg

    def configure(self, name: str, config: LegConfig, now: float) -> None:
        leg = self.legs[name]
        first = leg.config is None
        leg.config = config
        if first:
            leg.latch = SourceLatch(config.remote)
        elif config.remote is not None:
            leg.latch.expect(config.remote)
        if leg.out is None:
            leg.out = OutgoingStream(leg.ssrc, self._ssrcs() & 0xFFFF, self._ssrcs())
        if leg.last_rx is None:
            leg.last_rx = now

    def detect_inband(self, name: str, on: bool = True) -> None:
        self.legs[name].inband = InbandDetector() if on else None

    def play(self, name: str, prompt: str, frames: Sequence[bytes], loop: bool = False) -> None:
        """Send ``frames`` (already in the leg's codec) to leg ``name``."""
        self.legs[name].player = Player(prompt, frames, loop) if frames else None

    def stop_play(self, name: str) -> None:
        self.legs[name].player = None

    def hold(self, name: str, frames: Sequence[bytes] | None) -> None:
        """Leg ``name`` is put on hold (its peer stops sending to it): it
        hears ``frames`` looped; ``None`` takes it off hold."""
        leg = self.legs[name]
        leg.held = frames is not None
        leg.player = Player("hold_music", frames, True) if frames else None

    @property
    def has_events(self) -> bool:
        return bool(self._events)

    def next_event(self) -> MediaEvent | None:
        return self._events.popleft() if self._events else None

    # -- packets ----------------------------------------------------------------

    def receive(self, name: str, data: bytes, source: Address, now: float
                ) -> tuple[bytes, Address] | None:
        """An RTP datagram from leg ``name``; returns what to relay, if anything."""
        header = peek(data)
        if header is None or is_rtcp(data):
            return None
        try:
            payload = payload_of(data)
        except InvalidPacket:
            return None  # CSRCs, extension or padding that do not fit the datagram
        leg = self.legs[name]
        pt, seq, ts, ssrc = header
        if not leg.latch.seen(source, ssrc, now):
            return None
        leg.last_rx = now
        leg.packets_in += 1
        # Statistics only count: a packet still on A.1 probation is relayed
        # all the same (dropping the first 20 ms of every stream helps no one).
        leg.stats.update(seq, ts, ssrc, now)
        config = leg.config
        if config is None:
            return None
        if pt == config.te_recv:
            return self._dtmf(leg, data, payload, seq, ts, ssrc)
        if pt != config.recv_pt:
            return None  # comfort noise or a codec we did not negotiate
        if self.recorder is not None:
            leg.heard.append(payload)
        if leg.inband is not None:
            for digit in leg.inband.feed(CODECS[config.codec].decode(payload)):
                self._events.append(Digit(name, digit, "inband"))
        return self._relay(leg, data, payload, config.codec, seq, ts, ssrc)

    def _peer(self, leg: Leg) -> Leg | None:
        for other in self.legs.values():
            if other is not leg:
                return other
        return None

    def _relay(self, leg: Leg, data: bytes, payload: bytes, codec: str, seq: int, ts: int,
               ssrc: int) -> tuple[bytes, Address] | None:
        peer = self._peer(leg)
        if (peer is None or not self.bridged or peer.held or peer.player is not None
                or peer.config is None or peer.out is None or leg.held):
            # leg.held: the peer put it on hold with sendonly/inactive and was
            # answered recvonly/inactive, so it must be sent nothing (RFC 3264 §6.1)
            return None
        target = peer.target
        if target is None:
            return None
        pt = peer.config.send_pt
        out_seq, out_ts = peer.out.forward(pt, seq, ts, ssrc, bool(data[1] & 0x80))
        marker = peer.out.marker
        peer_codec = peer.config.codec
        if peer_codec != codec:
            table = transcode_table(codec, peer_codec)
            if table is None:
                return None
            # CSRCs, extension and padding stay behind: a plain fixed header
            packet = rewrite_header(_HEADER_TEMPLATE, pt, out_seq, out_ts, peer.ssrc,
                                    marker) + payload.translate(table)
        else:
            packet = rewrite_header(data, pt, out_seq, out_ts, peer.ssrc, marker)
        peer.packets_out += 1
        return packet, target

    def _dtmf(self, leg: Leg, data: bytes, payload: bytes, seq: int, ts: int, ssrc: int
              ) -> tuple[bytes, Address] | None:
        for digit in leg.dtmf.receive(payload, ts, seq, ssrc):
            self._events.append(Digit(leg.name, digit, "rfc4733"))
        peer = self._peer(leg)
        if (peer is None or not self.bridged or peer.held or peer.player is not None
                or leg.held or peer.config is None or peer.config.te_send is None
                or peer.out is None or peer.target is None):
            return None  # as for audio (_relay); a prompt's frames would split the event
        pt = peer.config.te_send
        out_seq, out_ts = peer.out.forward(pt, seq, ts, ssrc, bool(data[1] & 0x80))
        return rewrite_header(data, pt, out_seq, out_ts, peer.ssrc), peer.target

    # -- the 20 ms clock ------------------------------------------------------------

    def tick(self, now: float) -> list[tuple[str, bytes, Address]]:
        """Players send a frame (from the leg named first in each item), the
        recorder takes what was heard, silent legs are reported."""
        out: list[tuple[str, bytes, Address]] = []
        for leg in self.legs.values():
            packet = self._play_frame(leg)
            if packet is not None:
                out.append((leg.name, *packet))
            self._check_timeout(leg, now)
        if self.recorder is not None:
            self._record(now)
        return out

    def _play_frame(self, leg: Leg) -> tuple[bytes, Address] | None:
        player = leg.player
        if player is None or leg.config is None or leg.out is None or leg.target is None:
            return None
        if player.index >= len(player.frames):
            if not player.loop:
                leg.player = None
                self._events.append(PlaybackDone(leg.name, player.name))
                return None
            player.index = 0
        frame = player.frames[player.index]
        player.index += 1
        seq, ts = leg.out.next_frame(FRAME)
        header = rewrite_header(_HEADER_TEMPLATE, leg.config.send_pt, seq, ts, leg.ssrc,
                                leg.out.marker)
        leg.packets_out += 1
        return header + frame, leg.target

    def _check_timeout(self, leg: Leg, now: float) -> None:
        if leg.last_rx is None or self.rtp_timeout <= 0 or leg.name in self._timed_out:
            return
        peer = self._peer(leg)
        if peer is not None and peer.held:
            leg.last_rx = now  # the holder may stop sending: that is not a dead call
            return
        silent = now - leg.last_rx
        if silent >= self.rtp_timeout:
            self._timed_out.add(leg.name)
            self._events.append(MediaTimeout(leg.name, silent))

    def receive_rtcp(self, name: str, data: bytes, now: float) -> None:
        """Note a leg's sender reports, so our report blocks carry LSR/DLSR."""
        try:
            packets = parse_compound(data)
        except MediaError:
            return  # malformed RTCP is dropped; the call goes on
        stats = self.legs[name].stats
        for packet in packets:
            if isinstance(packet, SenderReport):
                stats.sender_report(packet.ssrc, packet.ntp_timestamp, now)

    def rtcp_reports(self, now: float, wall: float) -> list[tuple[str, bytes, Address]]:
        """One RTCP compound per leg (RFC 3550 §6.4): a sender report when we
        sent to the leg since the last report, else a receiver report, with a
        report block about what the leg sends us (loss, jitter) and our CNAME.
        ``wall`` is the Unix time for the NTP timestamp."""
        out: list[tuple[str, bytes, Address]] = []
        for leg in self.legs.values():
            target, config = leg.target, leg.config
            if target is None or config is None or leg.out is None:
                continue
            port = config.rtcp_port or target[1] + 1
            source = leg.stats.ssrc
            block = leg.stats.report_block(source, now) if source is not None else None
            blocks = (block,) if block is not None else ()
            report: SenderReport | ReceiverReport
            if leg.packets_out > leg.reported_out:
                report = SenderReport(leg.ssrc, ntp_timestamp(wall), leg.out.last_timestamp,
                                      leg.packets_out & 0xFFFFFFFF,
                                      (leg.packets_out * FRAME) & 0xFFFFFFFF, blocks)
            else:
                report = ReceiverReport(leg.ssrc, blocks)
            leg.reported_out = leg.packets_out
            sdes = SourceDescription.cname(leg.ssrc, f"softswitch-{self.call_id[:12]}")
            out.append((leg.name, build_compound([report, sdes]), (target[0], port)))
        return out

    def start_recording(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._record_start, self._recorded = None, 0
        for leg in self.legs.values():
            leg.heard.clear()
            leg.track = Track()

    def stop_recording(self, now: float | None = None) -> Recorder | None:
        """Stop recording; with ``now``, first write what the clock owes up to
        then (the recorder may be ticked only every few frames)."""
        if now is not None and self.recorder is not None:
            self._record(now)
        recorder, self.recorder = self.recorder, None
        return recorder

    def _record(self, now: float) -> None:
        """Write the samples the clock owes since the recording began (about
        one frame a tick), each side from its track: the channels keep the
        call's timeline whether or not packets arrived in this very tick."""
        assert self.recorder is not None
        if self._record_start is None:
            self._record_start = now
        due = round((now - self._record_start) * RATE) - self._recorded
        for leg in self.legs.values():
            if leg.heard and leg.config is not None:
                pcm = CODECS[leg.config.codec].decode(b"".join(leg.heard))
                leg.track.pending = np.concatenate([leg.track.pending, pcm])
                leg.heard.clear()
        if due <= 0:
            return
        self._recorded += due
        a, b = self.legs.get("a"), self.legs.get("b")
        self.recorder.write(a.track.take(due) if a is not None else None,
                            b.track.take(due) if b is not None else None)


# A v2 RTP header with no CSRC or extension, rewritten per locally made frame.
_HEADER_TEMPLATE = b"\x80\x00" + b"\x00" * 10
