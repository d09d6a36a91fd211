"""Transaction matching and the transport-layer rules the transaction layer applies.

- §17.1.3: a response matches a client transaction by top Via branch and
  CSeq method (a CANCEL has its own transaction on the INVITE's branch).
- §17.2.3: a request matches a server transaction by branch, sent-by and
  method (ACK matches the INVITE); without the magic cookie (RFC 2543
  peers, RFC 4475 inv2543 and badbranch) by Request-URI, To tag, From tag,
  Call-ID, CSeq and the whole top Via.
- §18.2.1 with RFC 3581: ``received`` and ``rport`` on the top Via of a
  received request; §18.2.2: where its responses go.
- §18.1.1: a UDP request above the MTU limit goes over TCP instead.
"""

from __future__ import annotations

import re

from sipstack.constants import BRANCH_MAGIC, UDP_MTU_LIMIT
from sipstack.errors import LocalProtocolError
from sipstack.events import Address
from sipstack.headers import Headers, Via, make_via, split_outside_quotes
from sipstack.message import Request

LEGACY_PREFIX = "2543|"
# An ``rport`` flag without a value, as most clients write it.
_RPORT_FLAG_RE = re.compile(r";rport(?=;|\Z)")
_RPORT_FLAG = ("rport", None)


def has_magic_cookie(branch: str | None) -> bool:
    """True for an RFC 3261 branch: the cookie followed by something unique
    (a branch that is only the cookie gets RFC 2543 matching)."""
    return branch is not None and len(branch) > 7 and branch.startswith(BRANCH_MAGIC)


def client_key(branch: str, method: str) -> str:
    return f"{branch}|{method}"


def server_key(request: Request, method: str | None = None) -> str:
    """The key of the server transaction ``request`` belongs to, taking its
    method as ``method`` (ACK belongs to its INVITE)."""
    if method is None:
        method = request.method
    if method == "ACK":
        method = "INVITE"
    via = request.via
    branch = via.branch
    if has_magic_cookie(branch):
        return f"{branch}|{via.host}:{via.port or ''}|{method}"
    return legacy_key(request, method, request.to.tag)


def legacy_key(request: Request, method: str, to_tag: str | None) -> str:
    """§17.2.3 matching for requests from RFC 2543 clients."""
    parts = (str(request.uri), to_tag or "", request.from_.tag or "", request.call_id,
             str(request.cseq.seq), method, str(request.via))
    return LEGACY_PREFIX + "|".join(parts)


def replace_top_via(headers: Headers, value: str) -> Headers:
    """Headers with the topmost Via value replaced (other Vias kept as written)."""
    return headers.with_first_line("Via", top_via_line(headers, value))


def top_via_line(headers: Headers, value: str) -> str:
    """The first Via field line of ``headers`` with its first value replaced."""
    line = headers.get("Via")
    if line is None:
        raise LocalProtocolError("message has no Via header")
    return _first_line_with(line, value)


def _first_line_with(line: str, value: str) -> str:
    """Via field ``line`` with its first value replaced by ``value``."""
    if "," not in line:
        return value
    return ",".join([value, *split_outside_quotes(line, ",")[1:]])


def _plain_host(host: str) -> str:
    return host[1:-1] if host.startswith("[") else host


def stamp_via(request: Request, source: Address) -> tuple[Request, Via]:
    """§18.2.1: add ``received`` when the sent-by host is not the source IP;
    RFC 3581 §4: fill an empty ``rport`` (and then always add ``received``).
    Returns the request as the TU sees it and its (new) top Via."""
    via = request.via
    rport = via.param("rport")
    if rport != "" and _plain_host(via.host) == source.host:
        return request, via
    line = request.headers.get("Via") or ""
    top = line if "," not in line else split_outside_quotes(line, ",")[0].strip()
    stamped = _stamped_text(via, top, source, rport == "")
    if stamped is None:
        port = {"rport": str(source.port)} if rport == "" else {}
        new_via = via.with_params(received=source.host, **port)
        text = str(new_via)
    else:
        text, new_via = stamped
    return request.with_top_via(_first_line_with(line, text), new_via), new_via


def _stamped_text(via: Via, top: str, source: Address,
                  fill_rport: bool) -> tuple[str, Via] | None:
    """The stamped top Via as ``top`` with the parameters written into it, or
    None when the text needs the general path (an existing ``received``,
    quoted values, an ``rport`` flag spelled otherwise)."""
    if '"' in top or via.param("received") is not None:
        return None
    received = ("received", source.host)
    if not fill_rport:
        params = (*via.params, received)
        return f"{top};received={source.host}", make_via(via.transport, via.host, via.port,
                                                         params)
    flag = _RPORT_FLAG_RE.search(top)
    if flag is None or _RPORT_FLAG not in via.params:
        return None
    at = via.params.index(_RPORT_FLAG)
    port = str(source.port)
    params = (*via.params[:at], ("rport", port), *via.params[at + 1:], received)
    text = f"{top[:flag.end()]}={port}{top[flag.end():]};received={source.host}"
    return text, make_via(via.transport, via.host, via.port, params)


def response_address(via: Via, source: Address) -> Address:
    """§18.2.2 (and RFC 3581 §4): where responses to a request go."""
    if source.reliable:
        return source
    transport = source.transport
    port = via.port or Address.default_port(transport)
    maddr = via.param("maddr")
    if maddr:
        return Address(transport, _plain_host(maddr), port)
    received = via.param("received")
    if received:
        rport = via.param("rport")
        if rport and rport.isdigit():
            port = int(rport)
        return Address(transport, _plain_host(received), port)
    return Address(transport, _plain_host(via.host), port)


def fit_transport(request: Request, data: bytes,
                  destination: Address) -> tuple[Request, bytes, Address]:
    """§18.1.1: a request over UDP larger than the MTU limit is sent over TCP,
    with the top Via transport rewritten to match."""
    if destination.transport != "udp" or len(data) <= UDP_MTU_LIMIT:
        return request, data, destination
    via = request.via
    tcp_via = Via("TCP", via.host, via.port, via.params)
    request = request.replace(headers=replace_top_via(request.headers, str(tcp_via)))
    return request, bytes(request), Address("tcp", destination.host, destination.port)
