"""Request validation above the syntax (RFC 3261 §8.2.1-§8.2.3, §16.3).

:func:`check_request` is the application-level sieve for a syntactically
valid request, in the order a UAS applies it (§8.2): method (501 unknown,
405 not allowed), Request-URI scheme (416), extensions (420 with the
unsupported option tags), body type (415), then what the response body can be
(406).  An element that forwards the request (§16.3) instead checks the scheme,
Max-Forwards (483) and Proxy-Require (420).  It also rejects what RFC 4475
classes as application-layer errors: an unusable Contact (400), a Via branch
that is only the magic cookie (400) and, at a registrar, a non-SIP To (400).
"""

from __future__ import annotations

from sipstack.constants import BRANCH_MAGIC, METHODS
from sipstack.errors import RemoteProtocolError
from sipstack.headers import split_outside_quotes
from sipstack.message import Request
from sipstack.uri import SipURI

DEFAULT_SCHEMES = frozenset(("sip", "sips"))
# Methods whose successful response carries a session description (§13.2.1).
_ANSWER_METHODS = frozenset(("INVITE",))


def check_request(
    request: Request,
    *,
    supported: frozenset[str],
    allowed_methods: frozenset[str],
    accepted_types: frozenset[str],
    forwarding: bool = False,
    schemes: frozenset[str] = DEFAULT_SCHEMES,
    produced_types: frozenset[str] = frozenset(("application/sdp",)),
) -> None:
    """Raise :class:`RemoteProtocolError` (with ``status_hint``) if ``request``
    must be refused; return ``None`` if it may be processed.

    ``supported`` are our option tags, ``allowed_methods`` the methods we
    handle (REGISTER among them makes us a registrar), ``accepted_types`` the
    body types we understand, ``produced_types`` the body types our answers
    carry, ``schemes`` the Request-URI schemes we serve.  With ``forwarding``
    the request is checked as a proxy would before relaying it.
    """
    _check_transaction_layer_fields(request)
    if forwarding:
        _check_scheme(request, schemes)
        _check_max_forwards(request)
        _check_extensions(request, "Proxy-Require", supported)
        return
    _check_method(request, allowed_methods)
    _check_scheme(request, schemes)
    _check_registrar(request)
    _check_extensions(request, "Require", supported)
    _check_body(request, accepted_types)
    _check_acceptable(request, produced_types)


def _check_transaction_layer_fields(request: Request) -> None:
    # RFC 4475 §3.2.1: a bare magic cookie promises an RFC 3261 branch but
    # carries no transaction id; refuse rather than mis-match transactions.
    if request.via.branch == BRANCH_MAGIC:
        raise RemoteProtocolError("Via branch has no transaction id", 400)
    _ = request.contacts  # an unusable Contact is a 400 (RFC 4475 §3.1.2.13)


def _check_method(request: Request, allowed: frozenset[str]) -> None:
    if request.method in allowed:
        return
    if request.method in METHODS:
        raise RemoteProtocolError(f"method {request.method} not allowed here", 405)
    raise RemoteProtocolError(f"method {request.method[:40]!r} not implemented", 501)


def _check_scheme(request: Request, schemes: frozenset[str]) -> None:
    if request.uri.scheme not in schemes:
        raise RemoteProtocolError(f"unsupported URI scheme {request.uri.scheme!r}", 416)


def _check_registrar(request: Request) -> None:
    # §10.3 step 5: the To of a REGISTER is the address-of-record, a SIP URI.
    if request.method == "REGISTER" and not isinstance(request.to.uri, SipURI):
        raise RemoteProtocolError("address-of-record is not a SIP URI", 400)


def _check_max_forwards(request: Request) -> None:
    max_forwards = request.header_int("Max-Forwards")
    if max_forwards == 0:
        raise RemoteProtocolError("Max-Forwards exhausted", 483)


def option_tags(request: Request, name: str) -> tuple[str, ...]:
    """The option tags listed in ``name`` (Require, Proxy-Require, Supported)."""
    return tuple(tag for tag in request.headers.get_all(name) if tag)


def _check_extensions(request: Request, name: str, supported: frozenset[str]) -> None:
    lowered = {tag.lower() for tag in supported}
    unknown = tuple(t for t in option_tags(request, name) if t.lower() not in lowered)
    if unknown and request.method not in ("ACK", "CANCEL"):
        raise RemoteProtocolError(
            f"unsupported extensions {', '.join(unknown)}", 420, unsupported=unknown
        )


def _check_body(request: Request, accepted: frozenset[str]) -> None:
    content_type = request.content_type
    if request.body and content_type is not None and content_type not in accepted:
        raise RemoteProtocolError(f"unsupported body type {content_type!r}", 415)


def media_ranges(request: Request) -> tuple[str, ...]:
    """The media ranges of Accept, parameters dropped, lower-cased."""
    ranges: list[str] = []
    for line in request.headers.get_lines("Accept"):
        for item in split_outside_quotes(line, ","):
            media = item.split(";", 1)[0].strip().lower()
            if media:
                ranges.append(media)
    return tuple(ranges)


def _matches(media_range: str, content_type: str) -> bool:
    if media_range in ("*/*", content_type):
        return True
    kind, _, sub = media_range.partition("/")
    return sub == "*" and content_type.startswith(kind + "/")


def _check_acceptable(request: Request, produced: frozenset[str]) -> None:
    # §21.4.7: an Accept that rules out every body we could answer with.
    if request.method not in _ANSWER_METHODS or "Accept" not in request.headers:
        return
    ranges = media_ranges(request)
    if ranges and not any(_matches(r, t) for r in ranges for t in produced):
        raise RemoteProtocolError("no acceptable response body type", 406)
