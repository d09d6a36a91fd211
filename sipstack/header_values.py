"""Typed header values routing needs: Via, name-addr (From, To, Contact,
Route), CSeq.

RFC 3261 §20.42 (Via), §20.10/§20.20/§20.39 (Contact, From, To: name-addr
and addr-spec), §20.16 (CSeq), §25.1 (grammar of name-addr, via-parm,
generic-param, quoted-string). Each typed value has ``parse()``, ``str()``
and ``bytes()``; the common spellings take a one-regex fast path, everything
else the general code. Parsed values are remembered by their text in bounded
memos, so a header seen again is not parsed again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipstack.errors import RemoteProtocolError
from sipstack.syntax import (
    find_unquoted,
    params_text,
    parse_display,
    parse_generic_params,
    quote,
    remember,
    slot_setters,
)
from sipstack.uri import URI, Params, find_param, parse_uri, split_hostport

__all__ = ["CSeq", "NameAddr", "Via", "make_via"]

_VIA_RE = re.compile(
    r"SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+"
    r"(\[[0-9A-Fa-f:.]+\]|[^\s;:]+)(?:\s*:\s*([0-9]+))?\s*(.*)\Z",
    re.S | re.I,
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
# ``SIP/2.0/UDP host:port;params`` written without optional LWS and with a
# hostname or IPv4 sent-by: one match, no re-validation of the host.
_SIMPLE_VIA_RE = re.compile(
    rf"SIP/2\.0/([A-Za-z]+) ({_LABEL}(?:\.{_LABEL})*\.?)(?::([0-9]{{1,5}}))?(;.*)?\Z", re.S
)
# ``"Quoted" <uri>;params`` or ``Token Words <uri>;params`` with no escapes.
_SIMPLE_NAME_ADDR_RE = re.compile(
    r'(?:"([^"\\]*)"[ \t]*|([A-Za-z0-9\-.!%*_+`\'~]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`\'~]+)*)'
    r'[ \t]*)?<([^<>"\s]+)>[ \t]*(;.*)?\Z',
    re.S,
)
_SEQ_RE = re.compile(r"\s*([0-9]+)\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*\Z")
# Header text -> its parsed value (see :func:`sipstack.syntax.remember`).
VIA_MEMO: dict[str, Via] = {}
NAME_ADDR_MEMO: dict[str, NameAddr] = {}
CSEQ_MEMO: dict[str, CSeq] = {}
# Text before the parameters -> its parsed part, for the common spellings.
_SENT_BY_MEMO: dict[str, tuple[str, str, int | None]] = {}
_ADDRESS_MEMO: dict[str, tuple[URI, str | None]] = {}


@dataclass(frozen=True, slots=True)
class Via:
    """One ``via-parm``: ``SIP/2.0/UDP host:port;branch=…``."""

    transport: str
    host: str
    port: int | None = None
    params: Params = ()

    @classmethod
    def parse(cls, text: str) -> Via:
        via = VIA_MEMO.get(text)
        return remember(VIA_MEMO, text, cls._parse(text)) if via is None else via

    @classmethod
    def _parse(cls, text: str) -> Via:
        # Each peer writes the same sent-by before different parameters.
        semi = text.find(";")
        sent_by = _SENT_BY_MEMO.get(text[:semi]) if semi > 0 else None
        if sent_by is not None:
            return make_via(*sent_by, parse_generic_params(text[semi + 1:]))
        m = _SIMPLE_VIA_RE.match(text)
        if m is not None:
            transport, host, port_text, rest = m.groups()
            port = None if port_text is None else int(port_text)
            if port is None or port <= 65535:
                simple = parse_generic_params(rest[1:]) if rest else ()
                sent_by = (transport.upper(), host.lower(), port)
                if rest:
                    remember(_SENT_BY_MEMO, text[:semi], sent_by)
                return make_via(*sent_by, simple)
        m = _VIA_RE.match(text.strip())
        if m is None:
            raise RemoteProtocolError(f"invalid Via {text.strip()!r}")
        transport, host_text, port_text, rest = m.groups()
        hostport = host_text if port_text is None else f"{host_text}:{port_text}"
        host, port = split_hostport(hostport)
        params: Params = ()
        if rest:
            if not rest.startswith(";"):
                raise RemoteProtocolError(f"junk in Via {text.strip()!r}")
            params = parse_generic_params(rest[1:])
        return cls(transport.upper(), host, port, params)

    def param(self, name: str) -> str | None:
        return find_param(self.params, name)

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    @property
    def sent_by(self) -> tuple[str, int | None]:
        return self.host, self.port

    def with_params(self, **updates: str | None) -> Via:
        """A copy with parameters set (``None`` for a flag) or added."""
        params = [(n, v) for n, v in self.params if n.lower() not in updates]
        params += updates.items()
        return make_via(self.transport, self.host, self.port, tuple(params))

    def __str__(self) -> str:
        hostport = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"SIP/2.0/{self.transport} {hostport}{params_text(self.params)}"

    def __bytes__(self) -> bytes:
        return str(self).encode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class NameAddr:
    """``[display] <uri>;params`` as in From, To, Contact, Route, Refer-To."""

    uri: URI
    display_name: str | None = None
    params: Params = ()
    angle: bool = field(default=True, compare=False)

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        value = NAME_ADDR_MEMO.get(text)
        if value is None:
            value = remember(NAME_ADDR_MEMO, text, cls._parse(text))
        return value

    @classmethod
    def _parse(cls, text: str) -> NameAddr:
        # The same address comes back with other parameters (a new tag).
        gt = text.find(">") + 1
        address = _ADDRESS_MEMO.get(text[:gt]) if gt else None
        if address is not None and text[gt:gt + 1] in ("", ";"):
            params = parse_generic_params(text[gt + 1:]) if gt < len(text) else ()
            return _new_name_addr(*address, params)
        m = _SIMPLE_NAME_ADDR_RE.match(text)
        if m is not None:
            quoted, tokens, uri_text, rest = m.groups()
            if quoted is not None:
                display: str | None = quoted
            elif tokens is None or (" " not in tokens and "\t" not in tokens):
                display = tokens
            else:
                display = parse_display(tokens)
            params = parse_generic_params(rest[1:]) if rest else ()
            address = (parse_uri(uri_text), display)
            if m.end(3) + 1 == gt:  # the first '>' closes the URI
                remember(_ADDRESS_MEMO, text[:gt], address)
            return _new_name_addr(*address, params)
        return cls._parse_general(text)

    @classmethod
    def _parse_general(cls, text: str) -> NameAddr:
        text = text.strip()
        lt = find_unquoted(text, "<")
        if lt >= 0:
            gt = text.find(">", lt)
            if gt < 0:
                raise RemoteProtocolError(f"missing '>' in {text!r}")
            display = parse_display(text[:lt].strip())
            uri_text = text[lt + 1 : gt]
            if uri_text != uri_text.strip() or not uri_text:
                raise RemoteProtocolError(f"whitespace inside <> in {text!r}")
            rest = text[gt + 1 :].strip()
            angle = True
        else:
            # addr-spec form: the first ';' ends the URI (§20.10), and a URI
            # with '?', ',' or whitespace must be enclosed (RFC 4475 §3.1.2.13).
            display = None
            uri_text, sep, rest = text.partition(";")
            uri_text = uri_text.strip()
            rest = ";" + rest if sep else ""
            if any(c in uri_text for c in ' \t?,"'):
                raise RemoteProtocolError(f"addr-spec needs <> in {text!r}")
            angle = False
        params: Params = ()
        if rest:
            if rest[0] != ";":
                raise RemoteProtocolError(f"junk after address in {text!r}")
            params = parse_generic_params(rest[1:])
        return cls(parse_uri(uri_text), display, params, angle)

    def param(self, name: str) -> str | None:
        return find_param(self.params, name)

    @property
    def tag(self) -> str | None:
        return self.param("tag")

    def with_params(self, **updates: str | None) -> NameAddr:
        params = [(n, v) for n, v in self.params if n.lower() not in updates]
        params += updates.items()
        return _new_name_addr(self.uri, self.display_name, tuple(params))

    def __str__(self) -> str:
        disp = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{disp}<{self.uri}>{params_text(self.params)}"

    def __bytes__(self) -> bytes:
        return str(self).encode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class CSeq:
    """``CSeq: <seq> <method>``; seq is a 32-bit unsigned integer."""

    seq: int
    method: str

    @classmethod
    def parse(cls, text: str) -> CSeq:
        cseq = CSEQ_MEMO.get(text)
        return remember(CSEQ_MEMO, text, cls._parse(text)) if cseq is None else cseq

    @classmethod
    def _parse(cls, text: str) -> CSeq:
        m = _SEQ_RE.match(text)
        if m is None:
            raise RemoteProtocolError(f"invalid CSeq {text[:80]!r}")
        digits = m[1]
        if len(digits) > 9:  # maybe beyond 2**32 - 1 (RFC 4475 §3.1.2.4)
            digits = digits.lstrip("0")
            if len(digits) > 10 or int(digits or "0") > 0xFFFFFFFF:
                raise RemoteProtocolError(f"CSeq number out of range: {m[1][:40]}")
        cseq = _new(CSeq)
        _set_seq, _set_method = _SET_CSEQ
        _set_seq(cseq, int(digits or "0"))
        _set_method(cseq, m[2])
        return cseq

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"

    def __bytes__(self) -> bytes:
        return str(self).encode()


# Parser fast paths build these values without the frozen ``__init__``.
_new = object.__new__
_SET_VIA = slot_setters(Via, "transport host port params")
_SET_NAME_ADDR = slot_setters(NameAddr, "uri display_name params angle")
_SET_CSEQ = slot_setters(CSeq, "seq method")


def _new_name_addr(uri: URI, display: str | None, params: Params) -> NameAddr:
    value = _new(NameAddr)
    set_uri, set_display, set_params, set_angle = _SET_NAME_ADDR
    set_uri(value, uri)
    set_display(value, display)
    set_params(value, params)
    set_angle(value, True)
    return value


def make_via(transport: str, host: str, port: int | None, params: Params) -> Via:
    """``Via(transport, host, port, params)`` without the frozen ``__init__``
    (hot path: stamping every received request)."""
    via = _new(Via)
    set_transport, set_host, set_port, set_params = _SET_VIA
    set_transport(via, transport)
    set_host(via, host)
    set_port(via, port)
    set_params(via, params)
    return via
