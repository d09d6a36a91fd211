"""SIP messages (RFC 3261 §7): :class:`Request`, :class:`Response`, builders.

Messages are frozen; typed views of the headers that routing and transaction
matching need (Via, From/To tags, Call-ID, CSeq) are parsed once and cached.
``bytes(message)`` serialises with a Content-Length computed from the body;
``Request.parse``/``Response.parse`` read one back (see :mod:`sipstack.parser`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sipstack.constants import SIP_VERSION, reason_phrase
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.headers import CSeq, Headers, Index, NameAddr, Via, canonical_name, header_key
from sipstack.syntax import slot_setters
from sipstack.uri import URI, SipURI, parse_uri

HeaderItems = Iterable[tuple[str, str]]
# callid = word [ "@" word ] (§25.1); any non-blank run is accepted as a word.
_CALL_ID_RE = re.compile(r"\S+\Z")
_MAX_SCALAR = 0xFFFFFFFF


class _Views:
    """Typed, cached views shared by requests and responses."""

    __slots__ = ()
    headers: Headers
    body: bytes
    _cache: dict[str, Any]

    def _required(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise RemoteProtocolError(f"missing {name} header")
        return value

    @property
    def call_id(self) -> str:
        cached = self._cache.get("call_id")
        if cached is None:
            cached = self._required("Call-ID").strip()
            if _CALL_ID_RE.match(cached) is None:
                raise RemoteProtocolError(f"invalid Call-ID {cached[:80]!r}")
            self._cache["call_id"] = cached
        return cached

    @property
    def cseq(self) -> CSeq:
        cached = self._cache.get("cseq")
        if cached is None:
            cached = self._cache["cseq"] = CSeq.parse(self._required("CSeq"))
        return cached

    @property
    def from_(self) -> NameAddr:
        cached = self._cache.get("from")
        if cached is None:
            cached = self._cache["from"] = NameAddr.parse(self._required("From"))
        return cached

    @property
    def to(self) -> NameAddr:
        cached = self._cache.get("to")
        if cached is None:
            cached = self._cache["to"] = NameAddr.parse(self._required("To"))
        return cached

    @property
    def via(self) -> Via:
        """The topmost Via (the one transaction matching uses)."""
        cached = self._cache.get("via")
        if cached is None:
            first = self._required("Via")
            comma = first.find(",")
            cached = self._cache["via"] = Via.parse(
                first if comma < 0 else self.headers.get_all("Via")[0]
            )
        return cached

    @property
    def vias(self) -> tuple[Via, ...]:
        cached = self._cache.get("vias")
        if cached is None:
            cached = self._cache["vias"] = tuple(
                Via.parse(v) for v in self.headers.get_all("Via")
            )
        return cached

    @property
    def contacts(self) -> tuple[NameAddr, ...]:
        """Contact values (empty for none; ``Contact: *`` is not a NameAddr,
        see :attr:`contact_star`)."""
        cached = self._cache.get("contacts")
        if cached is None:
            values = self.headers.get_all("Contact")
            cached = () if values == ["*"] else tuple(NameAddr.parse(v) for v in values)
            self._cache["contacts"] = cached
        return cached

    @property
    def contact_star(self) -> bool:
        return self.headers.get_all("Contact") == ["*"]

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        return None if value is None else value.split(";", 1)[0].strip().lower()

    def header_int(self, name: str) -> int | None:
        """An integer header (Expires, Max-Forwards, RSeq …), or None if absent."""
        value = self.headers.get(name)
        if value is None:
            return None
        value = value.strip()
        if not (value.isdigit() and value.isascii()):
            raise RemoteProtocolError(f"invalid {name} value {value[:40]!r}")
        # Scalars are 32-bit (RFC 4475 §3.1.2.4); strict: larger is malformed.
        digits = value.lstrip("0")
        if len(digits) > 10 or int(digits or "0") > _MAX_SCALAR:
            raise RemoteProtocolError(f"{name} value out of range: {value[:40]}")
        return int(digits or "0")


@dataclass(frozen=True, slots=True, eq=False)
class Request(_Views):
    """A SIP request. ``uri`` is the Request-URI."""

    method: str
    uri: URI
    headers: Headers
    body: bytes = b""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, method: str, uri: URI | str, headers: HeaderItems = (),
              body: bytes = b"") -> Request:
        """Make a request; ``uri`` may be given as text."""
        if isinstance(uri, str):
            uri = parse_uri(uri)
        if isinstance(uri, SipURI) and uri.headers:
            # §19.1.5: URI headers become header fields; never a Request-URI part.
            raise LocalProtocolError(f"headers in Request-URI {uri}")
        return new_request(method, uri, _as_headers(headers), body)

    def replace(self, **changes: Any) -> Request:
        """A copy with fields replaced (``headers`` may be any header items)."""
        values: dict[str, Any] = {"method": self.method, "uri": self.uri, "headers": self.headers,
                  "body": self.body}
        values.update(changes)
        values["headers"] = _as_headers(values["headers"])
        return Request(**values)

    def with_top_via(self, line: str, via: Via) -> Request:
        """A copy whose first Via field line is ``line`` (its first value being
        ``via``); the other cached views stay valid and are kept."""
        request = new_request(self.method, self.uri,
                              self.headers.with_first_line("Via", line), self.body)
        cache = request._cache
        cache.update(self._cache)
        if "vias" in cache:
            del cache["vias"]
        cache["via"] = via
        return request

    @classmethod
    def parse(cls, data: bytes) -> Request:
        """Parse one request from ``data`` (see :func:`sipstack.parser.parse_message`)."""
        from sipstack.parser import parse_message  # the parser builds on this module

        message = parse_message(data)
        if not isinstance(message, Request):
            raise RemoteProtocolError("expected a request, got a response", None)
        return message

    @property
    def start_line(self) -> str:
        return f"{self.method} {self.uri} {SIP_VERSION}"

    def __bytes__(self) -> bytes:
        return _serialise(self.start_line, self.headers, self.body)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Request) and bytes(self) == bytes(other)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True, eq=False)
class Response(_Views):
    """A SIP response."""

    status: int
    reason: str
    headers: Headers
    body: bytes = b""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, status: int, headers: HeaderItems = (), body: bytes = b"",
              reason: str | None = None) -> Response:
        if not 100 <= status <= 699:
            raise LocalProtocolError(f"status code {status} out of range")
        return new_response(status, reason_phrase(status) if reason is None else reason,
                            _as_headers(headers), body)

    def replace(self, **changes: Any) -> Response:
        values: dict[str, Any] = {"status": self.status, "reason": self.reason,
                                  "headers": self.headers, "body": self.body}
        values.update(changes)
        values["headers"] = _as_headers(values["headers"])
        return Response(**values)

    @classmethod
    def parse(cls, data: bytes) -> Response:
        """Parse one response from ``data``; a malformed one raises with
        ``status_hint`` None (discard)."""
        from sipstack.parser import parse_message  # the parser builds on this module

        message = parse_message(data)
        if not isinstance(message, Response):
            raise RemoteProtocolError("expected a response, got a request")
        return message

    @property
    def start_line(self) -> str:
        return f"{SIP_VERSION} {self.status} {self.reason}"

    @property
    def is_provisional(self) -> bool:
        return self.status < 200

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def __bytes__(self) -> bytes:
        return _serialise(self.start_line, self.headers, self.body)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Response) and bytes(self) == bytes(other)

    __hash__ = None  # type: ignore[assignment]


Message = Request | Response

# The parser builds messages without the frozen ``__init__`` (hot path).
_new = object.__new__
_SET_REQUEST = slot_setters(Request, "method uri headers body _cache")
_SET_RESPONSE = slot_setters(Response, "status reason headers body _cache")


def new_request(method: str, uri: URI, headers: Headers, body: bytes) -> Request:
    """``Request(method, uri, headers, body)``, faster; for parsers."""
    request = _new(Request)
    set_method, set_uri, set_headers, set_body, set_cache = _SET_REQUEST
    set_method(request, method)
    set_uri(request, uri)
    set_headers(request, headers)
    set_body(request, body)
    set_cache(request, {})
    return request


def new_response(status: int, reason: str, headers: Headers, body: bytes) -> Response:
    """``Response(status, reason, headers, body)``, faster; for parsers."""
    response = _new(Response)
    set_status, set_reason, set_headers, set_body, set_cache = _SET_RESPONSE
    set_status(response, status)
    set_reason(response, reason)
    set_headers(response, headers)
    set_body(response, body)
    set_cache(response, {})
    return response


def _as_headers(items: Headers | HeaderItems) -> Headers:
    return items if isinstance(items, Headers) else Headers(items)


def _serialise(start_line: str, headers: Headers, body: bytes) -> bytes:
    lines = [start_line]
    for name, value in headers:
        if name != "Content-Length":
            lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}\r\n\r\n")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + body


# Headers a UAS copies from a request into every response (RFC 3261 §8.2.6.2),
# with their index keys and the typed views that come along unchanged.
_COPIED = (("Via", "via"), ("From", "from"), ("To", "to"), ("Call-ID", "call-id"),
           ("CSeq", "cseq"))
_COPIED_NAMES = frozenset(name for name, _ in _COPIED)
_SHARED_VIEWS = ("via", "vias", "from", "call_id", "cseq")


def make_response(request: Request, status: int, reason: str | None = None, *,
                  to_tag: str | None = None, headers: HeaderItems = (),
                  body: bytes = b"") -> Response:
    """Build the response a UAS sends to ``request`` (§8.2.6).

    Via, From, To, Call-ID and CSeq are copied line by line; ``to_tag`` is
    added to To when the request's To has none (never for 100 Trying,
    §8.2.6.2). The request's typed views of the copied headers are shared.
    """
    if not 100 <= status <= 699:
        raise LocalProtocolError(f"status code {status} out of range")
    source = request.headers._lookup()
    views = request._cache
    to = views.get("to")
    tag = None
    if to_tag is not None and status != 100 and request.to.tag is None:
        tag = to_tag
        to = request.to.with_params(tag=tag)
    fields: list[tuple[str, str]] = []
    index: Index = {}
    for name, key in _COPIED:
        lines = source.get(key)
        if not lines:
            continue
        if tag is not None and key == "to":
            lines = (f"{lines[0]};tag={tag}",) * len(lines)
        index[key] = lines
        if len(lines) == 1:
            fields.append((name, lines[0]))
        else:
            fields += [(name, line) for line in lines]
    if status == 100 and "timestamp" in source:
        _add(fields, index, "Timestamp", source["timestamp"][0])
    shared = True
    for name, value in headers:
        name = canonical_name(name)
        shared = shared and name not in _COPIED_NAMES
        _add(fields, index, name, str(value))
    response = new_response(status, reason_phrase(status) if reason is None else reason,
                            Headers._trusted(tuple(fields), index), body)
    if shared:
        cache = response._cache
        for view in _SHARED_VIEWS:
            view_value = views.get(view)
            if view_value is not None:
                cache[view] = view_value
        if to is not None:
            cache["to"] = to
    return response


def trying_bytes(request: Request) -> bytes:
    """``bytes(make_response(request, 100))`` without building the response:
    what an INVITE server transaction sends first (§17.2.1)."""
    source = request.headers._lookup()
    out = [f"{SIP_VERSION} 100 {reason_phrase(100)}\r\n"]
    for name, key in _COPIED:
        out += [f"{name}: {line}\r\n" for line in source.get(key, ())]
    if "timestamp" in source:
        out.append(f"Timestamp: {source['timestamp'][0]}\r\n")
    out.append("Content-Length: 0\r\n\r\n")
    return "".join(out).encode("utf-8", "surrogateescape")


def _add(fields: list[tuple[str, str]], index: Index, name: str,
         value: str) -> None:
    fields.append((name, value))
    key = header_key(name)
    lines = index.get(key)
    index[key] = (value,) if lines is None else (*lines, value)
