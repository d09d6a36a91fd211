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

from sipstack.constants import BRANCH_MAGIC, UDP_MTU_LIMIT
from sipstack.errors import LocalProtocolError
from sipstack.events import Address
from sipstack.headers import Headers, Via, split_outside_quotes
from sipstack.message import Request

LEGACY_PREFIX = "2543|"


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
    lines = headers.get_lines("Via")
    if len(lines) == 1 and "," not in lines[0]:
        return headers.with_replaced("Via", value)
    fields = list(headers)
    for i, (name, line) in enumerate(fields):
        if name == "Via":
            if "," in line:
                rest = split_outside_quotes(line, ",")[1:]
                value = ",".join([value, *rest])
            fields[i] = ("Via", value)
            return Headers(fields)
    raise LocalProtocolError("message has no Via header")


def _plain_host(host: str) -> str:
    return host[1:-1] if host.startswith("[") else host


def stamp_via(request: Request, source: Address) -> tuple[Request, Via]:
    """§18.2.1: add ``received`` when the sent-by host is not the source IP;
    RFC 3581 §4: fill an empty ``rport`` (and then always add ``received``).
    Returns the request as the TU sees it and its (new) top Via."""
    via = request.via
    rport = via.param("rport")
    if rport == "":
        stamped = via.with_params(received=source.host, rport=str(source.port))
    elif _plain_host(via.host) != source.host:
        stamped = via.with_params(received=source.host)
    else:
        return request, via
    headers = replace_top_via(request.headers, str(stamped))
    return request.replace(headers=headers), stamped


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
