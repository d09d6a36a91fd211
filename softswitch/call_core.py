"""The state of one B2BUA call, what the switch itself does to its caller,
and how the call ends.

:class:`CallCore` holds a call's legs and phase and writes its CDR facts
(F-OPS-3): started, each leg started and ended, ended with a disposition.
It answers the caller with the switch's own SDP and plays prompts for the
routing driver (:mod:`softswitch.route_runner`), and it ends the call from
any side: a failure chosen among the forks' final responses (RFC 3261
§16.7, ranked in :mod:`softswitch.call_types`), a routing refusal, the
maximum duration, a media timeout, a system hang-up. How a call rings its
forks and reacts to its legs' events is :class:`softswitch.call.Call`.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from media.sdp import SdpError
from sipstack.dialog import InviteSession
from softswitch.call_types import CallDriver, CallHost, CallInfo, Cancelable, Phase, Target
from softswitch.callcontrol import Release, disposition_for
from softswitch.cdr import CallEnded, CallStarted, LegAnswered, LegEnded, LegStarted
from softswitch.legs import Leg
from softswitch.media_policy import PassThrough, SdpPolicy
from softswitch.storage.records import Direction, Disposition, HangupSide, LegRole
from softswitch.transfer import BlindTransfer

log = logging.getLogger("softswitch.call")  # one logger for everything a call logs
T = TypeVar("T")


@dataclass
class CallCore(abc.ABC):
    """A call's state and its ending (module doc); :class:`~softswitch.call.Call`
    adds the ringing and the legs' events."""

    host: CallHost
    id: str
    info: CallInfo
    caller_session: InviteSession
    sdp: SdpPolicy | None = None  # None: pass the phones' SDP through
    recording: Path | None = None  # where to record once answered (F-MEDIA-3)
    announce: bool = False  # tell the caller "this call is recorded" before ringing
    phase: Phase = Phase.RINGING
    caller: Leg = field(init=False)
    callee: Leg | None = None
    forks: list[Leg] = field(default_factory=list)
    failures: list[Release] = field(default_factory=list)
    _timers: list[Cancelable] = field(default_factory=list)
    _departing: list[Leg] = field(default_factory=list)  # transferors given time to BYE
    _leg_count: int = 0
    _ringing_sent: bool = False
    _transfer: BlindTransfer | None = None
    _announcing: list[Target] | None = None  # targets waiting for the notice to end
    driver: CallDriver | None = None  # routing of an incoming call, when a line plan governs it
    caller_answered: bool = False  # the switch itself answered the caller (a prompt)
    ringing_for: tuple[tuple[str, ...], str | None] = ((), None)  # extensions, queue (pickup)
    started_at: datetime | None = None

    def __post_init__(self) -> None:
        self._sdp: SdpPolicy = self.sdp or PassThrough(self.caller_session.invite.body)

    @abc.abstractmethod
    def _finished(self) -> None:
        """The call has ended: the host lets go of it."""

    # -- start ------------------------------------------------------------------

    def begin(self) -> None:
        """Record the call's start; its driver then decides what rings."""
        host, invite = self.host, self.caller_session.invite
        self.started_at = host.wall()
        host.publish(CallStarted(self.id, invite.call_id, self.info.caller, self.info.callee,
                                 self.info.direction, host.wall(), self.info.caller_name,
                                 self.info.trunk))
        self._leg_started(self.caller, LegRole.CALLER)

    # -- the switch speaking to the caller (routing prompts) ------------------------

    @property
    def answered_by_callee(self) -> bool:
        return self.callee is not None

    def answer_caller(self) -> bool:
        """Answer the caller with the switch's own SDP (False: media is not anchored)."""
        if self.caller_answered:
            return True
        body = self._sdp.local_answer()
        if body is None:
            return False
        self.caller_answered = True
        self.caller.answer(body)
        self.host.publish(LegAnswered(self.id, 0, self.host.wall()))
        self._timers.append(self.host.call_later(self.info.max_duration, self._max_duration))
        return True

    def caller_media(self) -> bool:
        """Make sure the caller hears what the switch plays: early media
        (183) before an answer. False when it cannot."""
        if self.caller_answered:
            return True
        early = self._sdp.caller_early()
        if early is None:
            return False
        self.caller.ring(183, early)
        self._ringing_sent = True
        return True

    def play_to_caller(self, prompt: str, loop: bool = False) -> None:
        self._sdp.play("a", prompt, loop)

    def stop_caller_prompt(self) -> None:
        self._sdp.stop_play("a")

    def record_caller(self, path: Path) -> None:
        self._sdp.record(path)

    def refuse(self, status: int, reason: str) -> None:
        """End the call as routing decided: a final response, or a BYE when answered."""
        if self.phase is Phase.ENDED:
            return
        for fork in self.forks:
            fork.end(reason=reason)
        self._fail(Release(status, reason, False))

    def finish(self, disposition: Disposition, reason: str) -> None:
        """End a call the switch answered itself (announcement, voicemail)."""
        if self.phase is Phase.ENDED:
            return
        for leg in (self.caller, *self.forks):
            leg.end(0, reason)
        self._end(disposition, HangupSide.SYSTEM, None, reason)

    def _leg_started(self, leg: Leg, role: LegRole, direction: Direction | None = None
                     ) -> None:
        self.host.publish(LegStarted(self.id, leg.index, role, direction or self.info.direction,
                                     leg.peer, leg.sip_call_id, self.host.wall()))

    def _side(self, leg: Leg) -> str:
        return "a" if leg is self.caller else "b"

    def _sdp_step(self, step: Callable[[], T]) -> T | None:
        """Run an SDP step; a bad or unacceptable SDP ends the call, not the switch."""
        try:
            return step()
        except SdpError as exc:
            log.info("call %s: %s", self.id, exc.message)
            return None

    def _peer_of(self, leg: Leg) -> Leg | None:
        if self.phase is not Phase.ANSWERED:
            return None
        if leg is self.caller:
            return self.callee
        return self.caller if leg is self.callee else None

    # -- ending -----------------------------------------------------------------

    def _max_duration(self) -> None:
        if self.phase is Phase.RINGING and self.caller_answered:  # still in menus or voicemail
            self.finish(Disposition.MAX_DURATION, "maximum call duration reached")
        elif self.phase is Phase.ANSWERED:
            for leg in (self.caller, self.callee):
                if leg is not None:
                    leg.end(0)
            self._end(Disposition.MAX_DURATION, HangupSide.SYSTEM, None,
                      "maximum call duration reached")

    def hang_up(self, reason: str, media_timeout: bool = False) -> None:
        """End the call from the system side (shutdown, reload, admin)."""
        if self.phase is Phase.ENDED:
            return
        for leg in (self.caller, *self.forks):
            leg.end(503 if self.phase is Phase.RINGING else 0, reason)
        disposition = (Disposition.ANSWERED if self.phase is Phase.ANSWERED
                       else Disposition.FAILED)
        if media_timeout:
            disposition = Disposition.MEDIA_TIMEOUT
        self._end(disposition, HangupSide.SYSTEM, None, reason)

    def _fail(self, failure: Release) -> None:
        """Refuse the caller with the chosen failure (a callee's, or our own)."""
        status = failure.status or 480
        self.caller.end(status, failure.reason)
        side = HangupSide.CALLEE if failure.by_remote else HangupSide.SYSTEM
        self._end(disposition_for(status), side, status, failure.reason)

    def _end(self, disposition: Disposition, side: HangupSide, status: int | None,
             reason: str) -> None:
        self.phase = Phase.ENDED
        self._cancel_timers()
        # The driver refers to the call: letting go of it here (nothing asks
        # an ended call's driver anything) lets reference counting free both.
        driver, self.driver = self.driver, None
        if driver is not None:
            driver.close()
        self._sdp.close()
        if self._transfer is not None:  # the target would ring for nobody
            transfer, self._transfer = self._transfer, None
            transfer.abandon(reason)
        for leg in self._departing:  # their grace timer is cancelled with the rest
            self._drop(leg)
        self.host.publish(CallEnded(self.id, self.host.wall(), disposition, side, status,
                                    None if status is None else str(status), reason))
        log.info("call %s %s -> %s ended: %s (%s)", self.id, self.info.caller,
                 self.info.callee, disposition.value, reason)
        self._finished()

    def _leg_ended(self, leg: Leg, event: Release) -> None:
        side = None
        if event.by_remote:
            side = HangupSide.CALLER if leg is self.caller else HangupSide.CALLEE
        self.host.publish(LegEnded(self.id, leg.index, self.host.wall(), event.status or None,
                                   event.reason, side))

    def _cancel_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


    def _drop(self, leg: Leg) -> None:
        if not leg.ended:
            leg.end(0)
