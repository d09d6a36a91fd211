"""Header fields: the ordered multi-map and the typed values routing needs.

RFC 3261 §7.3 (header syntax, lists, folding), §20 (each header), §25.1
(grammar of name-addr, via-parm, generic-param, quoted-string).
Values are stored as text; typed views (:class:`Via`, :class:`NameAddr`,
:class:`CSeq`) are parsed on first use and cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sipstack.constants import CANONICAL_NAME, LIST_HEADERS
from sipstack.errors import RemoteProtocolError
from sipstack.uri import URI, Params, find_param, parse_uri, split_hostport

_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+\Z")
_DISPLAY_TOKENS_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`'~]+)*\Z")
_VIA_RE = re.compile(
    r"SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+"
    r"(\[[0-9A-Fa-f:.]+\]|[^\s;:]+)(?:\s*:\s*([0-9]+))?\s*(.*)\Z",
    re.S | re.I,
)
_WS_RE = re.compile(r"\s+")


def is_token(text: str) -> bool:
    """RFC 3261 ``token``."""
    return bool(_TOKEN_RE.match(text))


def canonical_name(name: str) -> str:
    """Long, canonical spelling of a header name (compact forms expanded)."""
    return CANONICAL_NAME.get(name.lower(), name)


def split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not inside a quoted string or ``<...>``."""
    if '"' not in text and "<" not in text:
        return text.split(sep)
    parts: list[str] = []
    start = 0
    quoted = angled = False
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "<":
            angled = True
        elif c == ">":
            angled = False
        elif c == sep and not angled:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quoted:
        raise RemoteProtocolError(f"unterminated quoted string in {text!r}")
    parts.append(text[start:])
    return parts


def parse_generic_params(text: str) -> Params:
    """Parse ``;name=value`` header parameters; LWS around ``;``/``=`` allowed."""
    params: list[tuple[str, str | None]] = []
    for item in split_outside_quotes(text, ";"):
        name, sep, value = item.partition("=")
        name = name.strip()
        value = value.strip()
        if not is_token(name):
            raise RemoteProtocolError(f"invalid header parameter {item.strip()!r}")
        if sep:
            if value.startswith('"'):
                if len(value) < 2 or not value.endswith('"'):
                    raise RemoteProtocolError(f"bad quoted parameter {item.strip()!r}")
            elif not value or any(c.isspace() or c in ',"<>' for c in value):
                raise RemoteProtocolError(f"invalid parameter value {item.strip()!r}")
        params.append((name, value if sep else None))
    return tuple(params)


def params_text(params: Params) -> str:
    return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)


def unquote(text: str) -> str:
    """Body of a quoted string with ``\\x`` escapes resolved."""
    inner = text[1:-1]
    if "\\" not in inner:
        return inner
    return re.sub(r"\\(.)", r"\1", inner, flags=re.S)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class Via:
    """One ``via-parm``: ``SIP/2.0/UDP host:port;branch=…``."""

    transport: str
    host: str
    port: int | None = None
    params: Params = ()

    @classmethod
    def parse(cls, text: str) -> Via:
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
        params += list(updates.items())
        return Via(self.transport, self.host, self.port, tuple(params))

    def __str__(self) -> str:
        hostport = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"SIP/2.0/{self.transport} {hostport}{params_text(self.params)}"


@dataclass(frozen=True, slots=True)
class NameAddr:
    """``[display] <uri>;params`` as in From, To, Contact, Route, Refer-To."""

    uri: URI
    display_name: str | None = None
    params: Params = ()
    angle: bool = field(default=True, compare=False)

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        text = text.strip()
        lt = _find_unquoted(text, "<")
        if lt >= 0:
            gt = text.find(">", lt)
            if gt < 0:
                raise RemoteProtocolError(f"missing '>' in {text!r}")
            display = _parse_display(text[:lt].strip())
            uri_text = text[lt + 1 : gt]
            if uri_text != uri_text.strip() or not uri_text:
                raise RemoteProtocolError(f"whitespace inside <> in {text!r}")
            rest = text[gt + 1 :].strip()
            angle = True
        else:
            display = None
            uri_text, _, rest = text.partition(";")
            uri_text = uri_text.strip()
            rest = ";" + rest if _ else ""
            if any(c in uri_text for c in ' \t?,"'):
                raise RemoteProtocolError(f"addr-spec needs <> in {text!r}")
            angle = False
        params: Params = ()
        if rest:
            if not rest.startswith(";"):
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
        params += list(updates.items())
        return NameAddr(self.uri, self.display_name, tuple(params), True)

    def __str__(self) -> str:
        disp = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{disp}<{self.uri}>{params_text(self.params)}"


def _find_unquoted(text: str, char: str) -> int:
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == char:
            return i
        i += 1
    if quoted:
        raise RemoteProtocolError(f"unterminated quoted string in {text!r}")
    return -1


def _parse_display(text: str) -> str | None:
    if not text:
        return None
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"') or _find_unquoted(text[1:-1], '"') >= 0:
            raise RemoteProtocolError(f"bad quoted display name {text!r}")
        return unquote(text)
    if not _DISPLAY_TOKENS_RE.match(text):
        raise RemoteProtocolError(f"invalid display name {text!r}")
    return _WS_RE.sub(" ", text)


@dataclass(frozen=True, slots=True)
class CSeq:
    """``CSeq: <seq> <method>``; seq is a 32-bit unsigned integer."""

    seq: int
    method: str

    @classmethod
    def parse(cls, text: str) -> CSeq:
        parts = text.split()
        if len(parts) != 2 or not parts[0].isdigit() or not is_token(parts[1]):
            raise RemoteProtocolError(f"invalid CSeq {text!r}")
        seq = int(parts[0])
        if seq > 0xFFFFFFFF:
            raise RemoteProtocolError(f"CSeq number out of range: {parts[0]}")
        return cls(seq, parts[1])

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"


class Headers:
    """Ordered header fields; lookup by any spelling (long, compact, any case).

    Treated as immutable once a message holds it: the ``with_*`` methods return
    new objects. Each stored field is one header line (a list header may hold
    several comma-separated values).
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: tuple[tuple[str, str], ...] = tuple(
            (canonical_name(n), v) for n, v in fields
        )
        self._index: dict[str, list[str]] | None = None

    @classmethod
    def _trusted(cls, fields: tuple[tuple[str, str], ...]) -> Headers:
        """Build from fields whose names are already canonical (parser path)."""
        obj = cls.__new__(cls)
        obj._fields = fields
        obj._index = None
        return obj

    def _lookup(self) -> dict[str, list[str]]:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._fields:
                index.setdefault(name.lower(), []).append(value)
            self._index = index
        return index

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first field value of ``name`` (whole line, not list-split)."""
        values = self._lookup().get(canonical_name(name).lower())
        return values[0] if values else default

    def get_lines(self, name: str) -> list[str]:
        """Every field line of ``name``, in order."""
        return list(self._lookup().get(canonical_name(name).lower(), ()))

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``; list headers are split on their commas."""
        key = canonical_name(name).lower()
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
        return isinstance(name, str) and canonical_name(name).lower() in self._lookup()

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

    def without(self, *names: str) -> Headers:
        keys = {canonical_name(n).lower() for n in names}
        return Headers._trusted(tuple(f for f in self._fields if f[0].lower() not in keys))
