"""The transaction layer: RFC 3261 §17 (with RFC 6026) between transport and TU.

Sans-IO: ``receive_message`` and the ``send_*`` calls feed it,
``next_event`` yields what the TU must know, ``datagrams_to_send`` what the
adapter must send, ``get_timer``/``handle_timer`` drive the one deadline heap
shared by every transaction. Matching follows §17.1.3 and §17.2.3 (see
:mod:`sipstack.transaction.keys`); §18.2.1/§18.2.2 and RFC 3581 decide the
Via stamping and where responses go, §18.1.1 when a request moves to TCP.
Terminated transactions leave the table at once (§17.1.1.2, §17.2.1).
"""

from __future__ import annotations

from collections import deque

from sipstack.constants import T1, T2, T4
from sipstack.errors import LocalProtocolError
from sipstack.events import Address, Datagram, IdFactory
from sipstack.message import Request, Response
from sipstack.timers import TimerHeap, TimerValues
from sipstack.transaction.base import (
    TERMINATED,
    TIMER_FIRED,
    TRANSPORT_FAILED,
    AckReceived,
    CancelTimer,
    Deliver,
    Effect,
    Receive,
    RequestReceived,
    ResponseReceived,
    Send,
    StartTimer,
    StrayResponse,
    Terminated,
    Transaction,
    TransactionEvent,
    TransactionTerminated,
    TransactionTimeout,
    Transmit,
    TransportError,
    make_ack_for_error,
    make_cancel,
)
from sipstack.transaction.client_invite import ClientInviteTransaction
from sipstack.transaction.client_non_invite import ClientNonInviteTransaction
from sipstack.transaction.keys import (
    LEGACY_PREFIX,
    client_key,
    fit_transport,
    legacy_key,
    response_address,
    server_key,
    stamp_via,
    top_via_line,
)
from sipstack.transaction.server_invite import ServerInviteTransaction
from sipstack.transaction.server_non_invite import ServerNonInviteTransaction

ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction
ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction


class TransactionLayer:
    """Every client and server transaction of one endpoint.

    ``send_trying=False`` leaves the 100 (Trying) to an INVITE to the TU
    (§17.2.1 allows that when the TU answers within 200 ms). ``symmetric``
    sends every UDP response back to the address the request came from, as
    if each Via asked for rport (RFC 3581): what phones behind NAT need, and
    what a server facing unknown peers should do.
    """

    def __init__(self, ids: IdFactory, *, t1: float = T1, t2: float = T2, t4: float = T4,
                 send_trying: bool = True, symmetric: bool = False) -> None:
        self._ids = ids
        self._symmetric = symmetric
        self._timer_values = TimerValues(t1, t2, t4)
        self._send_trying = send_trying
        self._clients: dict[str, ClientTransaction] = {}
        self._servers: dict[str, ServerTransaction] = {}
        self._heap: TimerHeap[Transaction] = TimerHeap()
        self._events: deque[TransactionEvent] = deque()
        self._out: list[Datagram] = []
        # Requests moved to TCP by size (§18.1.1): their UDP form, for a fallback.
        self._fallback: dict[str, tuple[Request, bytes, Address]] = {}

    def __len__(self) -> int:
        """How many transactions are alive."""
        return len(self._clients) + len(self._servers)

    def state_of(self, key: str) -> str | None:
        """The RFC state name of transaction ``key`` (None once it is gone)."""
        tx = self._clients.get(key) or self._servers.get(key)
        return None if tx is None else tx.state

    # --- from the transport ------------------------------------------------

    def receive_message(self, message: Request | Response, source: Address,
                        now: float) -> None:
        """A parsed message arrived from ``source``."""
        if isinstance(message, Response):
            self._receive_response(message, source, now)
        else:
            self._receive_request(message, source, now)

    def _receive_response(self, response: Response, source: Address, now: float) -> None:
        branch = response.via.branch
        tx = None if branch is None else self._clients.get(
            client_key(branch, response.cseq.method))
        if tx is None:
            self._events.append(StrayResponse(response, source))
            return
        self._apply(tx, tx.handle(Receive(response), now), now, source)

    def _receive_request(self, request: Request, source: Address, now: float) -> None:
        key = server_key(request)
        tx = self._servers.get(key)
        if tx is None and request.method == "ACK":
            tx = self._legacy_invite_for_ack(request, key)
        if tx is not None:
            self._apply(tx, tx.handle(Receive(request), now), now, source)
        elif request.method == "ACK":
            self._events.append(AckReceived(stamp_via(request, source)[0], source))
        else:
            self._new_server_transaction(key, request, source, now)

    def _legacy_invite_for_ack(self, ack: Request,
                               key: str) -> ServerInviteTransaction | None:
        # An RFC 2543 ACK carries the To tag of the final response, which the
        # INVITE lacked: look the INVITE up without it, then compare the tag.
        if not key.startswith(LEGACY_PREFIX):
            return None
        tx = self._servers.get(legacy_key(ack, "INVITE", None))
        if (isinstance(tx, ServerInviteTransaction) and tx.final is not None
                and tx.final.to.tag == ack.to.tag):
            return tx
        return None

    def _new_server_transaction(self, key: str, request: Request, source: Address,
                                now: float) -> None:
        cancels = None
        if request.method == "CANCEL":
            invite_key = server_key(request, "INVITE")
            cancels = invite_key if invite_key in self._servers else None
        request, via = stamp_via(request, source)
        address = source if self._symmetric else response_address(via, source)
        tx: ServerTransaction
        if request.method == "INVITE":
            tx = ServerInviteTransaction(key, request, address, self._timer_values)
            effects = tx.start(now, send_trying=self._send_trying)
        else:
            tx = ServerNonInviteTransaction(key, request.method, address, self._timer_values)
            effects = tx.start(now)
        self._servers[key] = tx
        self._events.append(RequestReceived(key, request, source, cancels))
        self._apply(tx, effects, now, source)

    def transport_error(self, key: str, now: float) -> None:
        """The adapter could not send a datagram of transaction ``key``
        (§17.1.4, §17.2.4). Reports for a finished transaction are ignored."""
        fallback = self._fallback.pop(key, None)
        if fallback is not None and key in self._clients:
            # §18.1.1: a request moved to TCP only for its size goes back to
            # UDP when the connection cannot be made.
            self._heap.cancel_all(self._clients[key], self._clients[key].TIMERS)
            self._start_client(key, *fallback, now)
            return
        tx = self._clients.get(key) or self._servers.get(key)
        if tx is not None:
            self._apply(tx, tx.handle(TRANSPORT_FAILED, now), now, None)

    # --- from the TU -------------------------------------------------------

    def send_request(self, request: Request, destination: Address, now: float) -> str:
        """Start a client transaction for ``request`` and return its key.

        The top Via (sent-by is the TU's business) gets a branch from the id
        factory when it has none. Over UDP, a request above the MTU limit is
        switched to TCP (§18.1.1).
        """
        method = request.method
        if method == "ACK":
            raise LocalProtocolError("ACK is never a transaction: use send_stateless")
        if "Via" not in request.headers:
            raise LocalProtocolError(f"{method} without a Via header")
        branch = request.via.branch
        if not branch:
            branch = self._ids.branch()
            via = request.via.with_params(branch=branch)
            request = request.with_top_via(top_via_line(request.headers, str(via)), via)
        key = client_key(branch, method)
        if key in self._clients:
            raise LocalProtocolError(f"branch {branch} already used by a {method} transaction")
        data = bytes(request)
        sized, sized_data, sized_destination = fit_transport(request, data, destination)
        if sized_destination is not destination:
            self._fallback[key] = (request, data, destination)
        self._start_client(key, sized, sized_data, sized_destination, now)
        return key

    def _start_client(self, key: str, request: Request, data: bytes, destination: Address,
                      now: float) -> None:
        tx: ClientTransaction
        if request.method == "INVITE":
            tx = ClientInviteTransaction(key, request, data, destination, self._timer_values)
        else:
            tx = ClientNonInviteTransaction(key, request.method, data, destination,
                                            self._timer_values)
        self._clients[key] = tx
        self._apply(tx, tx.start(now), now, None)

    def send_stateless(self, message: Request | Response, destination: Address) -> None:
        """Queue a message outside any transaction: the ACK for a 2xx
        (§13.2.2.4), or a 2xx retransmission after Timer L (§13.3.1.4)."""
        data = bytes(message)
        if isinstance(message, Request):
            _, data, destination = fit_transport(message, data, destination)
        self._out.append(Datagram(data, destination, None))

    def send_response(self, key: str, response: Response, now: float) -> None:
        """Send ``response`` through server transaction ``key``."""
        tx = self._servers.get(key)
        if tx is None:
            raise LocalProtocolError(f"no server transaction {key}")
        self._apply(tx, tx.handle(Send(response), now), now, None)

    make_cancel = staticmethod(make_cancel)
    make_ack_for_error = staticmethod(make_ack_for_error)

    # --- to the adapter and the TU -----------------------------------------

    def next_event(self) -> TransactionEvent | None:
        return self._events.popleft() if self._events else None

    def datagrams_to_send(self) -> list[Datagram]:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        """The earliest deadline of any transaction (None: no timer runs)."""
        return self._heap.next_deadline()

    def handle_timer(self, now: float) -> None:
        """Fire every timer due at ``now``, in deadline order. A timer restarted
        while firing counts from its own deadline, so a late call does not
        stretch the retransmission schedule."""
        heap = self._heap
        while (due := heap.pop_due(now)) is not None:
            tx, name, deadline = due
            if tx.state != TERMINATED:
                self._apply(tx, tx.handle(TIMER_FIRED[name], deadline), deadline, None)

    # --- effects -----------------------------------------------------------

    def _apply(self, tx: Transaction, effects: list[Effect], now: float,
               source: Address | None) -> None:
        for effect in effects:
            if isinstance(effect, Transmit):
                self._out.append(Datagram(effect.data, effect.address, tx.key))
            elif isinstance(effect, StartTimer):
                self._heap.start(tx, effect.name, now + effect.delay)
            elif isinstance(effect, CancelTimer):
                self._heap.cancel(tx, effect.name)
            elif isinstance(effect, Deliver):
                self._deliver(tx, effect, source)
            else:
                self._terminated(tx, effect)

    def _deliver(self, tx: Transaction, effect: Deliver, source: Address | None) -> None:
        message = effect.message
        if isinstance(message, Response):
            self._events.append(ResponseReceived(tx.key, message))
        else:
            # Only an ACK reaching an INVITE server transaction in Accepted.
            assert source is not None
            self._events.append(AckReceived(stamp_via(message, source)[0], source))

    def _terminated(self, tx: Transaction, effect: Terminated) -> None:
        self._heap.cancel_all(tx, tx.TIMERS)
        if isinstance(tx, ClientInviteTransaction | ClientNonInviteTransaction):
            del self._clients[tx.key]
            self._fallback.pop(tx.key, None)
        else:
            del self._servers[tx.key]
        if effect.reason == "timeout":
            assert effect.timer is not None
            self._events.append(TransactionTimeout(tx.key, tx.method, effect.timer))
        elif effect.reason == "transport":
            self._events.append(TransportError(tx.key))
        self._events.append(TransactionTerminated(tx.key))
