"""The routing of one incoming call on one line, step by step (F-ROUTE-2..9, F-ROUTE-11).

A :class:`LineRouter` is built per call (:func:`softswitch.routing.plan.inbound_router`)
and asked for the first step, then for the next one each time a step ends:

- ``first_step``: a blacklisted caller is refused (F-ROUTE-8); outside working
  hours the out-of-hours destination applies, and the caller may be
  blacklisted (F-ROUTE-7); otherwise the greeting (F-ROUTE-2) or the plan's
  normal routing.
- normal routing: a known caller's responsible employee first, when the plan
  asks for it (F-ROUTE-4), then the plan's destination.
- ``after_greeting`` / ``after_menu``: what the caller dialled.
- ``after_no_answer``: an extension or a queue round nobody answered.
- ``backup``: the line's backup number, when a route cannot be carried out
  (F-ROUTE-9).

Every answer is a :class:`~softswitch.routing.decisions.Next`; the router
holds no state of its own, and time and run-time facts come in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from softswitch.routing import destinations as d
from softswitch.routing.decisions import (
    AddToBlacklist,
    DigitCollection,
    Forward,
    Greet,
    MenuVisit,
    Next,
    Play,
    QueueVisit,
    RecordVoicemail,
    Refuse,
    RingExtension,
    RingQueue,
    RunMenu,
    Step,
)
from softswitch.routing.hours import is_open
from softswitch.routing.menus import DialledExtension, Replay, collection, ivr_step
from softswitch.routing.queues import Exhausted, queue_round
from softswitch.routing.state import RoutingState, number_digits

if TYPE_CHECKING:
    from softswitch.config import Config, Trunk
    from softswitch.config.routing import Plan

__all__ = ["InboundLine", "LineRouter"]


@dataclass(frozen=True, slots=True)
class InboundLine:
    """The line a call came in on: its trunk, the number dialled, and the plan in force."""

    config: Config
    trunk: Trunk
    did: str | None
    plan: Plan


@dataclass(frozen=True, slots=True)
class LineRouter:
    """Decides each step of one call from ``caller`` on ``line``."""

    line: InboundLine
    caller: str
    owner: str | None = None
    """The extension responsible for the caller in the client directory (F-ROUTE-4)."""

    def _enabled(self, number: str) -> bool:
        extension = self.line.config.extension(number)
        return extension is not None and extension.enabled

    def _extensions(self) -> frozenset[str]:
        return frozenset(e.number for e in self.line.config.extensions if e.enabled)

    # -- entry ------------------------------------------------------------------------------

    def first_step(self, now: datetime, state: RoutingState) -> Next:
        """Blacklist, then working hours, then the greeting or the plan's destination."""
        plan, routing = self.line.plan, self.line.config.routing
        caller = number_digits(self.caller)
        if caller is not None and (caller in routing.blacklist or state.is_blacklisted(caller)):
            return Next(Refuse(routing.blacklist_status, "blacklisted caller"))
        if plan.hours is not None and not is_open(plan.hours, now):
            return self._out_of_hours(caller, now, state)
        if plan.greeting is not None:
            collect = DigitCollection(extensions=self._extensions()) \
                if plan.extension_dialing else None
            return Next(Greet(plan.greeting, collect))
        return self._normal(now, state)

    def _normal(self, now: datetime, state: RoutingState) -> Next:
        """The plan's destination, or first the employee responsible for a known
        caller when that employee can take the call (F-ROUTE-4)."""
        plan, owner = self.line.plan, self.owner
        if (plan.owner_routing and owner is not None and self._enabled(owner)
                and state.is_registered(owner)):
            then = (plan.destination if plan.owner_no_answer == "continue"
                    else _NO_ANSWER[plan.owner_no_answer](owner))
            return Next(RingExtension(owner, no_answer=then))
        return self.resolve(plan.destination, now, state)

    def _out_of_hours(self, caller: str | None, now: datetime, state: RoutingState) -> Next:
        plan = self.line.plan
        effects = (AddToBlacklist(caller),) if plan.out_of_hours_blacklist and caller else ()
        if plan.out_of_hours is None:
            status = self.line.config.routing.blacklist_status
            return Next(Refuse(status, "closed: caller blacklisted"), effects)
        following = self.resolve(plan.out_of_hours, now, state)
        return Next(following.step, effects + following.effects)

    # -- the caller's input -----------------------------------------------------------------

    def after_greeting(self, entry: str, now: datetime, state: RoutingState) -> Next:
        """Digits dialled during the greeting: an extension, nothing, or a wrong number."""
        plan = self.line.plan
        number = entry.removesuffix("#")
        if not number or not plan.extension_dialing:
            return self._normal(now, state)
        if self._enabled(number):
            return self._ring(number, plan.dialled_no_answer, now, state)
        following = self._normal(now, state)
        return Next(Play(plan.invalid_extension_prompt, following.step), following.effects)

    def after_menu(self, visit: MenuVisit, entry: str | None, now: datetime,
                   state: RoutingState) -> Next:
        """A key, an extension or silence (``entry`` None) in the menu ``visit`` is in."""
        menu = self.line.config.routing.menu(visit.menu)
        if menu is None:
            return self.backup()
        choice = ivr_step(menu, visit, entry, self._extensions())
        if isinstance(choice, Replay):
            return self._menu(choice.visit, choice.before)
        if isinstance(choice, DialledExtension):
            return self._ring(choice.number, self.line.plan.dialled_no_answer, now, state)
        return self.resolve(choice, now, state)

    def _menu(self, visit: MenuVisit, before: str | None = None) -> Next:
        menu = self.line.config.routing.menu(visit.menu)
        if menu is None:
            return self.backup()
        return Next(RunMenu(visit, menu.prompt, collection(menu, self._extensions()),
                            menu.timeout, before))

    # -- ringing ----------------------------------------------------------------------------

    def after_no_answer(self, step: Step, now: datetime, state: RoutingState) -> Next:
        """Nobody answered ``step`` (a :class:`RingExtension` or :class:`RingQueue`)."""
        if isinstance(step, RingExtension):
            if step.no_answer is None:
                return Next(Refuse(480, "no answer"))
            return self.resolve(step.no_answer, now, state)
        if isinstance(step, RingQueue):
            return self._queue(step.visit, now, state)
        if isinstance(step, Forward):
            return Next(Refuse(480, "forwarded call not answered"))
        raise ValueError(f"{type(step).__name__} is not a step that rings anyone")

    def _ring(self, number: str, no_answer: str, now: datetime, state: RoutingState) -> Next:
        if not self._enabled(number):
            return self.backup()
        then = _NO_ANSWER[no_answer](number)
        if not state.is_registered(number):
            return self.backup() if isinstance(then, d.HangUp) else self.resolve(then, now, state)
        return Next(RingExtension(number, no_answer=then))

    def _queue(self, visit: QueueVisit, now: datetime, state: RoutingState) -> Next:
        queue = self.line.config.routing.queue(visit.queue)
        if queue is None:
            return self.backup()
        result = queue_round(queue, visit, now, state, self._enabled)
        if isinstance(result, Exhausted):
            if result.why == "unregistered":
                return self.backup(otherwise=queue.no_answer, now=now, state=state)
            return self.resolve(queue.no_answer, now, state)
        step = RingQueue(queue.name, result.targets, queue.hold_music, result.visit)
        return Next(step, (result.rang,))

    # -- destinations -----------------------------------------------------------------------

    def resolve(self, destination: d.Destination, now: datetime, state: RoutingState) -> Next:
        """The step that carries ``destination`` out now."""
        plan = self.line.plan
        match destination:
            case d.ToExtension(number):
                return self._ring(number, plan.extension_no_answer, now, state)
            case d.ToQueue(name):
                return self._queue(QueueVisit(name, now), now, state)
            case d.ToMenu(name):
                return self._menu(MenuVisit(name))
            case d.ToVoicemail(box):
                return Next(self._voicemail(box))
            case d.ToNumber(number):
                return Next(self._forward(number, "forward"))
            case d.ToMobile(extension):
                return self._mobile(extension)
            case d.Announce(prompt):
                return Next(Play(prompt))
            case d.HangUp():
                return Next(Refuse(480, "call ended by the routing plan"))
            case d.Continue():
                if isinstance(plan.destination, d.Continue):
                    return self.backup()
                return self._normal(now, state)
        raise ValueError(f"not a destination: {destination!r}")

    def _voicemail(self, box: str) -> RecordVoicemail:
        routing = self.line.config.routing
        shared = routing.box(box)
        if shared is None:
            return RecordVoicemail(box, routing.voicemail_greeting,
                                   routing.voicemail_max_seconds, owner=box)
        return RecordVoicemail(box, shared.greeting,
                               shared.max_seconds or routing.voicemail_max_seconds)

    def _mobile(self, extension: str) -> Next:
        """The employee's mobile; without one, the employee's voicemail."""
        found = self.line.config.extension(extension)
        if found is None or found.mobile is None:
            return Next(self._voicemail(extension))
        return Next(self._forward(found.mobile, "mobile"))

    def _forward(self, number: str, why: Literal["forward", "mobile", "backup"]) -> Step:
        config, plan, trunk = self.line.config, self.line.plan, self.line.trunk
        name = plan.forward_trunk or (trunk.name if trunk.outbound
                                      else config.default_outbound_trunk)
        out = config.trunk(name) if name else None
        if out is None or not out.outbound:
            return Refuse(503, "no line to forward through")
        caller = number_digits(self.caller) if plan.pass_caller_id else None
        own = self.line.did or trunk.caller_id or out.caller_id
        return Forward(out.name, number, caller or own or "anonymous", why)

    def backup(self, otherwise: d.Destination | None = None, now: datetime | None = None,
               state: RoutingState | None = None) -> Next:
        """Forward to the backup number (the plan's, else the global one) (F-ROUTE-9).

        Without one: ``otherwise`` when given, else the call fails with 480.
        """
        number = self.line.plan.backup_number or self.line.config.routing.backup_number
        if number is not None:
            return Next(self._forward(number, "backup"))
        if otherwise is not None and now is not None and state is not None:
            return self.resolve(otherwise, now, state)
        return Next(Refuse(480, "temporarily unavailable"))


_NO_ANSWER: dict[str, Callable[[str], d.Destination]] = {
    "continue": lambda number: d.Continue(),
    "hangup": lambda number: d.HangUp(),
    "mobile": d.ToMobile,
    "voicemail": d.ToVoicemail,
}
