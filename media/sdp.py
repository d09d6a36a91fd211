"""SDP session descriptions (RFC 4566 §5): model and serialiser.

Tolerant where phones are sloppy (LF-only line ends, empty ``s=``, lines of
unknown type kept in order), strict where §5 is: ``v=0`` first, ``o=`` and
``s=`` present, well-formed ``o= c= b= t= m=``, and a ``c=`` at media or
session level for every stream with a non-zero port (§5.7). Serialisation
writes CRLF lines in §5 order, so bodies in that order round-trip byte for
byte. Helpers: rtpmap, fmtp, ptime (§6), direction (sendrecv by default),
rtcp (RFC 3605), rtcp-mux (RFC 5761). The parser is
:mod:`media.sdp_parser` (``SessionDescription.parse`` and :data:`parse`
call it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from media.errors import MediaError

Line = tuple[str, str]
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")

# RFC 3551 §6 static audio payload types, for formats listed without rtpmap.
STATIC_PAYLOAD_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("PCMU", 8000, 1), 3: ("GSM", 8000, 1), 4: ("G723", 8000, 1),
    5: ("DVI4", 8000, 1), 6: ("DVI4", 16000, 1), 7: ("LPC", 8000, 1),
    8: ("PCMA", 8000, 1), 9: ("G722", 8000, 1), 10: ("L16", 44100, 2),
    11: ("L16", 44100, 1), 12: ("QCELP", 8000, 1), 13: ("CN", 8000, 1),
    14: ("MPA", 90000, 1), 15: ("G728", 8000, 1), 16: ("DVI4", 11025, 1),
    17: ("DVI4", 22050, 1), 18: ("G729", 8000, 1),
}


class SdpError(MediaError):
    """SDP that cannot be parsed (``status_hint`` 400) or negotiated (488)."""

    def __init__(self, message: str, status_hint: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_hint = status_hint


@dataclass(frozen=True, slots=True)
class OriginLine:
    """``o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>``."""

    username: str
    sess_id: int
    sess_version: int
    nettype: str
    addrtype: str
    address: str

    def __str__(self) -> str:
        return " ".join(str(v) for v in (self.username, self.sess_id, self.sess_version,
                                          self.nettype, self.addrtype, self.address))


@dataclass(frozen=True, slots=True)
class Connection:
    """``c=<nettype> <addrtype> <connection-address>`` (address may carry /ttl)."""

    nettype: str
    addrtype: str
    address: str

    @classmethod
    def for_address(cls, address: str) -> Connection:
        """``IN IP6`` for an IPv6 literal, ``IN IP4`` otherwise."""
        return cls("IN", "IP6" if ":" in address else "IP4", address)

    @property
    def host(self) -> str:
        """The address without a multicast ``/ttl/count`` suffix."""
        return self.address.split("/", 1)[0]

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Bandwidth:
    """``b=<bwtype>:<bandwidth>`` (kbit/s for AS and CT, bit/s for TIAS)."""

    bwtype: str
    bandwidth: int

    def __str__(self) -> str:
        return f"{self.bwtype}:{self.bandwidth}"


@dataclass(frozen=True, slots=True)
class Timing:
    """``t=<start-time> <stop-time>`` (NTP seconds, 0 0 for unbounded)."""

    start: int
    stop: int

    def __str__(self) -> str:
        return f"{self.start} {self.stop}"


@dataclass(frozen=True, slots=True)
class Attribute:
    """``a=<name>`` (a flag, ``value`` None) or ``a=<name>:<value>``."""

    name: str
    value: str | None = None

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class RtpMap:
    """One payload format: ``a=rtpmap:<pt> <encoding>/<clock>[/<channels>]``."""

    pt: int
    encoding: str
    clock_rate: int
    channels: int = 1

    def __str__(self) -> str:
        tail = f"/{self.channels}" if self.channels != 1 else ""
        return f"{self.pt} {self.encoding}/{self.clock_rate}{tail}"

    def same_codec(self, other: RtpMap) -> bool:
        """Same encoding (case-insensitive), clock rate and channels."""
        return (self.encoding.lower() == other.encoding.lower()
                and self.clock_rate == other.clock_rate and self.channels == other.channels)


def digits(text: str) -> bool:
    """``text`` is a non-empty run of ASCII digits (RFC 4566's DIGIT): other
    Unicode digits pass ``str.isdigit`` but ``int`` refuses some of them."""
    return text.isascii() and text.isdigit()


def _values(attributes: tuple[Attribute, ...], name: str) -> tuple[str, ...]:
    return tuple(a.value or "" for a in attributes if a.name == name)


def _direction(attributes: tuple[Attribute, ...]) -> str | None:
    return next((a.name for a in attributes if a.name in DIRECTIONS and a.value is None), None)


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One ``m=<media> <port>[/<count>] <proto> <fmt> ...`` section; ``other``
    keeps its ``i=``, ``k=`` and lines of unknown type in order."""

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    port_count: int | None = None
    connection: Connection | None = None
    bandwidths: tuple[Bandwidth, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    other: tuple[Line, ...] = ()
    # The rtpmap lines parsed once: offer/answer asks for a codec per format.
    _rtpmaps: dict[int, RtpMap] | None = field(default=None, init=False, repr=False,
                                               compare=False)

    def attribute(self, name: str) -> str | None:
        """Value of the first ``a=name:value`` ('' for a flag), or None."""
        values = _values(self.attributes, name)
        return values[0] if values else None

    def rtpmaps(self) -> dict[int, RtpMap]:
        """Explicit ``a=rtpmap`` lines by payload type (malformed ones skipped)."""
        return dict(self._parsed_rtpmaps())

    def _parsed_rtpmaps(self) -> dict[int, RtpMap]:
        if self._rtpmaps is None:
            maps = (_parse_rtpmap(v) for v in _values(self.attributes, "rtpmap"))
            object.__setattr__(self, "_rtpmaps", {m.pt: m for m in maps if m is not None})
        assert self._rtpmaps is not None
        return self._rtpmaps

    def codec(self, pt: int) -> RtpMap | None:
        """The format for ``pt``: its rtpmap, else the RFC 3551 static entry."""
        found = self._parsed_rtpmaps().get(pt)
        if found is not None:
            return found
        static = STATIC_PAYLOAD_TYPES.get(pt)
        return RtpMap(pt, *static) if static else None

    def payload_types(self) -> tuple[int, ...]:
        """The formats that are RTP payload type numbers, in offered order."""
        return tuple(int(f) for f in self.formats if digits(f) and int(f) < 128)

    def fmtp(self) -> dict[int, str]:
        """``a=fmtp:<pt> <params>`` by payload type."""
        pairs = (v.partition(" ") for v in _values(self.attributes, "fmtp"))
        return {int(pt): params.strip() for pt, _, params in pairs if digits(pt)}

    @property
    def ptime(self) -> int | None:
        """``a=ptime`` in milliseconds (fractions rounded), None if absent or bad."""
        value = self.attribute("ptime")
        try:
            return round(float(value)) if value else None
        except ValueError:
            return None

    @property
    def direction(self) -> str | None:
        """The media-level direction attribute, None if this stream has none."""
        return _direction(self.attributes)

    @property
    def rtcp_port(self) -> int | None:
        """The port of ``a=rtcp:<port> [...]`` (RFC 3605), None if absent or bad."""
        value = self.attribute("rtcp")
        port = value.split()[0] if value and value.split() else ""
        return int(port) if digits(port) and int(port) < 65536 else None

    @property
    def rtcp_mux(self) -> bool:
        """``a=rtcp-mux`` (RFC 5761) is present."""
        return any(a.name == "rtcp-mux" for a in self.attributes)

    def lines(self) -> list[Line]:
        """The section's ``(type, value)`` lines in §5 order."""
        count = f"/{self.port_count}" if self.port_count is not None else ""
        m = " ".join((self.media, f"{self.port}{count}", self.proto, *self.formats))
        out: list[Line] = [("m", m), *_other(self.other, "i")]
        if self.connection is not None:
            out.append(("c", str(self.connection)))
        out += [("b", str(b)) for b in self.bandwidths]
        out += [*_other(self.other, "k"), *_unknown(self.other, "ik")]
        return out + [("a", str(a)) for a in self.attributes]


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole SDP body (RFC 4566 §5). ``other`` keeps ``i= u= e= p= r= z= k=``
    and lines of unknown type in order; ``parse``/``bytes`` round-trip."""

    origin: OriginLine
    session_name: str = "-"
    connection: Connection | None = None
    timing: tuple[Timing, ...] = (Timing(0, 0),)
    bandwidths: tuple[Bandwidth, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()
    other: tuple[Line, ...] = ()
    version: int = 0

    @classmethod
    def parse(cls, data: bytes) -> SessionDescription:
        """Parse an SDP body; raise :class:`SdpError` (400) if it is invalid."""
        return _parser.parse(data)

    def connection_for(self, md: MediaDescription) -> Connection | None:
        """The ``c=`` that applies to ``md``: its own, else the session's (§5.7)."""
        return md.connection or self.connection

    def direction_for(self, md: MediaDescription) -> str:
        """``md``'s direction attribute, else the session's, else sendrecv."""
        return md.direction or _direction(self.attributes) or "sendrecv"

    def __bytes__(self) -> bytes:
        out: list[Line] = [("v", str(self.version)), ("o", str(self.origin)),
                           ("s", self.session_name), *_other(self.other, "iuep")]
        if self.connection is not None:
            out.append(("c", str(self.connection)))
        out += [("b", str(b)) for b in self.bandwidths]
        out += [("t", str(t)) for t in self.timing]
        out += [*_other(self.other, "rzk"), *_unknown(self.other, "iueprzk")]
        out += [("a", str(a)) for a in self.attributes]
        for md in self.media:
            out += md.lines()
        return "".join(f"{t}={v}\r\n" for t, v in out).encode()


# ``parse(data)``: :func:`media.sdp_parser.parse` under this module's name too.
parse = SessionDescription.parse


def _other(lines: tuple[Line, ...], types: str) -> list[Line]:
    """Kept lines of the given types, grouped in the order the types are listed."""
    return [line for t in types for line in lines if line[0] == t]


def _unknown(lines: tuple[Line, ...], known: str) -> list[Line]:
    return [line for line in lines if line[0] not in known]


def _parse_rtpmap(value: str) -> RtpMap | None:
    pt, _, spec = value.partition(" ")
    parts = spec.strip().split("/")
    if not digits(pt) or len(parts) < 2 or not digits(parts[1]):
        return None
    channels = parts[2] if len(parts) > 2 else "1"
    return RtpMap(int(pt), parts[0], int(parts[1]), int(channels) if digits(channels) else 1)


# The parser builds this module's model, so it is imported once the model
# exists (whichever of the two modules is imported first).
from media import sdp_parser as _parser  # noqa: E402
