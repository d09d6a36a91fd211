"""What the transaction state machines of RFC 3261 §17 consume and produce.

Inputs to ``Transaction.handle(event, now)``: :class:`Receive` (a message
from the transport layer), :class:`Send` (a response from the TU),
:class:`TimerFired` and :class:`TransportFailed`. Outputs are effects:
:class:`Transmit`, :class:`StartTimer`, :class:`CancelTimer`,
:class:`Deliver` and :class:`Terminated`. The layer turns effects into
datagrams, heap entries and the TU events defined here. Also the requests the
transaction layer builds itself: CANCEL (§9.1) and the ACK for a non-2xx
final response (§17.1.1.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from sipstack.errors import LocalProtocolError
from sipstack.events import Address
from sipstack.message import Request, Response

Message = Request | Response

# --- inputs ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receive:
    """A request or response for this transaction arrived from the network."""

    message: Message


@dataclass(frozen=True, slots=True)
class Send:
    """The TU passes a response to a server transaction."""

    response: Response


@dataclass(frozen=True, slots=True)
class TimerFired:
    name: str


@dataclass(frozen=True, slots=True)
class TransportFailed:
    """The transport could not deliver what this transaction sent."""


TransactionInput = Receive | Send | TimerFired | TransportFailed
TIMER_FIRED = {name: TimerFired(name) for name in "ABDEFGHIJKLM"}
TRANSPORT_FAILED = TransportFailed()

# --- effects ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transmit:
    data: bytes
    address: Address


@dataclass(frozen=True, slots=True)
class StartTimer:
    name: str
    delay: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    name: str


@dataclass(frozen=True, slots=True)
class Deliver:
    """Pass a message up to the TU."""

    message: Message


@dataclass(frozen=True, slots=True)
class Terminated:
    """The transaction entered Terminated; ``reason`` is ``'normal'``,
    ``'timeout'`` (with the ``timer`` that fired) or ``'transport'``."""

    reason: str
    timer: str | None = None


Effect = Transmit | StartTimer | CancelTimer | Deliver | Terminated
NORMAL_END = Terminated("normal")
TRANSPORT_END = Terminated("transport")

# --- events for the TU -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A new request created server transaction ``key``. For a CANCEL,
    ``cancels`` is the key of the INVITE server transaction it matches
    (None: the TU answers 481, §9.2)."""

    key: str
    request: Request
    source: Address
    cancels: str | None = None


@dataclass(frozen=True, slots=True)
class AckReceived:
    """An ACK for a 2xx response (its own transaction, RFC 6026 §7.1)."""

    request: Request
    source: Address


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    key: str
    response: Response


@dataclass(frozen=True, slots=True)
class StrayResponse:
    """A response that matches no client transaction (§17.1.3)."""

    response: Response
    source: Address


@dataclass(frozen=True, slots=True)
class TransactionTimeout:
    """Timer B or F (client: no final response) or H (server: no ACK)."""

    key: str
    method: str
    timer: str


@dataclass(frozen=True, slots=True)
class TransportError:
    key: str


@dataclass(frozen=True, slots=True)
class TransactionTerminated:
    key: str


TransactionEvent = (RequestReceived | AckReceived | ResponseReceived | StrayResponse
                    | TransactionTimeout | TransportError | TransactionTerminated)

# --- the common part of the four state machines ----------------------------


Action = Callable[[Any, Any, float], list[Effect]]
TERMINATED = "Terminated"


def kind_of(event: TransactionInput) -> str:
    """The column of a state table an input falls in: ``prov``/``ok``/``fail``
    for received responses, ``request``/``ack`` for received requests,
    ``send_prov``/``send_ok``/``send_fail`` for TU responses, a timer letter,
    or ``transport``."""
    if type(event) is Receive:
        message = event.message
        if type(message) is Response:
            return _STATUS_KIND[message.status // 100]
        return "ack" if message.method == "ACK" else "request"  # type: ignore[union-attr]
    if type(event) is Send:
        return "send_" + _STATUS_KIND[event.response.status // 100]
    if type(event) is TimerFired:
        return event.name
    return "transport"


_STATUS_KIND = {1: "prov", 2: "ok", 3: "fail", 4: "fail", 5: "fail", 6: "fail"}


class Transaction:
    """State, the key, where to send and the bytes of the last message sent.

    Subclasses list their transitions in ``TABLE``: ``(state, kind_of(input))``
    to an action; a pair not in the table is impossible and raises
    :class:`LocalProtocolError`. ``TIMERS`` names every timer the machine may
    start, so the layer can cancel them all on termination.
    """

    __slots__ = ("address", "key", "last", "method", "reliable", "state")
    TIMERS: ClassVar[tuple[str, ...]] = ()
    TABLE: ClassVar[dict[tuple[str, str], Action]] = {}

    def __init__(self, key: str, method: str, address: Address) -> None:
        self.key = key
        self.method = method
        self.address = address
        self.reliable = address.reliable
        self.state = ""
        self.last = b""

    def handle(self, event: TransactionInput, now: float) -> list[Effect]:
        """Feed one input; return the effects in the order they must happen."""
        action = self.TABLE.get((self.state, kind_of(event)))
        if action is None:
            raise self.impossible(event)
        return action(self, event, now)

    def absorb(self, event: TransactionInput, now: float) -> list[Effect]:
        """An input the RFC says to discard in this state."""
        return []

    def terminate(self, event: TransactionInput, now: float) -> list[Effect]:
        """A timer that ends the transaction normally (D, I, J, K, L, M)."""
        self.state = TERMINATED
        return [NORMAL_END]

    def transport_failed(self, event: TransactionInput, now: float) -> list[Effect]:
        """§17.1.4 / §17.2.4: inform the TU and go to Terminated."""
        self.state = TERMINATED
        return [TRANSPORT_END]

    def impossible(self, event: TransactionInput) -> LocalProtocolError:
        return LocalProtocolError(
            f"{type(self).__name__} {self.key}: {describe(event)} in state {self.state}"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key} {self.state}>"


def describe(event: TransactionInput) -> str:
    if isinstance(event, Receive | Send):
        message = event.message if isinstance(event, Receive) else event.response
        if isinstance(message, Response):
            return f"response {message.status}"
        return f"request {message.method}"
    if isinstance(event, TimerFired):
        return f"timer {event.name}"
    return "transport error"


# --- requests built by the transaction layer -------------------------------


def top_via(request: Request) -> str:
    """The topmost Via value as written (a Via line may hold several)."""
    line = request.headers.get("Via") or ""
    return line if "," not in line else request.headers.get_all("Via")[0]


def _copied(request: Request, names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(name, value) for name in names for value in request.headers.get_lines(name)]


def make_cancel(invite: Request) -> Request:
    """CANCEL for ``invite`` (§9.1): same Request-URI, Call-ID, To, From,
    CSeq number and Route set, and a single Via equal to the INVITE's top Via."""
    if invite.method != "INVITE":
        raise LocalProtocolError(f"only an INVITE can be cancelled, not {invite.method}")
    fields = [("Via", top_via(invite)), *_copied(invite, ("Route", "From", "To", "Call-ID"))]
    fields += [("CSeq", f"{invite.cseq.seq} CANCEL"), ("Max-Forwards", "70")]
    return Request.build("CANCEL", invite.uri, fields)


def make_ack_for_error(invite: Request, response: Response) -> Request:
    """ACK for a non-2xx final ``response`` to ``invite`` (§17.1.1.3): To from
    the response, everything else from the INVITE, one Via equal to its top Via."""
    if response.status < 300:
        raise LocalProtocolError("the ACK for a 2xx is built by the dialog layer (§13.2.2.4)")
    to = response.headers.get("To") or ""
    fields = [("Via", top_via(invite)), *_copied(invite, ("Route", "From")), ("To", to)]
    fields += [*_copied(invite, ("Call-ID",)), ("CSeq", f"{invite.cseq.seq} ACK"),
               ("Max-Forwards", "70")]
    return Request.build("ACK", invite.uri, fields)
