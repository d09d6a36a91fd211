"""Parsing SIP messages from bytes (RFC 3261 §7, §18.3; RFC 4475).

``parse_message(data)`` returns a :class:`Request` or :class:`Response` or
raises :class:`RemoteProtocolError` whose ``status_hint`` is the response a UAS
should send (``None``: discard silently, as for any malformed response).
A datagram is one message: bytes past Content-Length are ignored (§18.3) and a
message without Content-Length takes the rest of the datagram (RFC 2543).

Only what routing and transaction matching need is parsed eagerly (start line,
top Via, From/To, Call-ID, CSeq, Content-Length); other headers stay text
until someone asks for them.
"""

from __future__ import annotations

import re

from sipstack.constants import CANONICAL_NAME, MAX_MESSAGE_SIZE, METHODS
from sipstack.errors import RemoteProtocolError, SipError
from sipstack.header_values import CSEQ_MEMO, NAME_ADDR_MEMO, VIA_MEMO
from sipstack.headers import (
    CSeq,
    Headers,
    Index,
    NameAddr,
    Via,
    is_token,
)
from sipstack.message import Request, Response, new_request, new_response
from sipstack.uri import SipURI, parse_uri

# callid = word ["@" word] (§25.1); a comma would be a second value.
_CALL_ID_RE = re.compile(r"[^\s,]+\Z")
_HEADER_NAME_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+\Z")
_STATUS_RE = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9]) (.*)\Z", re.S | re.I)
# Header name as written -> (canonical name, index key); learns new spellings.
_NAMES: dict[str, tuple[str, str]] = {
    spelling: (canonical, canonical.lower())
    for lower, canonical in CANONICAL_NAME.items()
    for spelling in {lower, canonical, lower.upper()}
}
# Stands in for an absent Max-Forwards (which is then neither repeated nor bad).
_NONE = ("0",)
CANONICAL_METHODS = METHODS


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
    if data[:1] in (b"\r", b"\n"):
        # Leading CRLFs before a message are allowed and skipped (§7.5).
        data = data.lstrip(b"\r\n")
    split = split_head(data)
    if split is None:
        raise RemoteProtocolError("no empty line after the headers")
    head_bytes, body_start = split
    head = head_bytes.decode("utf-8", "surrogateescape")
    eol = "\r\n" if "\r\n" in head else "\n"
    start, _, rest = head.partition(eol)
    fields, index = _parse_fields(rest, eol)
    headers = Headers._trusted(fields, index)
    body = _extract_body(data, body_start, index.get("content-length"))
    if is_response:
        message: Request | Response = _parse_status_line(start, headers, body)
    else:
        message = _parse_request_line(start, headers, body)
    _check(message, index)
    return message


def _parse_fields(
    text: str, eol: str
) -> tuple[tuple[tuple[str, str], ...], Index]:
    if text[:1] in (" ", "\t"):
        raise RemoteProtocolError("continuation line before any header")
    lines = text.split(eol) if text else []
    if "\n " in text or "\n\t" in text:
        lines = _unfold(lines)
    fields: list[tuple[str, str]] = []
    index: Index = {}
    spelling = _NAMES.get
    for line in lines:
        name, sep, value = line.partition(":")
        entry = spelling(name)
        if entry is None or not sep:
            entry = _learn_name(name, sep, line)
        canonical, key = entry
        value = value.strip(" \t")
        fields.append((canonical, value))
        values = index.get(key)
        index[key] = (value,) if values is None else (*values, value)
    return tuple(fields), index


def _unfold(lines: list[str]) -> list[str]:
    """Join continuation lines to their field, the LWS between becoming one SP."""
    out: list[list[str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            out[-1].append(line.strip(" \t"))
        else:
            out.append([line.rstrip(" \t")])
    return [" ".join(filter(None, parts)) if len(parts) > 1 else parts[0] for parts in out]


def _learn_name(name: str, sep: str, line: str) -> tuple[str, str]:
    stripped = name.rstrip(" \t")
    if not sep or _HEADER_NAME_RE.match(stripped) is None:
        raise RemoteProtocolError(f"malformed header line {line[:40]!r}")
    canonical = CANONICAL_NAME.get(stripped.lower(), stripped)
    entry = (canonical, canonical.lower())
    if len(_NAMES) < 4096:
        _NAMES[name] = entry
    return entry


def _extract_body(data: bytes, body_start: int, lengths: tuple[str, ...] | None) -> bytes:
    if not lengths:
        return data[body_start:]
    text = lengths[0]
    if len(lengths) > 1 and any(v != text for v in lengths):
        raise RemoteProtocolError("conflicting Content-Length values")
    if not text.isdigit() or not text.isascii():
        raise RemoteProtocolError(f"invalid Content-Length {text[:20]!r}")
    length = int(text) if len(text) < 10 else MAX_MESSAGE_SIZE + 1
    if body_start + length > len(data):
        raise RemoteProtocolError("Content-Length larger than the message")
    return data[body_start : body_start + length]


def _check_version(version: str) -> None:
    if version != "SIP/2.0" and version.upper() != "SIP/2.0":
        if version.upper().startswith("SIP/"):
            raise RemoteProtocolError(f"unsupported version {version[:20]!r}", 505)
        raise RemoteProtocolError(f"bad protocol version {version[:20]!r}")


def _parse_request_line(line: str, headers: Headers, body: bytes) -> Request:
    # Strict (RFC 4475 §3.1.2.9-10): exactly one SP between the three elements.
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise RemoteProtocolError(f"malformed request line {line[:80]!r}")
    method, uri_text, version = parts
    if method not in METHODS and not is_token(method):
        raise RemoteProtocolError(f"invalid method {method[:40]!r}")
    _check_version(version)
    uri = parse_uri(uri_text)
    if isinstance(uri, SipURI) and uri.headers:
        # §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11,
        # strict choice: reject rather than drop them).
        raise RemoteProtocolError(f"headers in Request-URI {uri_text[:80]!r}")
    return new_request(method, uri, headers, body)


def _parse_status_line(line: str, headers: Headers, body: bytes) -> Response:
    m = _STATUS_RE.match(line)
    if m is None:
        version = line.partition(" ")[0]
        _check_version(version)
        raise RemoteProtocolError(f"malformed status line {line[:80]!r}")
    return new_response(int(m[1]), m[2], headers, body)


def _check(message: Request | Response, index: Index) -> None:
    """Eagerly parse what transaction matching needs, and reject what §8.1.1
    says every message must carry exactly once (RFC 4475 §3.3.1, §3.3.8)."""
    try:
        vias, call_ids, froms, tos, cseqs = (
            index["via"], index["call-id"], index["from"], index["to"], index["cseq"]
        )
    except KeyError as exc:
        raise RemoteProtocolError(f"missing {CANONICAL_NAME[exc.args[0]]} header") from None
    max_forwards = index.get("max-forwards", _NONE)
    if len(call_ids) + len(froms) + len(tos) + len(cseqs) + len(max_forwards) > 5:
        raise RemoteProtocolError("more than one value in a single-value header")
    cache = message._cache
    top = vias[0] if "," not in vias[0] else message.headers.get_all("Via")[0]
    cache["via"] = VIA_MEMO.get(top) or Via.parse(top)
    call_id = call_ids[0]
    if _CALL_ID_RE.match(call_id) is None:
        raise RemoteProtocolError(f"invalid Call-ID {call_id[:80]!r}")
    cache["call_id"] = call_id
    from_, to = froms[0], tos[0]
    cache["from"] = NAME_ADDR_MEMO.get(from_) or NameAddr.parse(from_)
    cache["to"] = NAME_ADDR_MEMO.get(to) or NameAddr.parse(to)
    cseq = cache["cseq"] = CSEQ_MEMO.get(cseqs[0]) or CSeq.parse(cseqs[0])
    if not (max_forwards[0].isdigit() and max_forwards[0].isascii()):
        raise RemoteProtocolError(f"invalid Max-Forwards {max_forwards[0][:20]!r}")
    if isinstance(message, Request) and cseq.method != message.method:
        known = message.method in METHODS
        raise RemoteProtocolError(
            f"CSeq method {cseq.method[:40]!r} differs from {message.method[:40]!r}",
            400 if known else 501,
        )
