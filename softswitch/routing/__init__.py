"""Routing of calls, as pure code: the facts of a request, the state and ``now`` in, a decision out.

Nothing here touches SIP messages, sockets or the clock; the call engine
carries the decisions out (:mod:`softswitch.app`). An incoming call on a trunk
gets a :class:`LineRouter` from :func:`inbound_router` and is driven step by
step (:mod:`softswitch.routing.router`); an employee's call is decided at once
by :func:`route_from_extension`.
"""

from softswitch.routing.decisions import (
    AddToBlacklist,
    Decision,
    DialOut,
    DigitCollection,
    Effect,
    Forward,
    Greet,
    MenuVisit,
    Next,
    PickUp,
    Play,
    QueueVisit,
    Rang,
    RecordVoicemail,
    Refuse,
    RingExtension,
    RingQueue,
    RingTarget,
    RunMenu,
    Step,
)
from softswitch.routing.hours import is_open
from softswitch.routing.plan import (
    inbound_router,
    is_pickup_code,
    route_from_extension,
    route_from_trunk,
)
from softswitch.routing.queues import RingingCall, pickup_allowed, pickup_call
from softswitch.routing.router import InboundLine, LineRouter
from softswitch.routing.state import MemberStatus, MemoryRoutingState, RoutingState

__all__ = [
    "AddToBlacklist",
    "Decision",
    "DialOut",
    "DigitCollection",
    "Effect",
    "Forward",
    "Greet",
    "InboundLine",
    "LineRouter",
    "MemberStatus",
    "MemoryRoutingState",
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
    "RingingCall",
    "RoutingState",
    "RunMenu",
    "Step",
    "inbound_router",
    "is_open",
    "is_pickup_code",
    "pickup_allowed",
    "pickup_call",
    "route_from_extension",
    "route_from_trunk",
]
