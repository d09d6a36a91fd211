"""Wire helpers of the endpoint: building requests, resolving URIs to
addresses (§8.1.2, IP literals only: RFC 3263 lookups belong to the adapter),
and the stateless error answer to a request that could not be parsed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sipstack.constants import reason_phrase
from sipstack.errors import SipError
from sipstack.events import Address
from sipstack.headers import NameAddr
from sipstack.message import Request, Response, make_response
from sipstack.transaction.keys import replace_top_via
from sipstack.uri import URI, SipURI, parse_uri

if TYPE_CHECKING:
    from sipstack.endpoint import Endpoint

# Headers echoed into a stateless error response, found by a lenient scan of
# a message the parser refused (long and compact names).
_ECHO = {"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
         "call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}
_LINE_END = re.compile(rb"\r?\n")


def resolve_uri(uri: URI) -> Address:
    """Where a request for ``uri`` goes: its host must be an IP literal (or
    ``localhost``); the port and transport come from the URI or defaults."""
    if not isinstance(uri, SipURI):
        raise SipError(f"cannot route to a {uri.scheme}: URI", 416)
    host = uri.host[1:-1] if uri.host.startswith("[") else uri.host
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise SipError(f"no resolver for host {uri.host}", 502) from None
    transport = (uri.param("transport") or ("tls" if uri.scheme == "sips" else "udp")).lower()
    return Address(transport, host, uri.port or Address.default_port(transport))


def flow_of(request: Request, source: Address) -> Address | None:
    """Where requests back to the sender of ``request`` must go instead of its
    Contact: the connection it came over (§18.2.2 spirit, RFC 5626), or its
    NAT binding when the Contact names another host; None to follow Contact."""
    contacts = request.contacts
    return flow_for(contacts[0].uri if contacts else request.from_.uri, source)


def flow_for(contact: URI, source: Address) -> Address | None:
    """The rule behind :func:`flow_of`, for a contact already known (a
    registrar binding): the source when it is a connection or the contact
    names another host than the one the message came from, else None."""
    if source.transport != "udp" or not isinstance(contact, SipURI):
        return source
    host = contact.host[1:-1] if contact.host.startswith("[") else contact.host
    return None if host == source.host else source


def with_via_transport(request: Request, transport: str) -> Request:
    """Make the top Via name the transport the request really leaves on."""
    via = request.via
    if via.transport == transport.upper():
        return request
    top = str(type(via)(transport.upper(), via.host, via.port, via.params))
    return request.replace(headers=replace_top_via(request.headers, top))


def build_request(endpoint: Endpoint, method: str, uri: URI | str, *, from_: str, to: str,
                  call_id: str | None, cseq: int, headers: Iterable[tuple[str, str]],
                  body: bytes) -> Request:
    ids, config = endpoint.ids, endpoint.config
    sender = NameAddr.parse(from_)
    if sender.tag is None:
        sender = sender.with_params(tag=ids.tag())
    fields = [
        ("Via", config.via.header(ids.branch())),
        ("Max-Forwards", "70"),
        ("From", str(sender)),
        ("To", to),
        ("Call-ID", call_id or ids.call_id()),
        ("CSeq", f"{cseq} {method}"),
    ]
    extra = list(headers)
    names = {n.lower() for n, _ in extra}
    if method in ("INVITE", "REGISTER", "SUBSCRIBE", "REFER") and "contact" not in names:
        fields.append(("Contact", config.contact))
    if method == "INVITE":
        if "allow" not in names:
            fields.append(("Allow", ", ".join(config.allow)))
        if "supported" not in names and config.supported:
            fields.append(("Supported", ", ".join(config.supported)))
    if "user-agent" not in names:
        fields.append(("User-Agent", config.user_agent))
    fields.extend(extra)
    if isinstance(uri, str):
        uri = parse_uri(uri)
    return Request.build(method, uri, fields, body)


def local_failure(request: Request, status: int) -> Response:
    """The response a UAC acts on when no response came (§8.1.3.1)."""
    return make_response(request, status, f"{reason_phrase(status)} (local)")


def stateless_error(data: bytes, exc: SipError, server: str) -> bytes | None:
    """An error response for a request the parser refused, or None (a
    response, a discard-worthy error, or too little to answer to)."""
    status = exc.status_hint
    if status is None or data[:4].upper() == b"SIP/":
        return None
    head = data.split(b"\r\n\r\n", 1)[0]
    found: dict[str, list[bytes]] = {}
    for line in _LINE_END.split(head)[1:]:
        name, sep, value = line.partition(b":")
        canonical = _ECHO.get(name.strip().lower().decode("latin-1"))
        if sep and canonical:
            found.setdefault(canonical, []).append(value.strip())
    if not found.get("Via"):
        return None  # nowhere to send a response: drop it
    lines = [f"SIP/2.0 {status} {reason_phrase(status)}".encode()]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        lines += [name.encode() + b": " + value for value in found.get(name, ())]
    lines += [f"Server: {server}".encode(), b"Content-Length: 0", b"", b""]
    return b"\r\n".join(lines)


