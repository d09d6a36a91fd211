"""A blind transfer under way (RFC 3515 REFER, RFC 5589 §6 practice).

The call accepted a REFER from the *transferor* and started a new leg to the
target. :class:`BlindTransfer` watches that leg: it reports progress to the
transferor in NOTIFYs carrying a message/sipfrag status line (RFC 3515
§2.4.5: 100 on acceptance, 180 when the target rings, the final status at
the end), gives the target at most the ring time, and tells the call how it
ended. The transferor may hang up as soon as the REFER is accepted; joining
the other party to the target is the call's business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from softswitch.callcontrol import Answer, LegEvent, Release, Ringing
from softswitch.legs import Leg


class _Cancelable(Protocol):
    def cancel(self) -> None: ...


Scheduler = Callable[[float, Callable[[], None]], _Cancelable]


class BlindTransfer:
    """The new ``leg`` ringing the target on behalf of ``transferor``.

    ``on_answered(body)`` runs when the target answers (body: its SDP);
    ``on_failed(status, reason)`` when it refused, timed out or vanished.
    """

    def __init__(self, transferor: Leg, leg: Leg, *, ring_timeout: float,
                 call_later: Scheduler, on_answered: Callable[[bytes], None],
                 on_failed: Callable[[int, str], None]) -> None:
        self.transferor = transferor
        self.leg = leg
        self.on_answered = on_answered
        self.on_failed = on_failed
        self.over = False
        self._ringing = False
        self._timed_out = False
        self._timer = call_later(ring_timeout, self._ring_timeout)
        transferor.notify_transfer("SIP/2.0 100 Trying", final=False)

    def on_event(self, event: LegEvent) -> None:
        """An event of the target's leg while the transfer is under way."""
        if self.over:
            return
        if isinstance(event, Ringing) and not self._ringing:
            self._ringing = True
            self.transferor.notify_transfer("SIP/2.0 180 Ringing", final=False)
        elif isinstance(event, Answer):
            self._finish()
            self.transferor.notify_transfer("SIP/2.0 200 OK", final=True)
            self.on_answered(event.body)
        elif isinstance(event, Release):
            self._finish()
            status, reason = event.status or 487, event.reason
            if self._timed_out:
                status, reason = 480, "Temporarily Unavailable"
            self.transferor.notify_transfer(f"SIP/2.0 {status} {reason}", final=True)
            self.on_failed(status, reason)

    def abandon(self, reason: str) -> None:
        """The call is ending: stop ringing the target."""
        if not self.over:
            self._finish()
            self.leg.end(487, reason)

    def _ring_timeout(self) -> None:
        if not self.over:
            self._timed_out = True
            self.leg.end(reason="ring timeout")  # its Release reports the failure

    def _finish(self) -> None:
        self.over = True
        self._timer.cancel()
