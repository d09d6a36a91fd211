"""INVITE client transaction: RFC 3261 §17.1.1 with RFC 6026 §7.2 and §8.4.

Calling -> Proceeding -> Completed (non-2xx: the ACK is sent here, and again
for every retransmission of the final response; Timer D) or Accepted (2xx:
every 2xx of the 64*T1 Timer M window goes to the TU, which sends the ACK).
Timer A retransmits the INVITE at T1, 2*T1, 4*T1 … (unreliable transports
only) until Timer B (64*T1) gives up while still in Calling.
"""

from __future__ import annotations

from typing import ClassVar

from sipstack.events import Address
from sipstack.message import Request, Response
from sipstack.timers import TimerValues
from sipstack.transaction.base import (
    NORMAL_END,
    TERMINATED,
    Action,
    CancelTimer,
    Deliver,
    Effect,
    Receive,
    StartTimer,
    Terminated,
    TimerFired,
    Transaction,
    Transmit,
    make_ack_for_error,
)

CALLING = "Calling"
PROCEEDING = "Proceeding"
COMPLETED = "Completed"
ACCEPTED = "Accepted"

_CANCEL_A = CancelTimer("A")
_CANCEL_B = CancelTimer("B")


class ClientInviteTransaction(Transaction):
    """One outgoing INVITE. Create it, then call :meth:`start`."""

    __slots__ = ("_a", "ack", "request", "timers")
    TIMERS = ("A", "B", "D", "M")

    def __init__(self, key: str, request: Request, data: bytes, address: Address,
                 timers: TimerValues) -> None:
        super().__init__(key, "INVITE", address)
        self.request = request
        self.last = data
        self.timers = timers
        self.ack = b""
        self._a = timers.t1

    def start(self, now: float) -> list[Effect]:
        """"INVITE from TU": send it, start A (unreliable only) and B."""
        self.state = CALLING
        effects: list[Effect] = [Transmit(self.last, self.address)]
        if not self.reliable:
            effects.append(StartTimer("A", self._a))
        effects.append(StartTimer("B", self.timers.timeout))
        return effects

    def _timer_a(self, event: TimerFired, now: float) -> list[Effect]:
        self._a *= 2
        return [Transmit(self.last, self.address), StartTimer("A", self._a)]

    def _timer_b(self, event: TimerFired, now: float) -> list[Effect]:
        self.state = TERMINATED
        return [Terminated("timeout", "B")]

    def _first_provisional(self, event: Receive, now: float) -> list[Effect]:
        # Proceeding: no more retransmissions, and Timer B only guards Calling.
        self.state = PROCEEDING
        return [_CANCEL_A, _CANCEL_B, Deliver(event.message)]

    def _provisional(self, event: Receive, now: float) -> list[Effect]:
        return [Deliver(event.message)]

    def _success(self, event: Receive, now: float) -> list[Effect]:
        self.state = ACCEPTED
        return [_CANCEL_A, _CANCEL_B, Deliver(event.message),
                StartTimer("M", self.timers.timeout)]

    def _failure(self, event: Receive, now: float) -> list[Effect]:
        response = event.message
        assert isinstance(response, Response)
        self.ack = bytes(make_ack_for_error(self.request, response))
        effects: list[Effect] = [_CANCEL_A, _CANCEL_B, Transmit(self.ack, self.address),
                                 Deliver(response)]
        if self.reliable:
            self.state = TERMINATED
            effects.append(NORMAL_END)
        else:
            self.state = COMPLETED
            effects.append(StartTimer("D", self.timers.d))
        return effects

    def _failure_again(self, event: Receive, now: float) -> list[Effect]:
        return [Transmit(self.ack, self.address)]

    def _success_again(self, event: Receive, now: float) -> list[Effect]:
        return [Deliver(event.message)]

    TABLE: ClassVar[dict[tuple[str, str], Action]] = {
        (CALLING, "A"): _timer_a,
        (CALLING, "B"): _timer_b,
        (CALLING, "prov"): _first_provisional,
        (CALLING, "ok"): _success,
        (CALLING, "fail"): _failure,
        (CALLING, "transport"): Transaction.transport_failed,
        (PROCEEDING, "prov"): _provisional,
        (PROCEEDING, "ok"): _success,
        (PROCEEDING, "fail"): _failure,
        (PROCEEDING, "transport"): Transaction.transport_failed,
        (COMPLETED, "fail"): _failure_again,
        # A late provisional or a 2xx after a non-2xx final is out of order:
        # the transaction has its answer, discard.
        (COMPLETED, "prov"): Transaction.absorb,
        (COMPLETED, "ok"): Transaction.absorb,
        (COMPLETED, "D"): Transaction.terminate,
        (COMPLETED, "transport"): Transaction.transport_failed,
        (ACCEPTED, "ok"): _success_again,
        (ACCEPTED, "prov"): Transaction.absorb,
        (ACCEPTED, "fail"): Transaction.absorb,
        # Nothing is sent in Accepted: a transport error reported now is stale.
        (ACCEPTED, "transport"): Transaction.absorb,
        (ACCEPTED, "M"): Transaction.terminate,
    }
