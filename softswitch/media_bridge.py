"""The SDP of a call whose media the switch anchors (F-MEDIA-1).

Each leg sees only the switch's own session description: its own address,
the port of that leg's socket pair, codecs limited to PCMU/PCMA and
telephone-event. The caller's offer picks the codec order offered to the
callee, so both legs usually agree and nothing is transcoded; when they do
not, the media worker transcodes. A re-INVITE or UPDATE is answered here,
never forwarded: hold (sendonly/inactive, or c=0.0.0.0) makes the other
party hear hold music instead of silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from media.offer_answer import (
    LocalCodecs,
    Negotiated,
    Origin,
    accept_answer,
    answer,
    common_codec,
    is_hold,
    make_offer,
)
from media.sdp import SdpError, SessionDescription
from media.session import LegConfig
from media.transport.engine import MediaCall

log = logging.getLogger(__name__)

CODECS = LocalCodecs()
SIDES = ("a", "b")


def other(side: str) -> str:
    return "b" if side == "a" else "a"


def config_of(negotiated: Negotiated) -> LegConfig:
    remote = ((negotiated.remote_address, negotiated.remote_rtp_port)
              if negotiated.remote_rtp_port and negotiated.remote_address not in ("0.0.0.0", "::")
              else None)
    return LegConfig(remote, negotiated.codec, negotiated.send_pt, negotiated.recv_pt,
                     negotiated.telephone_event_pt, negotiated.telephone_event_recv_pt,
                     negotiated.remote_rtcp_port or None)


@dataclass
class MediaBridge:
    """SDP and media orders of one call; side "a" is the caller, "b" the callee."""

    media: MediaCall
    session_id: int
    language: str = "en"
    inband_dtmf: str = "auto"
    codecs: LocalCodecs = CODECS
    ports: dict[str, int] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    sent_offer: dict[str, SessionDescription] = field(default_factory=dict)
    got_offer: dict[str, SessionDescription] = field(default_factory=dict)
    holding: dict[str, bool] = field(default_factory=dict)
    recording: Path | None = None

    def _port(self, side: str) -> int:
        port = self.ports.get(side)
        if port is None:
            port = self.ports[side] = self.media.add_leg(side)
            self.origins[side] = Origin(self.session_id + (side == "b"), self.media.address,
                                        username="softswitch")
        return port

    def caller_offered(self, body: bytes) -> None:
        """The caller's INVITE body: an offer, or nothing (late offer).
        Raises :class:`SdpError` (400 unparsable, 488 nothing in common)."""
        if not body:
            return
        offer = SessionDescription.parse(body)
        # Fail now, before any phone rings, when no codec is in common.
        common_codec(offer, self.codecs)
        self.got_offer["a"] = offer
        self.codecs = self.codecs.ordered_like(offer)

    @property
    def caller_has_offer(self) -> bool:
        return "a" in self.got_offer

    def offer_for(self, side: str) -> bytes:
        """Our offer on ``side``'s port (every fork of the callee shares it)."""
        port = self._port(side)
        offer = make_offer(self.codecs, self.media.address, port, self.origins[side])
        self.sent_offer[side] = offer
        return bytes(offer)

    def answered(self, side: str, body: bytes) -> None:
        """The answer to our offer on ``side`` (a 183/200, or the caller's ACK)."""
        offer = self.sent_offer.get(side)
        if offer is None or not body:
            return
        negotiated = accept_answer(offer, SessionDescription.parse(body))
        self._configure(side, negotiated)

    def answer_for(self, side: str) -> bytes:
        """Our answer to the offer ``side`` made (the caller's INVITE)."""
        return self._answer(side, self.got_offer[side])

    def _answer(self, side: str, offer: SessionDescription) -> bytes:
        port = self._port(side)
        sd, negotiated = answer(offer, self.codecs, self.media.address, port,
                                self.origins[side])
        self._configure(side, negotiated)
        return bytes(sd)

    def _configure(self, side: str, negotiated: Negotiated) -> None:
        config = config_of(negotiated)
        self.media.configure(side, config)
        inband = self.inband_dtmf == "always" or (
            self.inband_dtmf == "auto" and config.te_recv is None)
        self.media.detect_inband(side, inband)

    def reoffer(self, side: str, body: bytes) -> bytes:
        """A mid-call offer from ``side`` (hold, unhold, new address), answered
        here; raises :class:`SdpError` when it cannot be accepted."""
        offer = SessionDescription.parse(body)
        reply = self._answer(side, offer)
        holding = is_hold(offer)
        if holding != self.holding.get(side, False):
            self.holding[side] = holding
            self.media.hold(other(side), holding, self.language)
            log.info("call %s: %s %s the other party", self.media.call_id, side,
                     "holds" if holding else "resumes")
        return reply

    def replaced(self, side: str) -> None:
        """A new party took ``side`` (transfer): a hold it had placed ends."""
        if self.holding.pop(side, False):
            self.media.hold(other(side), False, self.language)

    def play(self, side: str, prompt: str, loop: bool = False) -> None:
        self.media.play(side, prompt, self.language, loop)

    def stop_play(self, side: str) -> None:
        self.media.stop_play(side)

    def record(self, path: Path) -> None:
        self.recording = path
        self.media.record(path)

    def close(self) -> None:
        self.media.close()


__all__ = ["MediaBridge", "SdpError", "config_of", "other"]
