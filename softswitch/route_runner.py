"""Carrying out an incoming call's routing (F-ROUTE-2..9, F-ROUTE-11, F-MEDIA-6).

A :class:`RouteRunner` drives one :class:`~softswitch.call.Call` with the
decisions of its :class:`~softswitch.routing.LineRouter`: it answers the
caller when a prompt must be heard (the switch's own SDP through the media
bridge), plays greetings and menus with ``bridge.play("a", ...)``, collects
what the caller dials (RFC 4733 or in-band digit events, with the inter-digit
and menu timeouts on the host's timers), forks callee legs for extensions and
queue rounds (each member for its own ring time, hold music meanwhile),
forwards through a trunk, and records voicemail. A step that fails inside the
engine falls back to the line's backup number (F-ROUTE-9).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from media.errors import MediaError
from softswitch.callcontrol import Release
from softswitch.cdr import CallRecorded
from softswitch.routing import (
    DigitCollection,
    Forward,
    Greet,
    LineRouter,
    MemoryRoutingState,
    Next,
    PickUp,
    Play,
    RecordVoicemail,
    Refuse,
    RingExtension,
    RingQueue,
    RunMenu,
    Step,
)
from softswitch.storage.records import Direction, Disposition

if TYPE_CHECKING:
    from softswitch.call import Call, Cancelable, Target
    from softswitch.inbound import Caller

log = logging.getLogger(__name__)

__all__ = ["RouteHost", "RouteRunner", "voicemail_path"]


class RouteHost(Protocol):
    """What the runner needs from the application."""

    routing_state: MemoryRoutingState

    def routing_now(self) -> datetime: ...
    def call_later(self, delay: float, fn: Callable[[], None]) -> Cancelable: ...
    def route_targets(self, caller: Caller, step: Step) -> list[tuple[Target, float]]: ...
    def voicemail_dir(self) -> Path: ...
    def wall(self) -> datetime: ...


def voicemail_path(root: Path, at: datetime, call_id: str, box: str) -> Path:
    """Where a voicemail is stored: a folder per month, one file per message."""
    return root / at.strftime("%Y-%m") / f"{at.strftime('%Y%m%dT%H%M%S')}-{box}-{call_id}.wav"


@dataclass
class _Collecting:
    """Digits being collected for a greeting or a menu."""

    step: Greet | RunMenu
    collect: DigitCollection
    entry: str = ""
    prompt_over: bool = False


class RouteRunner:
    """Drives one call through its line's routing (module doc)."""

    def __init__(self, host: RouteHost, call: Call, router: LineRouter, caller: Caller) -> None:
        self.host = host
        self.call = call
        self.router = router
        self.caller = caller
        self.step: Step | None = None
        self._collecting: _Collecting | None = None
        self._playing: list[str] = []  # prompts queued on the caller's side, in order
        self._timer: Cancelable | None = None
        self._voicemail: Path | None = None
        self.ended = False

    # -- stepping -----------------------------------------------------------------------

    def start(self, first: Next) -> None:
        self.carry_out(first)

    def carry_out(self, following: Next) -> None:
        """Apply ``following``'s effects and start its step; an engine failure
        while doing so sends the call to the backup number."""
        if self.ended:
            return
        for effect in following.effects:
            self.host.routing_state.apply(effect)
        self._cancel_timer()
        self._collecting, self._playing = None, []
        self.step = following.step
        try:
            self._start(following.step)
        except Exception as exc:
            if isinstance(exc, MediaError):  # expected at capacity: one line, no traceback
                log.error("call %s: routing step %s failed: %s", self.call.id,
                          following.step, exc)
            else:
                log.exception("call %s: routing step %s failed", self.call.id, following.step)
            if isinstance(following.step, Forward) and following.step.why == "backup":
                self.call.refuse(503, "routing failed")
                return
            self.carry_out(self.router.backup())

    def _decide(self, decide: Callable[[datetime, MemoryRoutingState], Next]) -> None:
        try:
            following = decide(self.host.routing_now(), self.host.routing_state)
        except Exception:
            log.exception("call %s: routing failed", self.call.id)
            following = self.router.backup()
        self.carry_out(following)

    def _start(self, step: Step) -> None:
        log.info("call %s: %s", self.call.id, step)
        if isinstance(step, Refuse):
            self.call.refuse(step.status, step.reason)
        elif isinstance(step, RingExtension | RingQueue | Forward):
            self._ring(step)
        elif isinstance(step, Greet):
            self._prompt_and_collect(step, [step.prompt], step.collect)
        elif isinstance(step, RunMenu):
            prompts = [step.before, step.prompt] if step.before else [step.prompt]
            self._prompt_and_collect(step, prompts, step.collect)
        elif isinstance(step, Play):
            self._answer()
            self._play([step.prompt])
        elif isinstance(step, RecordVoicemail):
            self._answer()
            self._play([step.greeting, "beep"])
        elif isinstance(step, PickUp):
            self.call.refuse(404, "pickup is not a step of an incoming call")
        else:
            raise ValueError(f"the engine cannot carry out {step!r}")

    # -- ringing --------------------------------------------------------------------------

    def _ring(self, step: RingExtension | RingQueue | Forward) -> None:
        targets = self.host.route_targets(self.caller, step)
        if not targets:
            raise RuntimeError(f"nobody to ring for {step}")
        if (isinstance(step, RingQueue) and step.hold_music is not None
                and self.call.caller_media()):
            self.call.play_to_caller(step.hold_music, loop=True)
        direction = Direction.FORWARDED if isinstance(step, Forward) else None
        if isinstance(step, RingExtension):
            self.call.ringing_for = ((step.number,), None)
        elif isinstance(step, RingQueue):
            self.call.ringing_for = (tuple(t.extension for t in step.targets), step.queue)
        else:
            self.call.ringing_for = ((), None)
        self.call.ring(targets, direction)

    def no_answer(self, failure: Release) -> bool:
        """Every leg of the step failed or rang out: True when routing goes on."""
        step = self.step
        if self.ended or not isinstance(step, RingExtension | RingQueue):
            return False
        self.call.stop_caller_prompt()
        self._decide(lambda now, state: self.router.after_no_answer(step, now, state))
        return True

    def answered(self) -> None:
        """A callee answered: the caller stops hearing prompts or hold music."""
        self._cancel_timer()
        self._collecting = None
        if self._playing or isinstance(self.step, RingQueue):
            self.call.stop_caller_prompt()
        self._playing = []

    # -- prompts and digits -----------------------------------------------------------------

    def _answer(self) -> None:
        if not self.call.answer_caller():
            raise RuntimeError("prompts need anchored media")

    def _play(self, prompts: list[str]) -> None:
        self._playing = list(prompts)
        self.call.play_to_caller(prompts[0])

    def _prompt_and_collect(self, step: Greet | RunMenu, prompts: list[str],
                            collect: DigitCollection | None) -> None:
        self._answer()
        if collect is not None:
            self._collecting = _Collecting(step, collect)
        self._play(prompts)

    def on_media(self, name: str, args: tuple[object, ...]) -> None:
        if self.ended:
            return
        if name == "played" and len(args) >= 2 and args[0] == "a":
            self._played(str(args[1]))
        elif name == "digit" and len(args) >= 2 and args[0] == "a":
            self._digit(str(args[1]))

    def _played(self, prompt: str) -> None:
        if not self._playing or self._playing[0] != prompt:
            return  # a prompt stopped earlier, or hold music
        self._playing.pop(0)
        if self._playing:
            self.call.play_to_caller(self._playing[0])
            return
        step = self.step
        if isinstance(step, Play):
            if step.then is None:
                self.call.finish(Disposition.ANSWERED if self.call.answered_by_callee
                                 else Disposition.NO_ANSWER, "announcement played")
            else:
                self.carry_out(Next(step.then))
        elif isinstance(step, RecordVoicemail):
            self._record(step)
        elif isinstance(step, Greet | RunMenu):
            self._prompt_over(step)

    def _prompt_over(self, step: Greet | RunMenu) -> None:
        collecting = self._collecting
        if collecting is None:
            self._hand_back("")
            return
        collecting.prompt_over = True
        if collecting.entry:
            return  # the inter-digit timer is running
        if isinstance(step, RunMenu):
            self._arm(step.timeout, lambda: self._hand_back(None))
        else:
            self._hand_back("")

    def _digit(self, digit: str) -> None:
        collecting = self._collecting
        if collecting is None:
            return
        if self._playing:
            self._playing = []
            self.call.stop_caller_prompt()
            collecting.prompt_over = True
        collecting.entry += digit
        if collecting.collect.complete(collecting.entry):
            self._hand_back(collecting.entry)
        else:
            self._arm(collecting.collect.inter_digit,
                      lambda: self._hand_back(collecting.entry))

    def _hand_back(self, entry: str | None) -> None:
        step = self.step
        self._cancel_timer()
        self._collecting = None
        if isinstance(step, Greet):
            self._decide(lambda now, state: self.router.after_greeting(entry or "", now, state))
        elif isinstance(step, RunMenu):
            visit = step.visit
            self._decide(lambda now, state: self.router.after_menu(visit, entry or None,
                                                                   now, state))

    # -- voicemail --------------------------------------------------------------------------

    def _record(self, step: RecordVoicemail) -> None:
        path = voicemail_path(self.host.voicemail_dir(), self.host.wall(), self.call.id,
                              step.box)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._voicemail = path
        self.call.record_caller(path)
        self.call.host.publish(CallRecorded(self.call.id, str(path)))
        self._arm(step.max_seconds,
                  lambda: self.call.finish(Disposition.NO_ANSWER, "voicemail limit reached"))

    def left_disposition(self) -> Disposition:
        """How the call ends when the caller hangs up before anyone answered."""
        return Disposition.NO_ANSWER if self._voicemail is not None else Disposition.CANCELLED

    # -- timers -----------------------------------------------------------------------------

    def _arm(self, delay: float, fn: Callable[[], None]) -> None:
        self._cancel_timer()
        self._timer = self.host.call_later(delay, fn)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        """The call ended."""
        self.ended = True
        self._cancel_timer()
