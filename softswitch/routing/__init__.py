"""Routing of calls, as pure code: the facts of a request in, a decision out.

Nothing here touches SIP messages or sockets; the call engine carries the
decisions out (:mod:`softswitch.app`). Later routing plans (IVR, queues,
working hours) add decision kinds here.
"""

from softswitch.routing.decisions import Decision, DialOut, Refuse, RingExtension
from softswitch.routing.plan import route_from_extension, route_from_trunk

__all__ = ["Decision", "DialOut", "Refuse", "RingExtension", "route_from_extension",
           "route_from_trunk"]
