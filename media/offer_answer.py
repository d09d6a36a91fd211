"""SDP offer/answer for an anchoring B2BUA (RFC 3264 §5, §6, §7, §8).

The switch never forwards a peer's SDP: on each leg it offers or answers with
its own description (own origin, address and port, codecs limited to
:class:`LocalCodecs`). :func:`answer` follows §6: one ``m=`` line per offered
line in the same order, the first usable audio stream accepted with the first
offered codec we support (offerer's order and payload type numbers kept) plus
telephone-event, every other stream rejected with port 0, the direction
mirrored as §6.1 requires. :func:`accept_answer` checks an answer to our offer
(§7); :func:`common_codec` tells, without building an answer, whether one
can be made. :class:`Origin` keeps one leg's ``o=`` line: same session id, version
incremented only when the SDP sent on that leg changes (§8). A stream marked
sendonly or inactive, or an RFC 2543 ``c=0.0.0.0``, puts the other side on hold
(§8.4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from media.sdp import (
    Attribute,
    Connection,
    MediaDescription,
    OriginLine,
    RtpMap,
    SdpError,
    SessionDescription,
    Timing,
)

# Direction attribute -> (this side sends, this side receives).
DIRECTION_FLAGS: dict[str, tuple[bool, bool]] = {
    "sendrecv": (True, True), "sendonly": (True, False),
    "recvonly": (False, True), "inactive": (False, False),
}
_DIRECTION_NAMES = {flags: name for name, flags in DIRECTION_FLAGS.items()}
RTP_PROFILES = frozenset({"RTP/AVP"})
NOT_ACCEPTABLE = 488
HOLD_ADDRESS = "0.0.0.0"
TELEPHONE_EVENT = "telephone-event"


@dataclass(frozen=True, slots=True)
class LocalCodecs:
    """What the switch can send and receive, in order of preference."""

    audio: tuple[RtpMap, ...] = (RtpMap(0, "PCMU", 8000), RtpMap(8, "PCMA", 8000))
    telephone_event_pt: int | None = 101
    telephone_event_fmtp: str = "0-16"
    ptime: int = 20

    def find(self, codec: RtpMap) -> RtpMap | None:
        """Our entry for ``codec`` (matched by encoding/clock/channels, not PT)."""
        return next((ours for ours in self.audio if ours.same_codec(codec)), None)

    def ordered_like(self, sd: SessionDescription) -> LocalCodecs:
        """Our codecs reordered to follow ``sd``'s audio stream (ours it lacks go
        last) and its telephone-event payload type, for the offer to the other
        leg: when both legs pick the same codec nothing needs transcoding."""
        stream = audio_stream(sd)
        if stream is None:
            return self
        offered = [c for c in (stream.codec(pt) for pt in stream.payload_types()) if c]
        first = [ours for c in offered if (ours := self.find(c)) is not None]
        rest = [c for c in self.audio if c not in first]
        te = _telephone_event(stream, 8000)
        return replace(self, audio=tuple(dict.fromkeys(first + rest)),
                       telephone_event_pt=te.pt if te and self.telephone_event_pt is not None
                       else self.telephone_event_pt)


@dataclass(frozen=True, slots=True)
class Negotiated:
    """The outcome of one leg's offer/answer, as the media engine needs it.

    ``send_pt`` is the number the peer gave the codec (what we put in RTP
    headers we send), ``recv_pt`` the number in our own SDP (what the peer puts
    in RTP it sends us); RFC 3264 §5.1. ``remote_direction`` is what the peer
    declared (c=0.0.0.0 folded in), ``local_direction`` what we may do.
    """

    remote_address: str
    remote_rtp_port: int
    remote_rtcp_port: int
    rtcp_mux: bool
    codec: str
    clock_rate: int
    send_pt: int
    recv_pt: int
    telephone_event_pt: int | None
    telephone_event_recv_pt: int | None
    remote_direction: str
    local_direction: str
    ptime: int

    @property
    def sends(self) -> bool:
        """We should send RTP: our direction allows it and the peer can receive."""
        return (DIRECTION_FLAGS[self.local_direction][0] and self.remote_rtp_port != 0
                and self.remote_address not in (HOLD_ADDRESS, "::"))

    @property
    def receives(self) -> bool:
        """The peer may send us RTP."""
        return DIRECTION_FLAGS[self.local_direction][1]

    @property
    def on_hold(self) -> bool:
        """The peer holds us: it declared sendonly or inactive (§8.4)."""
        return not DIRECTION_FLAGS[self.remote_direction][1]


class Origin:
    """One leg's ``o=`` line (RFC 3264 §8): the session id never changes; the
    version is incremented by one each time the SDP stamped for that leg
    differs from the previous one, and kept when it is identical."""

    __slots__ = ("_last", "address", "sess_id", "username", "version")

    def __init__(self, sess_id: int, address: str, username: str = "-",
                 version: int = 0) -> None:
        self.sess_id = sess_id
        self.address = address
        self.username = username
        self.version = version
        self._last: bytes | None = None

    def line(self) -> OriginLine:
        """The ``o=`` value for the current version."""
        conn = Connection.for_address(self.address)
        return OriginLine(self.username, self.sess_id, self.version,
                          conn.nettype, conn.addrtype, self.address)

    def stamp(self, sd: SessionDescription) -> SessionDescription:
        """``sd`` with this leg's origin, the version bumped if ``sd`` changed."""
        stamped = replace(sd, origin=self.line())
        body = bytes(stamped)
        if self._last is not None and body != self._last:
            self.version += 1
            stamped = replace(sd, origin=self.line())
            body = bytes(stamped)
        self._last = body
        return stamped


def audio_stream(sd: SessionDescription) -> MediaDescription | None:
    """The first ``m=audio`` stream with a non-zero port, or None."""
    return next((md for md in sd.media if md.media == "audio" and md.port != 0), None)


def effective_direction(sd: SessionDescription, md: MediaDescription) -> str:
    """``md``'s direction with RFC 2543 hold folded in: a peer at c=0.0.0.0
    cannot receive, so only its sending side remains (§8.4)."""
    send, recv = DIRECTION_FLAGS[sd.direction_for(md)]
    conn = sd.connection_for(md)
    if conn is not None and conn.host == HOLD_ADDRESS:
        recv = False
    return _DIRECTION_NAMES[(send, recv)]


def direction_of(sd: SessionDescription) -> str:
    """The effective direction of the audio stream (sendrecv if there is none)."""
    md = audio_stream(sd)
    return "sendrecv" if md is None else effective_direction(sd, md)


def is_hold(sd: SessionDescription) -> bool:
    """The sender of ``sd`` holds its peer: audio is sendonly or inactive, or
    sits at c=0.0.0.0 (§8.4)."""
    return not DIRECTION_FLAGS[direction_of(sd)][1]


def answer_direction(offered: str, policy: str = "sendrecv") -> str:
    """§6.1: we may send only what the offerer receives and receive only what
    it sends; ``policy`` is the most we want (sendrecv unless we hold)."""
    off_send, off_recv = DIRECTION_FLAGS[offered]
    our_send, our_recv = DIRECTION_FLAGS[policy]
    return _DIRECTION_NAMES[(off_recv and our_send, off_send and our_recv)]


def make_offer(codecs: LocalCodecs, address: str, port: int, origin: Origin,
               direction: str = "sendrecv", *, rtcp_mux: bool = False) -> SessionDescription:
    """The switch's own offer for a leg: one audio stream with our codecs."""
    te = (RtpMap(codecs.telephone_event_pt, TELEPHONE_EVENT, 8000, 1)
          if codecs.telephone_event_pt is not None else None)
    md = _audio_section(port, codecs.audio, te, codecs.telephone_event_fmtp,
                        codecs.ptime, direction, rtcp_mux)
    sd = SessionDescription(origin=origin.line(),
                            connection=Connection.for_address(address), media=(md,))
    return origin.stamp(sd)


def answer(offer: SessionDescription, codecs: LocalCodecs, address: str, port: int,
           origin: Origin, direction_policy: str = "sendrecv", *,
           rtcp_mux: bool = False) -> tuple[SessionDescription, Negotiated]:
    """Answer ``offer`` with the switch's own SDP (§6) and say what was agreed.

    Raises :class:`SdpError` with ``status_hint`` 488 when no audio stream can
    be accepted (none offered over RTP/AVP, or no codec in common).
    """
    index, stream = _acceptable_audio(offer)
    codec = _first_supported(stream, codecs)
    te = (_telephone_event(stream, codec.clock_rate)
          if codecs.telephone_event_pt is not None else None)
    fmtp = stream.fmtp().get(te.pt, "") if te else ""
    remote_direction = effective_direction(offer, stream)
    local_direction = answer_direction(remote_direction, direction_policy)
    mux = rtcp_mux and stream.rtcp_mux
    media = tuple(
        _audio_section(port, (codec,), te, fmtp, codecs.ptime, local_direction, mux)
        if i == index else _rejected(md) for i, md in enumerate(offer.media))
    sd = SessionDescription(origin=origin.line(), connection=Connection.for_address(address),
                            timing=offer.timing or (Timing(0, 0),), media=media)
    negotiated = _negotiated(offer, stream, codec, codec.pt, te, te, remote_direction,
                             local_direction, mux)
    return origin.stamp(sd), negotiated


def common_codec(offer: SessionDescription, codecs: LocalCodecs) -> RtpMap:
    """The codec :func:`answer` would accept from ``offer`` (offerer's PT), found
    without building the answer; raises the same :class:`SdpError` (488) when
    no audio stream can be accepted. Checks an offer before any phone rings."""
    _, stream = _acceptable_audio(offer)
    return _first_supported(stream, codecs)


def accept_answer(offer: SessionDescription, answer: SessionDescription) -> Negotiated:
    """Check the peer's answer to our ``offer`` (§6, §7) and say what was agreed.

    The answer must have as many ``m=`` lines as the offer, accept our audio
    stream and name one of the codecs we offered; otherwise :class:`SdpError`
    (488). Directions beyond what §6.1 allows are clamped, not refused.
    """
    if len(answer.media) != len(offer.media):
        raise SdpError(f"answer has {len(answer.media)} m= lines, the offer had "
                       f"{len(offer.media)} (RFC 3264 §6)", NOT_ACCEPTABLE)
    index, ours = _acceptable_audio(offer)
    theirs = answer.media[index]
    if theirs.media != "audio" or theirs.port == 0:
        raise SdpError(f"answer rejected the audio stream (m={theirs.media} {theirs.port})",
                       NOT_ACCEPTABLE)
    send, recv = _answered_codec(ours, theirs)
    te_send = _telephone_event(theirs, send.clock_rate)
    te_recv = _telephone_event(ours, send.clock_rate)
    if te_send is None or te_recv is None:
        te_send = te_recv = None
    remote_direction = effective_direction(answer, theirs)
    offered_send, offered_recv = DIRECTION_FLAGS[offer.direction_for(ours)]
    their_send, their_recv = DIRECTION_FLAGS[remote_direction]
    local = _DIRECTION_NAMES[(offered_send and their_recv, offered_recv and their_send)]
    mux = ours.rtcp_mux and theirs.rtcp_mux
    return _negotiated(answer, theirs, send, recv.pt, te_send, te_recv,
                       remote_direction, local, mux)


def _acceptable_audio(sd: SessionDescription) -> tuple[int, MediaDescription]:
    for index, md in enumerate(sd.media):
        if md.media == "audio" and md.port != 0 and md.proto in RTP_PROFILES:
            return index, md
    raise SdpError("no audio stream over RTP/AVP offered", NOT_ACCEPTABLE)


def _first_supported(stream: MediaDescription, codecs: LocalCodecs) -> RtpMap:
    """The first offered codec we support, under the offerer's PT number."""
    for pt in stream.payload_types():
        offered = stream.codec(pt)
        if offered is not None and codecs.find(offered) is not None:
            return offered
    names = ", ".join(c.encoding for c in codecs.audio)
    raise SdpError(f"no offered codec is one of ours ({names})", NOT_ACCEPTABLE)


def _telephone_event(stream: MediaDescription, clock_rate: int) -> RtpMap | None:
    """The listed telephone-event format at ``clock_rate`` (RFC 4733), or None."""
    for pt in stream.payload_types():
        fmt = stream.codec(pt)
        if fmt and fmt.encoding.lower() == TELEPHONE_EVENT and fmt.clock_rate == clock_rate:
            return fmt
    return None


def _answered_codec(ours: MediaDescription, theirs: MediaDescription) -> tuple[RtpMap, RtpMap]:
    """(codec as the answer numbers it, same codec as our offer numbers it)."""
    offered = [c for c in (ours.codec(pt) for pt in ours.payload_types()) if c]
    for pt in theirs.payload_types():
        fmt = theirs.codec(pt)
        mine = next((c for c in offered if fmt and c.same_codec(fmt)), None)
        if fmt and mine and fmt.encoding.lower() != TELEPHONE_EVENT:
            return fmt, mine
    raise SdpError(f"answer names no codec we offered: {' '.join(theirs.formats)}",
                   NOT_ACCEPTABLE)


def _audio_section(port: int, audio: tuple[RtpMap, ...], te: RtpMap | None, te_fmtp: str,
                   ptime: int, direction: str, rtcp_mux: bool) -> MediaDescription:
    formats = [*audio, *([te] if te else [])]
    attributes = [Attribute("rtpmap", str(f)) for f in formats]
    if te and te_fmtp:
        attributes.append(Attribute("fmtp", f"{te.pt} {te_fmtp}"))
    attributes += [Attribute("ptime", str(ptime)), *([Attribute("rtcp-mux")] if rtcp_mux
                                                     else []), Attribute(direction)]
    return MediaDescription("audio", port, "RTP/AVP", tuple(str(f.pt) for f in formats),
                            attributes=tuple(attributes))


def _rejected(md: MediaDescription) -> MediaDescription:
    """§6: a refused stream keeps its media, proto and formats with port 0."""
    return MediaDescription(md.media, 0, md.proto, md.formats or ("0",))


def _negotiated(remote: SessionDescription, md: MediaDescription, codec: RtpMap,
                recv_pt: int, te_send: RtpMap | None, te_recv: RtpMap | None,
                remote_direction: str, local_direction: str, mux: bool) -> Negotiated:
    conn = remote.connection_for(md)
    rtcp = md.port if mux else (md.rtcp_port or md.port + 1)
    return Negotiated(
        remote_address=conn.host if conn else HOLD_ADDRESS, remote_rtp_port=md.port,
        remote_rtcp_port=rtcp, rtcp_mux=mux, codec=codec.encoding.upper(),
        clock_rate=codec.clock_rate, send_pt=codec.pt, recv_pt=recv_pt,
        telephone_event_pt=te_send.pt if te_send else None,
        telephone_event_recv_pt=te_recv.pt if te_recv else None,
        remote_direction=remote_direction, local_direction=local_direction,
        ptime=md.ptime or 20)
