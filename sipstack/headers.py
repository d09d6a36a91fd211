"""Header fields: the ordered multi-map and the typed values routing needs.

RFC 3261 §7.3 (header syntax, lists, folding), §20 (each header), §25.1
(grammar of name-addr, via-parm, generic-param, quoted-string).
Values are stored as text; typed views (:class:`Via`, :class:`NameAddr`,
:class:`CSeq`) are parsed on first use and cached.  Each typed value has
``parse()``, ``str()`` and ``bytes()``; the common spellings take a one-regex
fast path, everything else the general code.  The lexical helpers (token,
quoted-string, generic-param) live in :mod:`sipstack.syntax` and are
re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sipstack.constants import CANONICAL_NAME, LIST_HEADERS
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.syntax import (
    find_unquoted,
    is_token,
    params_text,
    parse_display,
    parse_generic_params,
    quote,
    remember,
    slot_setters,
    split_outside_quotes,
    unquote,
)
from sipstack.uri import URI, Params, find_param, parse_uri, split_hostport

__all__ = [
    "CSeq", "Headers", "Index", "NameAddr", "Via", "canonical_name", "header_key", "is_token",
    "make_via",
    "params_text", "parse_generic_params", "quote", "split_outside_quotes", "unquote",
]

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
# Any spelling of a header name -> the lower-cased canonical name used as the
# index key.  Bounded: names come from a small vocabulary.
_KEYS: dict[str, str] = {}
# Any spelling of a header name -> its canonical spelling; bounded likewise.
_CANONICAL: dict[str, str] = {}


def header_key(name: str) -> str:
    """Index key of a header name: lower-cased long form (compact expanded)."""
    key = _KEYS.get(name)
    if key is None:
        key = CANONICAL_NAME.get(name.lower(), name).lower()
        if len(_KEYS) < 4096:
            _KEYS[name] = key
    return key


def canonical_name(name: str) -> str:
    """Long, canonical spelling of a header name (compact forms expanded)."""
    canonical = _CANONICAL.get(name)
    if canonical is None:
        canonical = CANONICAL_NAME.get(name.lower(), name)
        if len(_CANONICAL) < 4096:
            _CANONICAL[name] = canonical
    return canonical


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


def _position(fields: tuple[tuple[str, str], ...], name: str, key: str) -> int:
    """Where the first field called ``name`` (index key ``key``) is."""
    for i, (n, _) in enumerate(fields):
        if n == name or header_key(n) == key:
            return i
    raise LocalProtocolError(f"no {name} header to replace")


# Index key -> the field lines of that header, in order. Tuples rather than
# lists: they hold only strings, so the collector stops tracking them.
Index = dict[str, tuple[str, ...]]


class Headers:
    """Ordered header fields; lookup by any spelling (long, compact, any case).

    Treated as immutable once a message holds it: the ``with_*`` methods return
    new objects. Each stored field is one header line (a list header may hold
    several comma-separated values).
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        # Names are made canonical and the lookup index built in one pass:
        # a message that is built is about to be looked into.
        canonical = _CANONICAL.get
        items: list[tuple[str, str]] = []
        index: Index = {}
        for n, v in fields:
            name = canonical(n) or canonical_name(n)
            items.append((name, v))
            key = name.lower()
            values = index.get(key)
            index[key] = (v,) if values is None else (*values, v)
        self._fields: tuple[tuple[str, str], ...] = tuple(items)
        self._index: Index | None = index

    @classmethod
    def _trusted(
        cls,
        fields: tuple[tuple[str, str], ...],
        index: Index | None = None,
    ) -> Headers:
        """Build from fields whose names are already canonical (parser path);
        ``index`` (index key -> values in order) may be handed over ready."""
        obj = cls.__new__(cls)
        obj._fields = fields
        obj._index = index
        return obj

    def _lookup(self) -> Index:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._fields:
                # Stored names are canonical: the key is the lower-cased name.
                key = name.lower()
                values = index.get(key)
                index[key] = (value,) if values is None else (*values, value)
            self._index = index
        return index

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first field value of ``name`` (whole line, not list-split)."""
        index = self._index
        if index is None:
            index = self._lookup()
        values = index.get(_KEYS.get(name) or header_key(name))
        return values[0] if values else default

    def get_lines(self, name: str) -> list[str]:
        """Every field line of ``name``, in order."""
        return list(self._lookup().get(header_key(name), ()))

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``; list headers are split on their commas."""
        key = header_key(name)
        lines = self._lookup().get(key, ())
        if key not in LIST_HEADERS:
            return list(lines)
        values: list[str] = []
        for line in lines:
            for part in split_outside_quotes(line, ","):
                part = part.strip()
                if not part:
                    raise RemoteProtocolError(f"empty element in {name} list")
                values.append(part)
        return values

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        index = self._index
        if index is None:
            index = self._lookup()
        return (_KEYS.get(name) or header_key(name)) in index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._fields == other._fields

    def __hash__(self) -> int:
        return hash(self._fields)

    def __repr__(self) -> str:
        return f"Headers({list(self._fields)!r})"

    def with_added(self, name: str, value: str, *, first: bool = False) -> Headers:
        """A copy with one more field (at the top of its kind if ``first``)."""
        item = (canonical_name(name), str(value))
        if not first:
            return Headers._trusted((*self._fields, item))
        key = item[0].lower()
        for i, (n, _) in enumerate(self._fields):
            if n.lower() == key:
                return Headers._trusted((*self._fields[:i], item, *self._fields[i:]))
        return Headers._trusted((*self._fields, item))

    def with_replaced(self, name: str, *values: str) -> Headers:
        """A copy where every ``name`` field is replaced by ``values`` (in place
        of the first one, or appended)."""
        cname = canonical_name(name)
        key = cname.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for n, v in self._fields:
            if n.lower() == key:
                if not placed:
                    out.extend((cname, str(x)) for x in values)
                    placed = True
            else:
                out.append((n, v))
        if not placed:
            out.extend((cname, str(x)) for x in values)
        return Headers._trusted(tuple(out))

    def with_first_line(self, name: str, line: str) -> Headers:
        """A copy where the first field line of ``name`` is ``line`` (the
        others kept); the lookup index is carried over, not rebuilt."""
        key = header_key(name)
        fields = self._fields
        at = 0 if fields and fields[0][0] == name else _position(fields, name, key)
        index = self._lookup().copy()
        lines = index[key]
        index[key] = (line, *lines[1:])
        item = (fields[at][0], line)
        return Headers._trusted((*fields[:at], item, *fields[at + 1:]), index)

    def without(self, *names: str) -> Headers:
        keys = {canonical_name(n).lower() for n in names}
        return Headers._trusted(tuple(f for f in self._fields if f[0].lower() not in keys))
