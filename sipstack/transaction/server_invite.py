"""INVITE server transaction: RFC 3261 §17.2.1 with RFC 6026 §7.1 and §8.5 to §8.7.

Proceeding (a retransmitted INVITE gets the last provisional again) ->
Completed after a 300-699 (Timer G retransmits it at T1 doubling up to T2 on
unreliable transports, Timer H = 64*T1 waits for the ACK) -> Confirmed on the
ACK (Timer I = T4 absorbs ACK retransmissions, zero on reliable transports).
A 2xx moves to Accepted (Timer L = 64*T1): retransmitted INVITEs are absorbed,
ACKs go to the TU, and the TU's own 2xx retransmissions (§13.3.1.4) pass
through; the transaction never retransmits a 2xx itself.
"""

from __future__ import annotations

from typing import ClassVar

from sipstack.events import Address
from sipstack.message import Request, Response, trying_bytes
from sipstack.timers import TimerValues
from sipstack.transaction.base import (
    NORMAL_END,
    TERMINATED,
    Action,
    CancelTimer,
    Deliver,
    Effect,
    Receive,
    Send,
    StartTimer,
    Terminated,
    TimerFired,
    Transaction,
    Transmit,
)

PROCEEDING = "Proceeding"
COMPLETED = "Completed"
CONFIRMED = "Confirmed"
ACCEPTED = "Accepted"

_CANCEL_G = CancelTimer("G")
_CANCEL_H = CancelTimer("H")


class ServerInviteTransaction(Transaction):
    """One incoming INVITE; ``address`` is where its responses go (§18.2.2)."""

    __slots__ = ("_g", "final", "request", "timers")
    TIMERS = ("G", "H", "I", "L")

    def __init__(self, key: str, request: Request, address: Address,
                 timers: TimerValues) -> None:
        super().__init__(key, "INVITE", address)
        self.request = request
        self.timers = timers
        # An RFC 2543 ACK must carry the To tag of the final response (§17.2.3).
        self.final: Response | None = None
        self._g = timers.t1

    def start(self, now: float, *, send_trying: bool = True) -> list[Effect]:
        """Enter Proceeding; send 100 (Trying) unless the TU answers itself
        within 200 ms (§17.2.1)."""
        self.state = PROCEEDING
        if not send_trying:
            return []
        self.last = trying_bytes(self.request)
        return [Transmit(self.last, self.address)]

    def _send_provisional(self, event: Send, now: float) -> list[Effect]:
        self.last = bytes(event.response)
        return [Transmit(self.last, self.address)]

    def _send_success(self, event: Send, now: float) -> list[Effect]:
        self.state = ACCEPTED
        self.final = event.response
        self.last = bytes(event.response)
        return [Transmit(self.last, self.address), StartTimer("L", self.timers.timeout)]

    def _send_failure(self, event: Send, now: float) -> list[Effect]:
        self.state = COMPLETED
        self.final = event.response
        self.last = bytes(event.response)
        effects: list[Effect] = [Transmit(self.last, self.address)]
        if not self.reliable:
            effects.append(StartTimer("G", self._g))
        effects.append(StartTimer("H", self.timers.timeout))
        return effects

    def _resend_last(self, event: Receive, now: float) -> list[Effect]:
        return [Transmit(self.last, self.address)] if self.last else []

    def _timer_g(self, event: TimerFired, now: float) -> list[Effect]:
        self._g = min(2 * self._g, self.timers.t2)
        return [Transmit(self.last, self.address), StartTimer("G", self._g)]

    def _timer_h(self, event: TimerFired, now: float) -> list[Effect]:
        self.state = TERMINATED
        return [Terminated("timeout", "H")]

    def _ack(self, event: Receive, now: float) -> list[Effect]:
        if self.reliable:
            self.state = TERMINATED
            return [_CANCEL_G, _CANCEL_H, NORMAL_END]
        self.state = CONFIRMED
        return [_CANCEL_G, _CANCEL_H, StartTimer("I", self.timers.t4)]

    def _ack_for_2xx(self, event: Receive, now: float) -> list[Effect]:
        return [Deliver(event.message)]

    def _resend_2xx(self, event: Send, now: float) -> list[Effect]:
        return [Transmit(bytes(event.response), self.address)]

    TABLE: ClassVar[dict[tuple[str, str], Action]] = {
        (PROCEEDING, "request"): _resend_last,
        (PROCEEDING, "send_prov"): _send_provisional,
        (PROCEEDING, "send_ok"): _send_success,
        (PROCEEDING, "send_fail"): _send_failure,
        # An ACK before any final response acknowledges nothing.
        (PROCEEDING, "ack"): Transaction.absorb,
        (PROCEEDING, "transport"): Transaction.transport_failed,
        (COMPLETED, "request"): _resend_last,
        (COMPLETED, "ack"): _ack,
        (COMPLETED, "G"): _timer_g,
        (COMPLETED, "H"): _timer_h,
        (COMPLETED, "transport"): Transaction.transport_failed,
        (CONFIRMED, "request"): Transaction.absorb,
        (CONFIRMED, "ack"): Transaction.absorb,
        (CONFIRMED, "I"): Transaction.terminate,
        # Only a G retransmission could fail; Confirmed has stopped caring.
        (CONFIRMED, "transport"): Transaction.absorb,
        (ACCEPTED, "request"): Transaction.absorb,
        (ACCEPTED, "ack"): _ack_for_2xx,
        (ACCEPTED, "send_ok"): _resend_2xx,
        (ACCEPTED, "L"): Transaction.terminate,
        # 2xx delivery is the TU's business (§13.3.1.4), not the transaction's.
        (ACCEPTED, "transport"): Transaction.absorb,
    }
