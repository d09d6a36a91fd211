"""Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6).

Trying -> Proceeding -> Completed -> Terminated. On unreliable transports
Timer E retransmits the request at T1, doubling up to T2 in Trying and every
T2 once a provisional response arrived; Timer F (64*T1) gives up; Timer K
(T4, zero on reliable transports) absorbs retransmitted final responses.
"""

from __future__ import annotations

from typing import ClassVar

from sipstack.events import Address
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
)

TRYING = "Trying"
PROCEEDING = "Proceeding"
COMPLETED = "Completed"

_CANCEL_E = CancelTimer("E")
_CANCEL_F = CancelTimer("F")


class ClientNonInviteTransaction(Transaction):
    """One outgoing request other than INVITE and ACK. Create, then :meth:`start`."""

    __slots__ = ("_e", "timers")
    TIMERS = ("E", "F", "K")

    def __init__(self, key: str, method: str, data: bytes, address: Address,
                 timers: TimerValues) -> None:
        super().__init__(key, method, address)
        self.last = data
        self.timers = timers
        self._e = timers.t1

    def start(self, now: float) -> list[Effect]:
        """Send the request, start E (unreliable only) and F."""
        self.state = TRYING
        effects: list[Effect] = [Transmit(self.last, self.address)]
        if not self.reliable:
            effects.append(StartTimer("E", self._e))
        effects.append(StartTimer("F", self.timers.timeout))
        return effects

    def _timer_e_trying(self, event: TimerFired, now: float) -> list[Effect]:
        self._e = min(2 * self._e, self.timers.t2)
        return [Transmit(self.last, self.address), StartTimer("E", self._e)]

    def _timer_e_proceeding(self, event: TimerFired, now: float) -> list[Effect]:
        self._e = self.timers.t2
        return [Transmit(self.last, self.address), StartTimer("E", self._e)]

    def _timer_f(self, event: TimerFired, now: float) -> list[Effect]:
        self.state = TERMINATED
        return [Terminated("timeout", "F")]

    def _provisional(self, event: Receive, now: float) -> list[Effect]:
        self.state = PROCEEDING
        return [Deliver(event.message)]

    def _final(self, event: Receive, now: float) -> list[Effect]:
        effects: list[Effect] = [_CANCEL_E, _CANCEL_F, Deliver(event.message)]
        if self.reliable:
            self.state = TERMINATED
            effects.append(NORMAL_END)
        else:
            self.state = COMPLETED
            effects.append(StartTimer("K", self.timers.t4))
        return effects

    TABLE: ClassVar[dict[tuple[str, str], Action]] = {
        (TRYING, "E"): _timer_e_trying,
        (TRYING, "F"): _timer_f,
        (TRYING, "prov"): _provisional,
        (TRYING, "ok"): _final,
        (TRYING, "fail"): _final,
        (TRYING, "transport"): Transaction.transport_failed,
        (PROCEEDING, "E"): _timer_e_proceeding,
        (PROCEEDING, "F"): _timer_f,
        (PROCEEDING, "prov"): _provisional,
        (PROCEEDING, "ok"): _final,
        (PROCEEDING, "fail"): _final,
        (PROCEEDING, "transport"): Transaction.transport_failed,
        # Completed exists only to absorb retransmitted responses (§17.1.2.2).
        (COMPLETED, "prov"): Transaction.absorb,
        (COMPLETED, "ok"): Transaction.absorb,
        (COMPLETED, "fail"): Transaction.absorb,
        (COMPLETED, "K"): Transaction.terminate,
        (COMPLETED, "transport"): Transaction.transport_failed,
    }
