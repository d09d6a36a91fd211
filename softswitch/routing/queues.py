"""Queue groups (F-ROUTE-5) and call pickup within a group (F-ROUTE-6).

A call stays in a queue as a sequence of rounds. Each round rings members who
can take a call (enabled, registered, and working unless the queue rings
absent members too): all of them, the next one in turn after the member the
queue rang last (across calls), or the one rung least recently ("evenly").
Without ``max_wait`` every such member is rung once; with it, passes repeat
until the wait is over, the last round cut to the time left. Then the call is
"not answered" and goes to the queue's ``no_answer``. A queue without members
goes there at once (with a forward number: unconditional forwarding); a queue
none of whose members is registered cannot be carried out (the backup number).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from softswitch.routing.decisions import QueueVisit, Rang, RingTarget
from softswitch.routing.state import MemberStatus, RoutingState

if TYPE_CHECKING:
    from softswitch.config.routing import Queue, RoutingSettings

__all__ = ["Exhausted", "RingingCall", "Round", "pickup_allowed", "pickup_call", "queue_round"]


@dataclass(frozen=True, slots=True)
class Round:
    """Ring these members now; ``visit`` and ``rang`` record it."""

    targets: tuple[RingTarget, ...]
    visit: QueueVisit
    rang: Rang


@dataclass(frozen=True, slots=True)
class Exhausted:
    """Nobody (more) to ring, and why: no members at all, none registered, every
    registered one absent, or every one rung without an answer."""

    why: Literal["empty", "unregistered", "absent", "no_answer"]


def _ringable(queue: Queue, state: RoutingState, enabled: Callable[[str], bool]) -> list[str]:
    return [m for m in queue.members
            if enabled(m) and state.is_registered(m)
            and (not queue.skip_absent or state.status(m) is MemberStatus.WORKING)]


def _next_in_turn(queue: Queue, state: RoutingState, candidates: list[str]) -> list[str]:
    members = queue.members
    last = state.last_in_turn(queue.name)
    start = members.index(last) + 1 if last in members else 0
    for offset in range(len(members)):
        member = members[(start + offset) % len(members)]
        if member in candidates:
            return [member]
    return []


def _least_recent(queue: Queue, state: RoutingState, candidates: list[str]) -> list[str]:
    never = [m for m in candidates if state.last_rung(m) is None]
    if never:
        return never[:1]
    rung = {m: state.last_rung(m) or datetime.min for m in candidates}
    return [min(candidates, key=lambda m: (rung[m], queue.members.index(m)))]


_CHOOSE = {
    "all": lambda queue, state, candidates: candidates,
    "in_turn": _next_in_turn,
    "evenly": _least_recent,
}


def queue_round(queue: Queue, visit: QueueVisit, now: datetime, state: RoutingState,
                enabled: Callable[[str], bool] = lambda _: True) -> Round | Exhausted:
    """The next round of ``visit`` in ``queue`` at ``now``.

    Start a call's stay with ``QueueVisit(queue.name, entered_at=now)``; after a
    round nobody answered, call again with the round's ``visit``.
    """
    if not queue.members:
        return Exhausted("empty")
    left = None
    if queue.max_wait is not None:
        left = queue.max_wait - (now - visit.entered_at).total_seconds()
        if left <= 0:
            return Exhausted("no_answer")
    ringable = _ringable(queue, state, enabled)
    if not ringable:
        registered = any(enabled(m) and state.is_registered(m) for m in queue.members)
        return Exhausted("absent" if registered else "unregistered")
    candidates = [m for m in ringable if m not in visit.tried]
    tried = visit.tried
    if not candidates:
        if left is None:
            return Exhausted("no_answer")
        candidates, tried = ringable, ()
    chosen = _CHOOSE[queue.strategy](queue, state, candidates)
    targets = tuple(RingTarget(m, queue.ring_time_of(m) if left is None
                               else min(queue.ring_time_of(m), left)) for m in chosen)
    return Round(targets, QueueVisit(visit.queue, visit.entered_at, (*tried, *chosen)),
                 Rang(queue.name, tuple(chosen), now))


@dataclass(frozen=True, slots=True)
class RingingCall:
    """A call now ringing employees: through ``queue`` (None: a direct call)."""

    call_id: str
    ringing: tuple[str, ...]
    queue: str | None
    since: datetime


def pickup_allowed(routing: RoutingSettings, picker: str, call: RingingCall) -> bool:
    """Whether extension ``picker`` may take ``call`` with the pickup code (F-ROUTE-6).

    Only a member of the queue group the call is ringing through (for a direct
    call: a group shared with a rung employee), and not one of those rung.
    """
    if picker in call.ringing:
        return False
    if call.queue is not None:
        queue = routing.queue(call.queue)
        return queue is not None and picker in queue.members
    groups = set(routing.groups_of(picker))
    return any(groups.intersection(routing.groups_of(member)) for member in call.ringing)


def pickup_call(routing: RoutingSettings, picker: str,
                calls: Sequence[RingingCall]) -> RingingCall | None:
    """The call ``picker`` takes with the pickup code: the longest ringing it may take."""
    allowed = [call for call in calls if pickup_allowed(routing, picker, call)]
    return min(allowed, key=lambda call: call.since, default=None)
