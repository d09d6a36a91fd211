"""Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).

Trying (retransmissions discarded) -> Proceeding (a retransmission gets the
last provisional again) -> Completed (it gets the final response again; Timer
J = 64*T1 on unreliable transports, zero on reliable ones) -> Terminated.
"""

from __future__ import annotations

from typing import ClassVar

from sipstack.events import Address
from sipstack.timers import TimerValues
from sipstack.transaction.base import (
    NORMAL_END,
    TERMINATED,
    Action,
    Effect,
    Receive,
    Send,
    StartTimer,
    Transaction,
    Transmit,
)

TRYING = "Trying"
PROCEEDING = "Proceeding"
COMPLETED = "Completed"


class ServerNonInviteTransaction(Transaction):
    """One incoming request other than INVITE and ACK."""

    __slots__ = ("timers",)
    TIMERS = ("J",)

    def __init__(self, key: str, method: str, address: Address, timers: TimerValues) -> None:
        super().__init__(key, method, address)
        self.timers = timers

    def start(self, now: float) -> list[Effect]:
        self.state = TRYING
        return []

    def _send_provisional(self, event: Send, now: float) -> list[Effect]:
        self.state = PROCEEDING
        self.last = bytes(event.response)
        return [Transmit(self.last, self.address)]

    def _send_final(self, event: Send, now: float) -> list[Effect]:
        self.last = bytes(event.response)
        effects: list[Effect] = [Transmit(self.last, self.address)]
        if self.reliable:
            self.state = TERMINATED
            effects.append(NORMAL_END)
        else:
            self.state = COMPLETED
            effects.append(StartTimer("J", self.timers.timeout))
        return effects

    def _resend_last(self, event: Receive, now: float) -> list[Effect]:
        return [Transmit(self.last, self.address)]

    TABLE: ClassVar[dict[tuple[str, str], Action]] = {
        (TRYING, "request"): Transaction.absorb,
        (TRYING, "send_prov"): _send_provisional,
        (TRYING, "send_ok"): _send_final,
        (TRYING, "send_fail"): _send_final,
        (PROCEEDING, "request"): _resend_last,
        (PROCEEDING, "send_prov"): _send_provisional,
        (PROCEEDING, "send_ok"): _send_final,
        (PROCEEDING, "send_fail"): _send_final,
        (PROCEEDING, "transport"): Transaction.transport_failed,
        (COMPLETED, "request"): _resend_last,
        # §17.2.2: further final responses from the TU MUST be discarded.
        (COMPLETED, "send_ok"): Transaction.absorb,
        (COMPLETED, "send_fail"): Transaction.absorb,
        (COMPLETED, "J"): Transaction.terminate,
        (COMPLETED, "transport"): Transaction.transport_failed,
    }
