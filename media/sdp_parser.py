"""SDP parser (RFC 4566 §5): bytes to :class:`media.sdp.SessionDescription`.

Tolerant where phones are sloppy (LF-only line ends, empty ``s=``, lines of
unknown type kept in order), strict where §5 is: ``v=0`` first, ``o=`` and
``s=`` present, well-formed ``o=`` (§5.2), ``c=`` (§5.7), ``b=`` (§5.8),
``t=`` (§5.9) and ``m=`` (§5.14) lines, and a ``c=`` at media or session
level for every stream with a non-zero port. Anything else is an
:class:`media.sdp.SdpError` with ``status_hint`` 400.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TypeVar

from media.sdp import (
    Attribute,
    Bandwidth,
    Connection,
    Line,
    MediaDescription,
    OriginLine,
    SdpError,
    SessionDescription,
    Timing,
    digits,
)

_T = TypeVar("_T")

def parse(data: bytes) -> SessionDescription:
    """Parse an SDP body (CRLF or LF line ends); raise :class:`SdpError` (400)."""
    lines = _split(data)
    if not lines or lines[0] != ("v", "0"):
        raise SdpError("SDP must start with the line v=0")
    cut = [i for i, (t, _) in enumerate(lines) if t == "m"] + [len(lines)]
    session = _Section("osctba")
    for t, v in lines[1:cut[0]]:
        session.add(t, v)
    media = tuple(_media(lines[a], lines[a + 1:b]) for a, b in pairwise(cut))
    sd = SessionDescription(
        origin=_single(session.origin, "o="), session_name=_single(session.names, "s="),
        connection=session.first_connection(), timing=tuple(session.timing),
        bandwidths=tuple(session.bandwidths), attributes=tuple(session.attributes),
        media=media, other=tuple(session.other))
    for index, md in enumerate(sd.media, 1):
        if md.port != 0 and sd.connection_for(md) is None:
            raise SdpError(f"media stream {index} (m={md.media} {md.port}) has no c= line "
                           "and the session has none")
    return sd


def _split(data: bytes) -> list[Line]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError(f"SDP is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    out: list[Line] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if len(line) < 2 or line[1] != "=" or not "a" <= line[0] <= "z":
            raise SdpError(f"SDP line {number} is not <type>=<value>: {line[:60]!r}")
        out.append((line[0], line[2:]))
    return out


def _single(values: list[_T], what: str) -> _T:
    if len(values) != 1:
        problem = "is missing" if not values else "appears more than once"
        raise SdpError(f"SDP {what} line {problem}")
    return values[0]


@dataclass(slots=True)
class _Section:
    """Lines of one level (session or media) sorted into typed lists; types
    not in ``parsed`` are kept as plain lines."""

    parsed: str
    origin: list[OriginLine] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    timing: list[Timing] = field(default_factory=list)
    bandwidths: list[Bandwidth] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    other: list[Line] = field(default_factory=list)

    def add(self, t: str, value: str) -> None:
        if t in self.parsed:
            _HANDLERS[t](self, value)
        else:
            self.other.append((t, value))

    def first_connection(self) -> Connection | None:
        # RFC 4566 allows several c= only for layered multicast: the first one
        # is the stream's address, the rest are kept as plain lines.
        self.other += [("c", str(c)) for c in self.connections[1:]]
        return self.connections[0] if self.connections else None


def _origin(value: str) -> OriginLine:
    parts = value.split()
    if len(parts) != 6 or not digits(parts[1]) or not digits(parts[2]):
        raise SdpError("o= must be <username> <sess-id> <sess-version> <nettype> "
                       f"<addrtype> <address> with numeric id and version: {value!r}")
    return OriginLine(parts[0], int(parts[1]), int(parts[2]), *parts[3:])


def _connection(value: str) -> Connection:
    parts = value.split()
    if len(parts) != 3:
        raise SdpError(f"c= must be <nettype> <addrtype> <address>: {value!r}")
    return Connection(*parts)


def _bandwidth(value: str) -> Bandwidth:
    bwtype, _, amount = value.partition(":")
    if not bwtype or not digits(amount.strip()):
        raise SdpError(f"b= must be <bwtype>:<bandwidth>: {value!r}")
    return Bandwidth(bwtype, int(amount))


def _timing(value: str) -> Timing:
    parts = value.split()
    if len(parts) != 2 or not all(digits(p) for p in parts):
        raise SdpError(f"t= must be <start-time> <stop-time>: {value!r}")
    return Timing(int(parts[0]), int(parts[1]))


def _attribute(value: str) -> Attribute:
    name, colon, rest = value.partition(":")
    if not name:
        raise SdpError(f"a= line without an attribute name: {value!r}")
    return Attribute(name, rest if colon else None)


_HANDLERS: dict[str, Callable[[_Section, str], None]] = {
    "o": lambda s, v: s.origin.append(_origin(v)),
    "s": lambda s, v: s.names.append(v),
    "c": lambda s, v: s.connections.append(_connection(v)),
    "t": lambda s, v: s.timing.append(_timing(v)),
    "b": lambda s, v: s.bandwidths.append(_bandwidth(v)),
    "a": lambda s, v: s.attributes.append(_attribute(v)),
}


def _media(m_line: Line, lines: list[Line]) -> MediaDescription:
    parts = m_line[1].split()
    if len(parts) < 3:
        raise SdpError(f"m= must be <media> <port> <proto> <fmt> ...: {m_line[1]!r}")
    port_text, slash, count = parts[1].partition("/")
    if not digits(port_text) or int(port_text) > 65535 or (slash and not digits(count)):
        raise SdpError(f"m= port must be 0-65535 with an optional /<count>: {parts[1]!r}")
    if len(parts) == 3 and int(port_text) != 0:
        raise SdpError(f"m= line lists no media format: {m_line[1]!r}")
    section = _Section("cba")
    for t, v in lines:
        section.add(t, v)
    return MediaDescription(
        media=parts[0], port=int(port_text), proto=parts[2], formats=tuple(parts[3:]),
        port_count=int(count) if slash else None, connection=section.first_connection(),
        bandwidths=tuple(section.bandwidths), attributes=tuple(section.attributes),
        other=tuple(section.other))
