"""A blind transfer under way (RFC 3515 REFER, RFC 5589 §6 practice).

The call accepted a REFER from the *transferor* and started new legs to the
target, one per registered phone of an extension, ringing together.
:class:`BlindTransfer` watches those legs: it reports progress to the
transferor in NOTIFYs carrying a message/sipfrag status line (RFC 3515
§2.4.5: 100 on acceptance, 180 when the target rings, the final status at
the end), gives the target at most the ring time, lets the first answer win
and cancels the other legs, and tells the call how it ended. The transferor
may hang up as soon as the REFER is accepted; joining the other party to the
target is the call's business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from media.sdp import DIRECTIONS, Attribute, SdpError, SessionDescription
from softswitch.callcontrol import Answer, LegEvent, Release, Ringing
from softswitch.legs import Leg


class _Cancelable(Protocol):
    def cancel(self) -> None: ...


Scheduler = Callable[[float, Callable[[], None]], _Cancelable]


def offer_for_target(body: bytes) -> bytes:
    """The transferee's last SDP as the offer to the transfer target.

    Transferors usually hold the call before the REFER, which leaves the
    transferee's SDP recvonly or inactive (RFC 3264 §8.4); offered as it is,
    the new party would get one-way audio or none. Every stream is offered
    sendrecv instead. A body that is not SDP goes unchanged.
    """
    if not body:
        return body
    try:
        sdp = SessionDescription.parse(body)
    except SdpError:
        return body

    def both_ways(attributes: tuple[Attribute, ...], add: bool) -> tuple[Attribute, ...]:
        kept = tuple(a for a in attributes if not (a.name in DIRECTIONS and a.value is None))
        return (*kept, Attribute("sendrecv")) if add else kept

    media = tuple(replace(md, attributes=both_ways(md.attributes, md.port != 0))
                  for md in sdp.media)
    return bytes(replace(sdp, attributes=both_ways(sdp.attributes, False), media=media))


class BlindTransfer:
    """The new ``legs`` ringing the target on behalf of ``transferor``.

    ``on_answered(leg, body)`` runs when one of them answers (body: its SDP);
    ``on_failed(status, reason)`` when all refused, timed out or vanished.
    ``rank`` orders failure statuses (lowest is reported).
    """

    def __init__(self, transferor: Leg, legs: Sequence[Leg], *, ring_timeout: float,
                 call_later: Scheduler, rank: Callable[[int], int],
                 on_answered: Callable[[Leg, bytes], None],
                 on_failed: Callable[[int, str], None]) -> None:
        self.transferor = transferor
        self.legs = list(legs)
        self.on_answered = on_answered
        self.on_failed = on_failed
        self.over = False
        self._rank = rank
        self._pending = list(legs)
        self._failures: list[Release] = []
        self._ringing = False
        self._timed_out = False
        self._timer = call_later(ring_timeout, self._ring_timeout)
        transferor.notify_transfer("SIP/2.0 100 Trying", final=False)

    def on_event(self, leg: Leg, event: LegEvent) -> None:
        """An event of one of the target's legs."""
        if isinstance(event, Release):
            self._released(leg, event)
        elif self.over:
            return
        elif isinstance(event, Ringing) and not self._ringing:
            self._ringing = True
            self.transferor.notify_transfer("SIP/2.0 180 Ringing", final=False)
        elif isinstance(event, Answer):
            self._finish(leg, "answered elsewhere")
            self.transferor.notify_transfer("SIP/2.0 200 OK", final=True)
            self.on_answered(leg, event.body)

    def abandon(self, reason: str) -> None:
        """The call is ending: stop ringing the target."""
        if not self.over:
            self._finish(None, reason)

    def _released(self, leg: Leg, event: Release) -> None:
        if leg in self._pending:
            self._pending.remove(leg)
            self._failures.append(event)
        if self.over or self._pending:
            return
        self.over = True
        self._timer.cancel()
        best = min(self._failures, key=lambda r: (self._rank(r.status), r.status))
        status, reason = best.status or 487, best.reason
        if self._timed_out:
            status, reason = 480, "Temporarily Unavailable"
        self.transferor.notify_transfer(f"SIP/2.0 {status} {reason}", final=True)
        self.on_failed(status, reason)

    def _ring_timeout(self) -> None:
        if not self.over:
            self._timed_out = True
            for leg in list(self._pending):  # their Releases report the failure
                leg.end(reason="ring timeout")

    def _finish(self, winner: Leg | None, reason: str) -> None:
        self.over = True
        self._timer.cancel()
        for leg in self._pending:
            if leg is not winner:
                leg.end(487, reason)
        self._pending = []
