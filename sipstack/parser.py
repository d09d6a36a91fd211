"""Parsing SIP messages from bytes (RFC 3261 §7, §18.3; RFC 4475).

``parse_message(data)`` returns a :class:`Request` or :class:`Response` or
raises :class:`RemoteProtocolError` whose ``status_hint`` is the response a UAS
should send (``None``: discard silently, as for any malformed response).
A datagram is one message: bytes past Content-Length are ignored (§18.3) and a
message without Content-Length takes the rest of the datagram (RFC 2543).
"""

from __future__ import annotations

import re

from sipstack.constants import CANONICAL_NAME, MAX_MESSAGE_SIZE, SINGLE_HEADERS
from sipstack.errors import RemoteProtocolError, SipError
from sipstack.headers import Headers, is_token
from sipstack.message import Request, Response
from sipstack.uri import parse_uri

_HEADER_NAME_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+\Z")


def split_head(data: bytes) -> tuple[bytes, int] | None:
    """Locate the end of the header section: (head bytes, body offset)."""
    end = data.find(b"\r\n\r\n")
    if end >= 0:
        return data[:end], end + 4
    end = data.find(b"\n\n")
    if end >= 0 and b"\r\n" not in data[:end]:
        return data[:end], end + 2
    return None


def parse_message(data: bytes) -> Request | Response:
    """Parse one SIP message from a datagram (or a framed stream message)."""
    is_response = data[:4].upper() == b"SIP/"
    try:
        return _parse(data, is_response)
    except SipError as exc:
        if is_response:
            # A response can never be answered: the only reaction is a discard.
            exc.status_hint = None
        raise
    except (ValueError, IndexError, UnicodeError) as exc:  # defensive: never leak others
        raise RemoteProtocolError(
            f"malformed message: {exc}", None if is_response else 400
        ) from None


def _parse(data: bytes, is_response: bool) -> Request | Response:
    if len(data) > MAX_MESSAGE_SIZE:
        raise RemoteProtocolError("message too large", 513)
    # Leading CRLFs before a message are allowed and skipped (§7.5).
    data = data.lstrip(b"\r\n")
    split = split_head(data)
    if split is None:
        raise RemoteProtocolError("no empty line after the headers")
    head_bytes, body_start = split
    head = head_bytes.decode("utf-8", "surrogateescape")
    lines = head.split("\r\n") if "\r\n" in head else head.split("\n")
    start = lines[0]
    fields = _parse_fields(lines)
    headers = Headers._trusted(fields)
    body = _extract_body(data, body_start, headers)
    if is_response:
        message: Request | Response = _parse_status_line(start, headers, body)
    else:
        message = _parse_request_line(start, headers, body)
    _check(message)
    return message


def _parse_fields(lines: list[str]) -> tuple[tuple[str, str], ...]:
    fields: list[list[str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            if not fields:
                raise RemoteProtocolError("continuation line before any header")
            fields[-1][1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        name = name.rstrip(" \t")
        if not sep or not _HEADER_NAME_RE.match(name):
            raise RemoteProtocolError(f"malformed header line {line[:40]!r}")
        fields.append([CANONICAL_NAME.get(name.lower(), name), value.strip(" \t")])
    return tuple((n, v) for n, v in fields)


def _extract_body(data: bytes, body_start: int, headers: Headers) -> bytes:
    lengths = headers.get_lines("Content-Length")
    if not lengths:
        return data[body_start:]
    values = {v.strip() for v in lengths}
    if len(values) != 1:
        raise RemoteProtocolError("conflicting Content-Length values")
    text = values.pop()
    if not text.isdigit():
        raise RemoteProtocolError(f"invalid Content-Length {text!r}")
    length = int(text)
    if body_start + length > len(data):
        raise RemoteProtocolError("Content-Length larger than the message")
    return data[body_start : body_start + length]


def _check_version(version: str) -> None:
    if version.upper() != "SIP/2.0":
        if version.upper().startswith("SIP/"):
            raise RemoteProtocolError(f"unsupported version {version!r}", 505)
        raise RemoteProtocolError(f"bad protocol version {version!r}")


def _parse_request_line(line: str, headers: Headers, body: bytes) -> Request:
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise RemoteProtocolError(f"malformed request line {line[:80]!r}")
    method, uri_text, version = parts
    if not is_token(method):
        raise RemoteProtocolError(f"invalid method {method!r}")
    _check_version(version)
    return Request(method, parse_uri(uri_text), headers, body)


def _parse_status_line(line: str, headers: Headers, body: bytes) -> Response:
    version, _, rest = line.partition(" ")
    _check_version(version)
    code, sep, reason = rest.partition(" ")
    if not sep or len(code) != 3 or not code.isdigit():
        raise RemoteProtocolError(f"malformed status line {line[:80]!r}")
    status = int(code)
    if not 100 <= status <= 699:
        raise RemoteProtocolError(f"status code {status} out of range")
    return Response(status, reason, headers, body)


def _check(message: Request | Response) -> None:
    """Eagerly parse what transaction matching needs, and reject what §8.1.1
    says every message must carry exactly once."""
    headers = message.headers
    for name in SINGLE_HEADERS:
        lines = headers.get_lines(name)
        if len(lines) > 1 or (lines and "," in lines[0] and name not in ("to", "from")):
            if name != "content-length":
                raise RemoteProtocolError(f"more than one {name} value")
    _ = message.via, message.call_id, message.from_, message.to
    cseq = message.cseq
    max_forwards = headers.get("Max-Forwards")
    if max_forwards is not None and not max_forwards.strip().isdigit():
        raise RemoteProtocolError(f"invalid Max-Forwards {max_forwards!r}")
    if isinstance(message, Request) and cseq.method != message.method:
        known = message.method in CANONICAL_METHODS
        raise RemoteProtocolError(
            f"CSeq method {cseq.method!r} differs from {message.method!r}",
            400 if known else 501,
        )


CANONICAL_METHODS = frozenset(
    ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "UPDATE",
     "INFO", "REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE", "PUBLISH")
)
