"""A B2BUA call: the caller's leg joined to one of several callee legs.

The call speaks only :mod:`softswitch.callcontrol` events. It forks to every
target at once (all registered contacts of an extension ring together), the
first answer wins and the other forks are cancelled; when every fork fails
the caller gets the most telling failure (RFC 3261 §16.7 rules, simplified
to busy > decline > other 4xx > 5xx > 408/480). Mid-call offers (hold,
unhold) are relayed leg to leg; REFER moves the far party to a new target.
A ring timeout and the maximum call duration end it from the system side.

A call on a line with a routing plan has a driver
(:class:`~softswitch.route_runner.RouteRunner`): the switch may answer the
caller itself to play prompts and collect digits, ring rounds of forks each
for its own time, and ask the driver what next when nobody answers; a phone
dialling the pickup code may take the ringing call (F-ROUTE-6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from media.sdp import SdpError
from sipstack.dialog import InviteSession
from softswitch.call_core import CallCore
from softswitch.call_types import (
    CallDriver,
    CallHost,
    CallInfo,
    Cancelable,
    Phase,
    Target,
    _best,
    _rank,
)
from softswitch.callcontrol import (
    Acked,
    Answer,
    LegEvent,
    Offer,
    OfferAnswered,
    Release,
    Ringing,
    TransferRequested,
)
from softswitch.cdr import CallAnswered, CallRecorded, LegAnswered
from softswitch.legs import Leg
from softswitch.storage.records import Direction, Disposition, HangupSide, LegRole
from softswitch.transfer import BlindTransfer

# The value types live in softswitch.call_types; they are importable from here too.
__all__ = ["Call", "CallDriver", "CallHost", "CallInfo", "Cancelable", "Phase", "Target"]

log = logging.getLogger(__name__)

# Seconds the transferor's leg may stay up after a completed transfer before
# the switch ends it (RFC 5589 §6: the transferor should BYE on the final NOTIFY).
TRANSFEROR_GRACE = 2.0


@dataclass
class Call(CallCore):
    """One call through the switch (module doc); its state, what the switch
    says to the caller and how it ends are :class:`~softswitch.call_core.CallCore`'s."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.caller = Leg(self.host, self.caller_session, index=0,
                          peer=self.info.caller, on_event=self._on_event)

    def _finished(self) -> None:
        self.host.finished(self)

    # -- start ------------------------------------------------------------------

    def start(self, targets: list[Target]) -> None:
        self.begin()
        if not targets:  # nothing registered: unavailable, not unanswered
            self.caller.end(480, "not registered")
            self._end(Disposition.UNAVAILABLE, HangupSide.SYSTEM, 480, "not registered")
            return
        early = self._sdp.caller_early() if self.announce else None
        if early is not None:
            # The caller hears the notice as early media; the callee rings after it.
            self._announcing = targets
            self.caller.ring(183, early)
            self._sdp.play("a", "recording_notice")
            return
        self._ring(targets)

    def _ring(self, targets: list[Target]) -> None:
        self.ringing_for = ((self.info.callee,), None)
        self._timers.append(self.host.call_later(self.info.ring_timeout, self._ring_timeout))
        for target in targets:
            self._fork(target)

    def _fork(self, target: Target) -> None:
        self.forks.append(self._fork_leg(target, self._sdp.callee_offer()))

    def ring(self, targets: list[tuple[Target, float]],
             direction: Direction | None = None) -> None:
        """Fork to every target at once, each ringing for its own time; when
        all have failed or rung out the driver is asked what next."""
        offer = self._sdp.callee_offer()
        for target, ring_time in targets:
            leg = self._fork_leg(target, offer, direction)
            self.forks.append(leg)
            self._timers.append(self.host.call_later(
                ring_time, lambda leg=leg: self._fork_timeout(leg)))  # type: ignore[misc]

    def pick_up(self, session: InviteSession, picker: str) -> bool:
        """Connect the phone that dialled the pickup code (F-ROUTE-6) in place
        of the ringing forks; False when its offer cannot be answered here."""
        if self.phase is not Phase.RINGING:
            return False
        try:
            body = self._sdp.mid_call("b", session.invite.body)
        except SdpError:
            return False
        caller_body = None if self.caller_answered else self._sdp.local_answer()
        if body is None or (caller_body is None and not self.caller_answered):
            return False
        self._leg_count += 1
        leg = Leg(self.host, session, index=self._leg_count, peer=picker,
                  on_event=self._on_event)
        self._leg_started(leg, LegRole.CALLEE)
        for fork in self.forks:
            fork.end(reason="picked up")
        self.forks, self.callee, self.phase = [leg], leg, Phase.ANSWERED
        self._cancel_timers()
        self._timers.append(self.host.call_later(self.info.max_duration, self._max_duration))
        if self.driver is not None:
            self.driver.answered()
        leg.answer(body)
        now = self.host.wall()
        if caller_body is not None:
            self.caller.answer(caller_body)
            self.host.publish(LegAnswered(self.id, 0, now))
        self.host.publish(CallAnswered(self.id, now))
        self.host.publish(LegAnswered(self.id, leg.index, now))
        log.info("call %s picked up by %s", self.id, picker)
        return True

    def _fork_timeout(self, leg: Leg) -> None:
        if self.phase is not Phase.RINGING or leg not in self.forks:
            return
        self.forks.remove(leg)
        leg.end(reason="ring timeout")
        self.failures.append(Release(480, "no answer", False))
        if not self.forks:
            self._no_answer()

    def _no_answer(self) -> None:
        failures, self.failures = self.failures, []
        failure = _best(failures)
        if self.driver is not None and self.driver.no_answer(failure):
            return
        self._fail(failure)

    def _fork_leg(self, target: Target, body: bytes,
                  direction: Direction | None = None) -> Leg:
        """A new callee leg: an INVITE to ``target`` offering ``body``."""
        host = self.host
        session = host.endpoint.invite(target.uri, host.now(), from_=target.from_,
                                       to=target.to, headers=target.headers, body=body,
                                       destination=target.destination)
        self._leg_count += 1
        leg = Leg(host, session, index=self._leg_count, peer=target.peer or target.uri,
                  on_event=self._on_event, credentials=target.credentials,
                  destination=target.destination)
        self._leg_started(leg, LegRole.CALLEE, direction)
        return leg

    # -- events -----------------------------------------------------------------

    def _on_event(self, leg: Leg, event: LegEvent) -> None:
        if self._transfer is not None and leg in self._transfer.legs:
            if isinstance(event, Release):
                self._leg_ended(leg, event)
            self._transfer.on_event(leg, event)
            return
        handler = _EVENTS.get(type(event))
        if handler is not None:
            handler(self, leg, event)

    def _on_ringing(self, leg: Leg, event: Ringing) -> None:
        if self.phase is not Phase.RINGING or leg is self.caller:
            return
        early = self._sdp_step(lambda: self._sdp.early_answer(event.body)) if event.body \
            else None
        if early:  # early media: the caller hears the callee's stream
            self.caller.ring(183, early)
        elif not self._ringing_sent:
            self._ringing_sent = True
            self.caller.ring(180)

    def _on_answer(self, leg: Leg, event: Answer) -> None:
        if leg is self.caller:
            return
        if self.phase is not Phase.RINGING or leg not in self.forks:
            leg.end(reason="answered elsewhere")
            return
        self.phase = Phase.ANSWERED
        self.callee = leg
        for other in self.forks:
            if other is not leg:
                other.end(reason="answered elsewhere")
        self.forks = [leg]
        self._cancel_timers()
        self._timers.append(self.host.call_later(self.info.max_duration, self._max_duration))
        if self.driver is not None:
            self.driver.answered()
        if self.caller_answered:
            body = self._sdp_step(lambda: self._sdp.callee_answered(event.body))
        else:
            body = self._sdp_step(lambda: self._sdp.caller_answer(event.body))
        if body is None:
            self.hang_up("no media in common with the callee")
            return
        self.caller.answer(body)
        if self.recording is not None:
            self._sdp.record(self.recording)
            self.host.publish(CallRecorded(self.id, str(self.recording)))
        now = self.host.wall()
        self.host.publish(CallAnswered(self.id, now))
        if not self.caller_answered:
            self.host.publish(LegAnswered(self.id, 0, now))
        self.host.publish(LegAnswered(self.id, leg.index, now))

    def _on_acked(self, leg: Leg, event: Acked) -> None:
        if leg is self.caller:
            self._sdp_step(lambda: self._sdp.caller_acked(event.body, self.callee))

    def _on_release(self, leg: Leg, event: Release) -> None:
        self._leg_ended(leg, event)
        if self.phase is Phase.ENDED:
            return
        if self._transfer is not None and leg is self._transfer.transferor:
            return  # a blind transferor may leave at once; the target still rings
        if leg is self.caller:
            cancelled = self.phase is Phase.RINGING
            for fork in self.forks:
                fork.end(487 if cancelled else 0)
            if cancelled and self.caller_answered:
                disposition = (self.driver.left_disposition() if self.driver is not None
                               else Disposition.CANCELLED)
                self._end(disposition, HangupSide.CALLER, None, "caller hung up before an answer")
            elif cancelled:
                self._end(Disposition.CANCELLED, HangupSide.CALLER, 487, "caller cancelled")
            else:
                self._end(Disposition.ANSWERED, HangupSide.CALLER, None, "caller hung up")
            return
        if leg is self.callee:
            self.caller.end(0)
            self._end(Disposition.ANSWERED, HangupSide.CALLEE, None, "callee hung up")
            return
        if leg in self.forks:
            self.forks.remove(leg)
            self.failures.append(event)
            if not self.forks and self.phase is Phase.RINGING:
                self._no_answer()

    def _on_offer(self, leg: Leg, event: Offer) -> None:
        try:
            local = self._sdp.mid_call(self._side(leg), event.body)
        except SdpError as exc:
            leg.answer_offer(event.token, exc.status_hint)
            return
        if local is not None:  # answered by the switch itself (anchored media)
            leg.answer_offer(event.token, 200, local)
            return
        peer = self._peer_of(leg)
        if peer is None or not peer.offer(event.method, event.body, event.token):
            # Nobody to ask (still ringing, or the other side is gone): keep
            # the media as it is and say so.
            leg.answer_offer(event.token, 488 if peer is None else 500)

    def _on_offer_answered(self, leg: Leg, event: OfferAnswered) -> None:
        peer = self._peer_of(leg)
        if peer is not None:
            peer.answer_offer(event.token, event.status, event.body)

    # -- blind transfer (RFC 3515, softswitch.transfer) ---------------------------

    def _on_transfer(self, leg: Leg, event: TransferRequested) -> None:
        other = self._peer_of(leg)
        targets = (self.host.transfer_targets(self, event.target, leg is self.caller)
                   if other else [])
        if other is None or not targets or self._transfer is not None:
            leg.respond(event.token, 403 if not targets else 491)  # type: ignore[arg-type]
            return
        leg.respond(event.token, 202)  # type: ignore[arg-type]
        offer = self._sdp.transfer_offer(self._side(leg), other.remote_body)
        legs = [self._fork_leg(target, offer) for target in targets]
        self._transfer = BlindTransfer(
            leg, legs, ring_timeout=self.info.ring_timeout, call_later=self.host.call_later,
            rank=_rank, on_answered=lambda new, body: self._transfer_answered(leg, new, body),
            on_failed=lambda status, _: self._transfer_failed(leg, status))

    def _transfer_answered(self, transferor: Leg, new: Leg, body: bytes) -> None:
        """Join the transferee to the target, whose leg replaces the transferor's."""
        self._transfer = None
        transferee = self._peer_of(transferor)
        self.host.publish(LegAnswered(self.id, new.index, self.host.wall()))
        reoffer = self._sdp_step(lambda: self._sdp.transfer_answered(self._side(transferor),
                                                                    body))
        if transferor is self.caller:
            self.caller = new
        else:
            self.callee = new
        self.forks = [self.callee] if self.callee else []
        if transferee is not None and reoffer:
            transferee.offer("INVITE", reoffer, None)
        if not transferor.ended:  # it normally hangs up on the final NOTIFY
            self._departing.append(transferor)
            self._timers.append(self.host.call_later(TRANSFEROR_GRACE,
                                                     lambda: self._drop(transferor)))

    def _transfer_failed(self, transferor: Leg, status: int) -> None:
        """The transferor keeps the call, or, when it has left, the call ends."""
        self._transfer = None
        if not transferor.ended:
            return
        transferee = self._peer_of(transferor)
        if transferee is not None:
            transferee.end(0)
        side = HangupSide.CALLER if transferor is self.caller else HangupSide.CALLEE
        self._end(Disposition.ANSWERED, side, None,
                  f"transfer failed with {status} after the transferor hung up")

    # -- ring timeout and media reports ----------------------------------------

    def _ring_timeout(self) -> None:
        if self.phase is Phase.RINGING:
            for fork in self.forks:
                fork.end(reason="ring timeout")
            # A phone that refused (busy) tells more than the ones left ringing.
            self._fail(_best([*self.failures, Release(480, "no answer", False)]))

    def on_media(self, name: str, args: tuple[Any, ...]) -> None:
        """What the media worker reports about this call."""
        if self.driver is not None and self.phase is Phase.RINGING:
            self.driver.on_media(name, args)
        if (name in ("played", "error") and self._announcing is not None
                and self.phase is Phase.RINGING):
            # The notice ended, or could not be played (no espeak-ng, say):
            # either way the callee rings now rather than never.
            targets, self._announcing = self._announcing, None
            self._ring(targets)
        elif name == "timeout" and self.phase is Phase.ANSWERED:
            self.hang_up(f"no media from the {'caller' if args[0] == 'a' else 'callee'} "
                         f"for {float(args[1]):.0f} s", media_timeout=True)
        elif name == "digit":
            log.info("call %s: digit %s from %s (%s)", self.id, args[1], args[0], args[2])
        if name == "error":
            log.warning("call %s: media: %s", self.id, args[0])


_EVENTS: dict[type, Callable[[Call, Leg, LegEvent], None]] = {
    Ringing: Call._on_ringing,  # type: ignore[dict-item]
    Answer: Call._on_answer,  # type: ignore[dict-item]
    Acked: Call._on_acked,  # type: ignore[dict-item]
    Release: Call._on_release,  # type: ignore[dict-item]
    Offer: Call._on_offer,  # type: ignore[dict-item]
    OfferAnswered: Call._on_offer_answered,  # type: ignore[dict-item]
    TransferRequested: Call._on_transfer,  # type: ignore[dict-item]
}
