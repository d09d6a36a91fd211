"""The decisions routing hands the call engine, and the state changes that go with them.

A routing function returns a :class:`Next`: one :data:`Step` to carry out and
the :data:`Effect` values to apply to the shared routing state
(:meth:`softswitch.routing.state.MemoryRoutingState.apply`). Steps that wait
for the caller or the called (a greeting, a menu, ringing) carry what the
engine must hand back to the router when they end, so the engine keeps no
routing logic of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from softswitch.routing.destinations import Destination

__all__ = [
    "AddToBlacklist",
    "Decision",
    "DialOut",
    "DigitCollection",
    "Effect",
    "Forward",
    "Greet",
    "MenuVisit",
    "Next",
    "PickUp",
    "Play",
    "QueueVisit",
    "Rang",
    "RecordVoicemail",
    "Refuse",
    "RingExtension",
    "RingQueue",
    "RingTarget",
    "RunMenu",
    "Step",
]


@dataclass(frozen=True, slots=True)
class RingExtension:
    """Ring every registered phone of an extension.

    ``ring_time`` None means ``calls.ring_timeout``. When nobody answers in
    time (or every phone refuses), the engine asks the router
    (``after_no_answer``) what next; ``no_answer`` None means the call fails
    with 480, as for a call that no plan governs.
    """

    number: str
    ring_time: float | None = None
    no_answer: Destination | None = None


@dataclass(frozen=True, slots=True)
class DialOut:
    """An employee's call to an external number through a trunk (F-OUT-1)."""

    trunk: str
    number: str


@dataclass(frozen=True, slots=True)
class Forward:
    """An incoming call sent on to an external number through a trunk (F-ROUTE-11).

    The leg is an outbound, billable call whose CDR says forwarded; ``caller_id``
    is the From user to present (the caller's number where the line allows it,
    otherwise the line's own number). Forwarding is the last step: if the far
    end does not answer, the call ends with the far end's failure.
    """

    trunk: str
    number: str
    caller_id: str
    why: Literal["forward", "mobile", "backup"] = "forward"


@dataclass(frozen=True, slots=True)
class Refuse:
    """End the call: the final response ``status`` if the INVITE is still
    unanswered, a BYE if a greeting or menu has already answered it."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class DigitCollection:
    """How to collect what a caller dials during a prompt (RFC 4733 or in-band).

    The engine appends each key to the entry and stops as soon as
    :meth:`complete` says so, or when no key comes for the inter-digit time;
    it then hands the entry (possibly empty) back to the router.
    """

    keys: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    inter_digit: float = 3.0

    def complete(self, entry: str) -> bool:
        """An entry is complete on '#', on a menu key no extension starts with,
        on a whole extension no longer one starts with, or at the longest length."""
        if entry.endswith("#") or not entry:
            return bool(entry)
        longer = any(e.startswith(entry) and e != entry for e in self.extensions)
        if entry in self.keys or entry in self.extensions:
            return not longer
        longest = max((len(e) for e in self.extensions), default=1)
        return len(entry) >= longest or not longer


@dataclass(frozen=True, slots=True)
class Greet:
    """Answer, play the welcome prompt and collect digits while it plays (F-ROUTE-2).

    With ``collect`` None nothing is collected. When the prompt ends (or the
    entry completes), hand the entry to ``after_greeting``.
    """

    prompt: str
    collect: DigitCollection | None


@dataclass(frozen=True, slots=True)
class MenuVisit:
    """Where a caller is in the menus: the menu, failed attempts, the menus above."""

    menu: str
    attempt: int = 0
    parents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunMenu:
    """Play ``before`` (if any) then the menu's prompt, and collect a choice (F-ROUTE-3).

    Hand the entry to ``after_menu`` with ``visit``; None when nothing was
    dialled within ``timeout`` seconds after the prompt ended.
    """

    visit: MenuVisit
    prompt: str
    collect: DigitCollection
    timeout: float
    before: str | None = None


@dataclass(frozen=True, slots=True)
class RingTarget:
    """One queue member to ring, and for how long."""

    extension: str
    ring_time: float


@dataclass(frozen=True, slots=True)
class QueueVisit:
    """A call's stay in a queue: when it entered and who was rung in this pass."""

    queue: str
    entered_at: datetime
    tried: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RingQueue:
    """Ring ``targets`` at once, each for its ring time, while the caller hears
    ``hold_music`` (None: ringback) (F-ROUTE-5). When the first answers, bridge
    it and stop the others; when none does, ask ``after_no_answer``."""

    queue: str
    targets: tuple[RingTarget, ...]
    hold_music: str | None
    visit: QueueVisit


@dataclass(frozen=True, slots=True)
class RecordVoicemail:
    """Answer, play ``greeting``, a beep, and record up to ``max_seconds`` (F-MEDIA-6);
    store it like a call recording and link it from the CDR. ``owner`` is the
    extension whose box it is (None: a shared box)."""

    box: str
    greeting: str
    max_seconds: float
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class Play:
    """Answer, play ``prompt``, then carry out ``then`` (None: hang up)."""

    prompt: str
    then: Step | None = None


@dataclass(frozen=True, slots=True)
class PickUp:
    """The phone dialled the pickup code (F-ROUTE-6): find the ringing call it
    may take (``pickup_call``) and connect it, or refuse with 404."""


Step = (Refuse | RingExtension | DialOut | Forward | Greet | RunMenu | RingQueue
        | RecordVoicemail | Play | PickUp)
Decision = Step


@dataclass(frozen=True, slots=True)
class AddToBlacklist:
    """Refuse this number's calls from now on (F-ROUTE-7 out of hours, F-ROUTE-8)."""

    number: str


@dataclass(frozen=True, slots=True)
class Rang:
    """Queue ``queue`` offered a call to ``members`` at ``at`` (for in-turn and evenly)."""

    queue: str
    members: tuple[str, ...]
    at: datetime


Effect = AddToBlacklist | Rang


@dataclass(frozen=True, slots=True)
class Next:
    """A step to carry out and the routing-state changes to apply first."""

    step: Step
    effects: tuple[Effect, ...] = field(default=())
