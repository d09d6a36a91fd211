"""Dialogs (RFC 3261 §12): creation, in-dialog requests, route sets.

A :class:`Dialog` is the peer-to-peer relationship that one INVITE (or another
dialog-creating request) sets up: its id (Call-ID, local tag, remote tag), its
state (Early, Confirmed, Terminated), the local and remote sequence numbers,
the local and remote URIs, the remote target and the route set.

- §12.1.1 UAS side: :meth:`Dialog.from_uas` (request + the response we send).
- §12.1.2 UAC side: :meth:`Dialog.from_uac` (request + 1xx-with-tag or 2xx).
- §12.2.1.1 requests within a dialog: :meth:`Dialog.create_request`, with the
  loose-routing (``lr``) and strict-routing rules; :meth:`Dialog.next_hop`.
- §12.2.2 requests received within a dialog: :meth:`Dialog.receive_request`
  (CSeq ordering, target refresh by re-INVITE and UPDATE, RFC 3311).
- §12.2.1.2 / §13.2.2.4 responses: :meth:`Dialog.receive_response` (early to
  confirmed, route set recomputed from a 2xx, target refresh).

The Via sent-by comes from :class:`ViaConfig`; branches from the injected
:class:`~sipstack.events.IdFactory`. No I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.events import IdFactory
from sipstack.headers import NameAddr
from sipstack.message import Request, Response
from sipstack.uri import URI, SipURI

# §12.2: requests that may change the remote target (RFC 3311 adds UPDATE).
TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE"})
# Requests that reuse the INVITE's CSeq number instead of taking a new one.
_SAME_CSEQ_AS_INVITE = frozenset({"ACK", "CANCEL"})
MAX_FORWARDS = 70
_CSEQ_MAX = 0xFFFFFFFF


class DialogState(enum.Enum):
    """§12: a dialog is Early (1xx with a tag), Confirmed (2xx) or Terminated."""

    EARLY = "Early"
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"


@dataclass(frozen=True, slots=True)
class DialogId:
    """§12: Call-ID plus local and remote tag, as seen from our side."""

    call_id: str
    local_tag: str
    remote_tag: str

    @classmethod
    def of_request(cls, request: Request) -> DialogId | None:
        """The id a received in-dialog request names (None without To tag)."""
        remote, local = request.from_.tag, request.to.tag
        if local is None or remote is None:
            return None
        return cls(request.call_id, local, remote)

    @classmethod
    def of_response(cls, response: Response) -> DialogId | None:
        """The id a response to one of our requests names (None without tags)."""
        local, remote = response.from_.tag, response.to.tag
        if local is None or remote is None:
            return None
        return cls(response.call_id, local, remote)


@dataclass(frozen=True, slots=True)
class ViaConfig:
    """The Via sent-by our requests carry (the transport picks it; §18.1.1)."""

    host: str
    port: int | None = None
    transport: str = "UDP"
    rport: bool = True

    def header(self, branch: str) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") \
            else self.host
        sent_by = host if self.port is None else f"{host}:{self.port}"
        rport = ";rport" if self.rport else ""
        return f"SIP/2.0/{self.transport.upper()} {sent_by};branch={branch}{rport}"


def route_set_of(message: Request | Response) -> tuple[NameAddr, ...]:
    """Record-Route values in the order they appear in the message."""
    return tuple(NameAddr.parse(v) for v in message.headers.get_all("Record-Route"))


def _first_contact(message: Request | Response) -> URI | None:
    contacts = message.contacts
    return contacts[0].uri if contacts else None


def _is_loose(route: NameAddr) -> bool:
    return route.uri.param("lr") is not None


def _as_request_uri(uri: URI) -> URI:
    """§12.2.1.1 / §19.1.1: strip what a Request-URI may not carry."""
    if not isinstance(uri, SipURI):
        return uri
    params = tuple((n, v) for n, v in uri.params if n.lower() != "method")
    if params == uri.params and not uri.headers:
        return uri
    return uri.replace(params=params, headers=())


class Dialog:
    """The state of one dialog (§12), from our side.

    Mutable: the dialog's owner (an INVITE session, a subscription) updates it
    as requests and responses flow. Build with :meth:`from_uac` or
    :meth:`from_uas`.
    """

    __slots__ = ("call_id", "ids", "invite_seq", "local_contact", "local_seq",
                 "local_tag", "local_uri", "remote_seq", "remote_tag", "remote_target",
                 "remote_uri", "route_set", "secure", "state", "via")

    def __init__(self, *, call_id: str, local_tag: str, remote_tag: str,
                 local_uri: NameAddr, remote_uri: NameAddr, remote_target: URI,
                 route_set: tuple[NameAddr, ...], local_seq: int | None,
                 remote_seq: int | None, secure: bool, state: DialogState,
                 via: ViaConfig, ids: IdFactory, local_contact: str | None = None) -> None:
        self.call_id = call_id
        self.local_tag = local_tag
        self.remote_tag = remote_tag
        self.local_uri = local_uri
        self.remote_uri = remote_uri
        self.remote_target = remote_target
        self.route_set = route_set
        self.local_seq = local_seq
        self.remote_seq = remote_seq
        self.secure = secure
        self.state = state
        self.via = via
        self.ids = ids
        self.local_contact = local_contact
        # CSeq number of the last INVITE sent in this dialog (ACK and CANCEL reuse it).
        self.invite_seq: int | None = local_seq

    # -- creation ----------------------------------------------------------------

    @classmethod
    def from_uac(cls, request: Request, response: Response, *, via: ViaConfig,
                 ids: IdFactory) -> Dialog:
        """§12.1.2: the dialog a 1xx (with To tag) or 2xx to our request creates."""
        tag, local_tag = response.to.tag, request.from_.tag
        if tag is None or local_tag is None or not 101 <= response.status < 300:
            raise RemoteProtocolError("response does not create a dialog", None)
        target = _first_contact(response)
        if target is None:
            # §12.1.2 needs a Contact; fall back to the request URI (lenient peers).
            target = request.uri
        contact = request.headers.get("Contact")
        return cls(
            call_id=request.call_id, local_tag=local_tag, remote_tag=tag,
            local_uri=request.from_, remote_uri=response.to, remote_target=target,
            route_set=tuple(reversed(route_set_of(response))),
            local_seq=request.cseq.seq, remote_seq=None,
            secure=_is_sips(request.uri),
            state=DialogState.CONFIRMED if response.is_success else DialogState.EARLY,
            via=via, ids=ids, local_contact=contact)

    @classmethod
    def from_uas(cls, request: Request, response: Response, *, via: ViaConfig,
                 ids: IdFactory) -> Dialog:
        """§12.1.1: the dialog our 1xx (101-199) or 2xx to ``request`` creates."""
        tag, remote_tag = response.to.tag, request.from_.tag
        if tag is None or not 101 <= response.status < 300:
            raise LocalProtocolError("response does not create a dialog")
        if remote_tag is None:
            # RFC 2543 peers omit the From tag; the dialog id then has an empty one.
            remote_tag = ""
        # An RFC 2543 INVITE may lack Contact (RFC 4475 §3.4.1): its From is
        # then the only address of the caller.
        target = _first_contact(request) or request.from_.uri
        dialog = cls(
            call_id=request.call_id, local_tag=tag, remote_tag=remote_tag,
            local_uri=response.to, remote_uri=request.from_, remote_target=target,
            route_set=route_set_of(request), local_seq=None,
            remote_seq=request.cseq.seq, secure=_is_sips(request.uri),
            state=DialogState.CONFIRMED if response.is_success else DialogState.EARLY,
            via=via, ids=ids, local_contact=response.headers.get("Contact"))
        dialog.invite_seq = request.cseq.seq if request.method == "INVITE" else None
        return dialog

    @property
    def id(self) -> DialogId:
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    # -- sending (§12.2.1.1) -----------------------------------------------------

    def create_request(self, method: str, headers: Iterable[tuple[str, str]] = (),
                       body: bytes = b"", *, cseq: int | None = None) -> Request:
        """A request within the dialog (§12.2.1.1).

        The CSeq number is the local one plus one, except for ACK and CANCEL,
        which reuse the last INVITE's (or ``cseq`` when given). A CANCEL
        must also reuse the INVITE's branch (§9.1), which this method cannot
        know: it is built from the INVITE by the session instead. Route and
        Request-URI follow the loose/strict routing rules; INVITE and UPDATE
        carry the dialog's Contact; a body without Content-Type is sent as
        ``application/sdp``.
        """
        if self.state is DialogState.TERMINATED:
            raise LocalProtocolError(f"{method} in a terminated dialog", 481)
        method = method.upper()
        seq = self._next_seq(method, cseq)
        uri, routes = self._request_uri_and_routes()
        extra = list(headers)
        fields = [
            ("Via", self.via.header(self.ids.branch())),
            ("Max-Forwards", str(MAX_FORWARDS)),
            ("From", str(self.local_uri.with_params(tag=self.local_tag))),
            ("To", str(self._remote_party())),
            ("Call-ID", self.call_id),
            ("CSeq", f"{seq} {method}"),
        ]
        fields += [("Route", str(route)) for route in routes]
        if self.local_contact is not None and method in TARGET_REFRESH_METHODS \
                and not _has(extra, "Contact"):
            fields.append(("Contact", self.local_contact))
        fields += extra
        if body and not _has(extra, "Content-Type"):
            fields.append(("Content-Type", "application/sdp"))
        return Request.build(method, uri, fields, body)

    def _remote_party(self) -> NameAddr:
        if self.remote_tag:
            return self.remote_uri.with_params(tag=self.remote_tag)
        untagged = tuple(p for p in self.remote_uri.params if p[0].lower() != "tag")
        return NameAddr(self.remote_uri.uri, self.remote_uri.display_name, untagged)

    def _next_seq(self, method: str, cseq: int | None) -> int:
        if cseq is not None:
            return cseq
        if method in _SAME_CSEQ_AS_INVITE:
            if self.invite_seq is None:
                raise LocalProtocolError(f"{method} without an INVITE in the dialog")
            return self.invite_seq
        # §12.2.1.1: an empty local sequence number starts anywhere below 2**31.
        seq = 1 if self.local_seq is None else self.local_seq + 1
        if seq > _CSEQ_MAX:
            raise LocalProtocolError("CSeq number space exhausted")
        self.local_seq = seq
        if method == "INVITE":
            self.invite_seq = seq
        return seq

    def _request_uri_and_routes(self) -> tuple[URI, tuple[NameAddr, ...]]:
        if not self.route_set:
            return self.remote_target, ()
        first = self.route_set[0]
        if _is_loose(first):
            return self.remote_target, self.route_set
        # Strict router: it gets the Request-URI; the remote target goes last.
        return (_as_request_uri(first.uri),
                (*self.route_set[1:], NameAddr(self.remote_target)))

    def next_hop(self) -> URI:
        """The URI whose host/port an in-dialog request is sent to (§8.1.2):
        the first route (which a strict router also gets as Request-URI), else
        the remote target."""
        return self.route_set[0].uri if self.route_set else self.remote_target

    # -- receiving ---------------------------------------------------------------

    def receive_request(self, request: Request) -> None:
        """§12.2.2: check ordering and apply a target refresh.

        Raises :class:`RemoteProtocolError` with ``status_hint`` 500 for a
        CSeq not above the last one (ACK and CANCEL excepted: they reuse the
        INVITE's), and 481 when the dialog has terminated.
        """
        if self.state is DialogState.TERMINATED:
            raise RemoteProtocolError("dialog terminated", 481)
        seq = request.cseq.seq
        if request.method not in _SAME_CSEQ_AS_INVITE:
            if self.remote_seq is not None and seq <= self.remote_seq:
                raise RemoteProtocolError(
                    f"CSeq {seq} out of order (last {self.remote_seq})", 500)
            self.remote_seq = seq
        if request.method in TARGET_REFRESH_METHODS:
            target = _first_contact(request)
            if target is not None:
                self.remote_target = target

    def receive_response(self, request: Request, response: Response) -> None:
        """Apply a response to a request we sent in this dialog.

        A 2xx moves an early dialog to Confirmed and recomputes the route set
        (§13.2.2.4); a 1xx/2xx to INVITE or UPDATE refreshes the remote target.
        """
        if self.state is DialogState.TERMINATED or response.status < 101:
            return
        if response.status >= 300:
            return
        if self.state is DialogState.EARLY and response.is_success \
                and request.method == "INVITE":
            self.route_set = tuple(reversed(route_set_of(response)))
            self.state = DialogState.CONFIRMED
        if request.method in TARGET_REFRESH_METHODS:
            target = _first_contact(response)
            if target is not None:
                self.remote_target = target

    def confirm(self) -> None:
        """Early -> Confirmed (our 2xx was sent, or theirs arrived)."""
        if self.state is DialogState.TERMINATED:
            raise LocalProtocolError("cannot confirm a terminated dialog")
        self.state = DialogState.CONFIRMED

    def terminate(self) -> None:
        self.state = DialogState.TERMINATED

    def __repr__(self) -> str:
        return f"<Dialog {self.id} {self.state.value}>"


def _is_sips(uri: URI) -> bool:
    return isinstance(uri, SipURI) and uri.scheme == "sips"


def _has(fields: list[tuple[str, str]], name: str) -> bool:
    lname = name.lower()
    return any(n.lower() == lname for n, _ in fields)
