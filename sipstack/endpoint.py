"""The sans-IO endpoint: parser, transaction layer and INVITE sessions as one.

DESIGN.md's contract: ``receive_data(data, addr, now)`` -> ``next_event()`` ->
``datagrams_to_send()`` -> ``get_timer()`` -> ``handle_timer(now)``. Layering
follows RFC 3261 §5: transport (the adapter) -> transaction (§17) -> dialog
and INVITE session (§12-§15) -> the application, which sees only the events
of :mod:`sipstack.endpoint_events`.

This is also the one boundary where a :class:`SipError` becomes a response:
an unparsable request gets a stateless error (§8.2 / RFC 4475), a parsed one
that the UAS checks refuse gets it through its server transaction.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sipstack.constants import T1, T2, T4
from sipstack.dialog import (
    DialogTable,
    InviteSession,
    Output,
    SendRequest,
    SendResponse,
    Terminated,
    TimerConfig,
    ViaConfig,
)
from sipstack.dialog.session_timer import too_small
from sipstack.endpoint_events import (
    EndpointEvent,
    IncomingCall,
    IncomingRequest,
    ResponseEvent,
    SessionEvent,
)
from sipstack.endpoint_state import ClientRequest, SessionTimers, TransactionIndex
from sipstack.endpoint_wire import (
    build_request,
    flow_of,
    local_failure,
    resolve_uri,
    stateless_error,
    with_via_transport,
)
from sipstack.errors import SipError
from sipstack.events import Address, Datagram, IdFactory
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message
from sipstack.transaction import (
    AckReceived,
    RequestReceived,
    ResponseReceived,
    StrayResponse,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
)
from sipstack.uri import URI
from sipstack.validate import check_request

log = logging.getLogger(__name__)

DEFAULT_ALLOW = ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "UPDATE", "REFER", "NOTIFY",
                 "INFO", "MESSAGE", "REGISTER")
Resolver = Callable[[URI], Address]


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """Who this endpoint says it is on the wire."""

    via: ViaConfig
    contact: str
    user_agent: str = "sipstack"
    allow: tuple[str, ...] = DEFAULT_ALLOW
    supported: tuple[str, ...] = ("replaces", "timer", "100rel")
    accept: tuple[str, ...] = ("application/sdp",)
    t1: float = T1
    t2: float = T2
    t4: float = T4
    # Answer every request at the address it came from (NAT-friendly rport).
    symmetric_responses: bool = True
    # RFC 4028 session timers for every call (None: only when the peer asks).
    session_timer: TimerConfig | None = None


class Endpoint:
    """One SIP endpoint (UA core + transactions + sessions), driven by bytes."""

    def __init__(self, ids: IdFactory, config: EndpointConfig,
                 resolver: Resolver = resolve_uri) -> None:
        self.ids = ids
        self.config = config
        self.resolve = resolver
        self.transactions = TransactionLayer(ids, t1=config.t1, t2=config.t2, t4=config.t4,
                                             symmetric=config.symmetric_responses)
        self.dialogs: DialogTable[InviteSession] = DialogTable()
        self._events: deque[EndpointEvent] = deque()
        self._out: list[Datagram] = []
        self._index = TransactionIndex()
        self._timers = SessionTimers()
        # Where a session's requests go when that is not its peer's Contact:
        # the connection or NAT binding the dialog was set up over.
        self._flows: dict[int, Address] = {}
        self._allowed = frozenset(config.allow)

    # -- the sans-IO contract -------------------------------------------------

    def receive_data(self, data: bytes, source: Address, now: float) -> None:
        """Bytes of one message (a datagram, or one framed stream message)."""
        try:
            message = parse_message(data)
        except SipError as exc:
            log.info("unparsable message from %s: %s", source, exc.message)
            reply = stateless_error(data, exc, self.config.user_agent)
            if reply is not None:
                self._out.append(Datagram(reply, source))
            return
        self.transactions.receive_message(message, source, now)
        self._drain(now)

    def next_event(self) -> EndpointEvent | None:
        return self._events.popleft() if self._events else None

    def datagrams_to_send(self) -> list[Datagram]:
        out = self._out + self.transactions.datagrams_to_send()
        self._out = []
        return out

    def get_timer(self) -> float | None:
        deadlines = [d for d in (self.transactions.get_timer(), self._timers.next_deadline())
                     if d is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        self.transactions.handle_timer(now)
        self._drain(now)
        for session in self._timers.due(now):
            self.apply(session, session.handle_timer(now), now)

    def transport_error(self, key: str, now: float) -> None:
        self.transactions.transport_error(key, now)
        self._drain(now)

    # -- application: out-of-dialog requests ------------------------------------

    def new_request(self, method: str, uri: URI | str, *, from_: str, to: str,
                    call_id: str | None = None, cseq: int = 1,
                    headers: Iterable[tuple[str, str]] = (), body: bytes = b"") -> Request:
        """A fresh out-of-dialog request with our Via, Contact and a From tag
        (``from_``/``to`` are name-addr text; a tag already in ``from_`` stays)."""
        return build_request(self, method, uri, from_=from_, to=to, call_id=call_id,
                             cseq=cseq, headers=headers, body=body)

    def send_request(self, request: Request, now: float,
                     destination: Address | None = None) -> str:
        """Send an out-of-dialog non-INVITE request (REGISTER, OPTIONS …); its
        final response arrives as :class:`ResponseEvent` with the returned key."""
        return self._send(request, destination, now, None)

    def respond(self, event: IncomingRequest, status: int, now: float, *,
                headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
                reason: str | None = None) -> Response:
        """Answer an :class:`IncomingRequest` through its server transaction."""
        to_tag = None if status == 100 else self.ids.tag()
        response = make_response(event.request, status, reason, to_tag=to_tag,
                                 headers=self._server_headers(headers), body=body)
        self.transactions.send_response(event.key, response, now)
        return response

    # -- application: INVITE sessions -------------------------------------------

    def invite(self, uri: URI | str, now: float, *, from_: str, to: str,
               headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
               destination: Address | None = None, call_id: str | None = None
               ) -> InviteSession:
        """Start a call: build and send an INVITE, return its UAC session."""
        extra = list(headers)
        if body and not any(n.lower() == "content-type" for n, _ in extra):
            extra.append(("Content-Type", "application/sdp"))
        request = self.new_request("INVITE", uri, from_=from_, to=to, call_id=call_id,
                                   headers=extra, body=body)
        return self.start_invite(request, now, destination)

    def start_invite(self, request: Request, now: float,
                     destination: Address | None = None) -> InviteSession:
        """Send a ready INVITE (say, one retried with credentials after a 401)
        and return its UAC session."""
        session = InviteSession.uac(request, ids=self.ids, via=self.config.via,
                                    contact=self.config.contact, table=self.dialogs,
                                    t1=self.config.t1, session_timer=self.config.session_timer)
        self._send(request, destination, now, session)
        self._drain(now)
        return session

    def apply(self, session: InviteSession, outputs: list[Output], now: float) -> None:
        """Carry out what a session returned (call it with the result of any
        session method: ``endpoint.apply(s, s.bye(), now)``)."""
        for output in outputs:
            if isinstance(output, SendRequest):
                self._send_from_session(session, output, now)
            elif isinstance(output, SendResponse):
                self._send_session_response(output.response, now)
            else:
                if isinstance(output, Terminated):
                    self._index.forget_session(session)
                    self._flows.pop(id(session), None)
                self._events.append(SessionEvent(session, output))
        self._timers.schedule(session)
        self._drain(now)

    def answer(self, session: InviteSession, status: int, now: float, *,
               request: Request | None = None, headers: Iterable[tuple[str, str]] = (),
               body: bytes = b"", reason: str | None = None) -> None:
        """Respond to the session's INVITE (or to ``request`` of the session)."""
        extra = self._server_headers(headers)
        if body and not any(n.lower() == "content-type" for n, _ in extra):
            extra.append(("Content-Type", "application/sdp"))
        outputs = session.respond(request or session.invite, status, now=now,
                                  headers=extra, body=body, reason=reason)
        self.apply(session, outputs, now)

    # -- internals: sending -------------------------------------------------------

    def _server_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        extra = list(headers)
        names = {n.lower() for n, _ in extra}
        if "server" not in names and "user-agent" not in names:
            extra.append(("Server", self.config.user_agent))
        return extra

    def _send(self, request: Request, destination: Address | None, now: float,
              session: InviteSession | None) -> str:
        address = destination or self.resolve(request.uri)
        if session is not None and destination is not None:
            self._flows.setdefault(id(session), destination)
        request = with_via_transport(request, address.transport)
        key = self.transactions.send_request(request, address, now)
        self._index.clients[key] = ClientRequest(request, session)
        return key

    def _send_from_session(self, session: InviteSession, order: SendRequest,
                           now: float) -> None:
        try:
            address = self._flows.get(id(session)) or self.resolve(order.destination)
        except SipError as exc:
            log.warning("cannot route %s to %s: %s", order.request.method,
                        order.destination, exc.message)
            return
        if order.request.method == "ACK":
            ack = with_via_transport(order.request, address.transport)
            self.transactions.send_stateless(ack, address)
            return
        self._send(order.request, address, now, session)

    def _send_session_response(self, response: Response, now: float) -> None:
        key = self._index.server_key(response)
        if key is None or self.transactions.state_of(key) is None:
            log.debug("no transaction left for %d %s", response.status, response.cseq)
            return
        self.transactions.send_response(key, response, now)

    # -- internals: transaction events ----------------------------------------

    def _drain(self, now: float) -> None:
        transactions = self.transactions
        while (event := transactions.next_event()) is not None:
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(self, event, now)

    def _on_request(self, event: RequestReceived, now: float) -> None:
        request = event.request
        try:
            check_request(request, supported=frozenset(self.config.supported),
                          allowed_methods=self._allowed,
                          accepted_types=frozenset(self.config.accept))
            if request.method == "CANCEL":
                self._on_cancel(event, now)
            elif request.to.tag is not None:
                self._on_in_dialog(event, now)
            elif request.method == "INVITE":
                self._on_new_invite(event, now)
            else:
                self._events.append(IncomingRequest(event.key, request, event.source))
        except SipError as exc:
            self._refuse(event, exc, now)

    def _refuse(self, event: RequestReceived, exc: SipError, now: float) -> None:
        status = exc.status_hint
        if status is None or event.request.method == "ACK":
            return
        headers: list[tuple[str, str]] = []
        if status in (405, 501):
            headers.append(("Allow", ", ".join(self.config.allow)))
        elif status == 420 and exc.unsupported:
            headers.append(("Unsupported", ", ".join(exc.unsupported)))
        elif status == 415:
            headers.append(("Accept", ", ".join(self.config.accept)))
        response = make_response(event.request, status, to_tag=self.ids.tag(),
                                 headers=self._server_headers(headers))
        self.transactions.send_response(event.key, response, now)

    def _on_cancel(self, event: RequestReceived, now: float) -> None:
        session = self._index.invites.get(event.cancels or "")
        if session is None:
            raise SipError("CANCEL matches no INVITE", 481)
        self._track(event)
        self.apply(session, session.receive_request(event.request, now), now)

    def _on_in_dialog(self, event: RequestReceived, now: float) -> None:
        session = self.dialogs.match_request(event.request)
        if session is None:  # pragma: no cover - match_request raises instead
            raise SipError("no such dialog", 481)
        self._track(event)
        self.apply(session, session.receive_request(event.request, now), now)

    def _on_new_invite(self, event: RequestReceived, now: float) -> None:
        timer = self.config.session_timer
        if timer is not None:
            refusal = too_small(event.request, timer, self.ids.tag())
            if refusal is not None:
                self.transactions.send_response(event.key, refusal, now)
                return
        session = InviteSession.uas(event.request, ids=self.ids, via=self.config.via,
                                    contact=self.config.contact, table=self.dialogs,
                                    t1=self.config.t1, session_timer=timer)
        self._track(event)
        self._index.invites[event.key] = session
        flow = flow_of(event.request, event.source)
        if flow is not None:
            self._flows[id(session)] = flow
        self._events.append(IncomingCall(session, event.request, event.source))

    def _track(self, event: RequestReceived) -> None:
        self._index.track(event.key, event.request)

    def _on_ack(self, event: AckReceived, now: float) -> None:
        try:
            session = self.dialogs.match_request(event.request)
        except SipError:
            return  # an ACK for nothing we know is dropped (§17.2.3)
        if session is not None:
            self.apply(session, session.receive_request(event.request, now), now)

    def _on_response(self, event: ResponseReceived, now: float) -> None:
        client = self._index.clients.get(event.key)
        if client is None:
            return
        if client.session is not None:
            session = client.session
            self.apply(session, session.receive_response(event.response, now), now)
        else:
            self._events.append(ResponseEvent(event.key, client.request, event.response))

    def _on_stray(self, event: StrayResponse, now: float) -> None:
        response = event.response
        if response.cseq.method != "INVITE" or not response.is_success:
            return
        session = self.dialogs.match_response(response)
        if session is not None:  # a 2xx retransmission: the session re-ACKs
            self.apply(session, session.receive_response(response, now), now)

    def _on_failure(self, event: TransactionTimeout | TransportError, now: float) -> None:
        client = self._index.clients.get(event.key)
        if client is None:
            return
        # §8.1.3.1: a timeout counts as a 408, a transport failure as a 503.
        status = 408 if isinstance(event, TransactionTimeout) else 503
        response = local_failure(client.request, status)
        if client.session is not None:
            session = client.session
            self.apply(session, session.receive_response(response, now), now)
        else:
            self._events.append(ResponseEvent(event.key, client.request, response, True))

    def _on_terminated(self, event: TransactionTerminated, now: float) -> None:
        self._index.terminated(event.key)


_HANDLERS: dict[type, Callable[[Endpoint, object, float], None]] = {
    RequestReceived: Endpoint._on_request,  # type: ignore[dict-item]
    AckReceived: Endpoint._on_ack,  # type: ignore[dict-item]
    ResponseReceived: Endpoint._on_response,  # type: ignore[dict-item]
    StrayResponse: Endpoint._on_stray,  # type: ignore[dict-item]
    TransactionTimeout: Endpoint._on_failure,  # type: ignore[dict-item]
    TransportError: Endpoint._on_failure,  # type: ignore[dict-item]
    TransactionTerminated: Endpoint._on_terminated,  # type: ignore[dict-item]
}

