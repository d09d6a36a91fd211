"""Small rules of RFC 3261 §9.1, §13.3.1.4 and §14.1 the INVITE session uses.

- :class:`Retransmission`: the UAS core resends its 2xx to INVITE at T1, 2T1,
  4T1 … capped at T2, until the ACK arrives, and gives up after 64*T1
  (§13.3.1.4; the server transaction no longer does it, RFC 6026); a
  reliable provisional response the same way without the cap (RFC 3262 §3).
- :func:`glare_delay`: after a 491 the UAC waits 2.1-4 s if it owns the
  Call-ID (it sent the dialog-creating INVITE), else 0-2 s, in 10 ms units
  (§14.1). The randomness is a fraction in [0, 1) supplied by the caller.
- :func:`build_cancel`: a CANCEL copies the INVITE's Request-URI, top Via,
  From, To, Call-ID, CSeq number and Route (§9.1).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from sipstack.constants import T1, T2
from sipstack.events import IdFactory
from sipstack.headers import NameAddr
from sipstack.message import Request, Response
from sipstack.uri import URI

Fraction = Callable[[], float]
Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Sent:
    """A request sent in a dialog, with the caller's headers and body (what
    is needed to send it again after a 491)."""

    request: Request
    headers: Headers
    body: bytes


@dataclass(frozen=True, slots=True)
class Retransmission:
    """The schedule of a response the session itself resends: a 2xx to
    INVITE until its ACK (§13.3.1.4, capped at T2), a reliable provisional
    response until its PRACK (RFC 3262 §3, no cap)."""

    response: Response
    next_at: float
    interval: float
    give_up_at: float

    @classmethod
    def start(cls, response: Response, now: float, t1: float = T1) -> Retransmission:
        return cls(response, now + t1, t1, now + 64 * t1)

    @property
    def seq(self) -> int:
        return self.response.cseq.seq

    def after_send(self, now: float, t2: float = T2) -> Retransmission:
        """The schedule once the response has been sent again at ``now``."""
        interval = min(self.interval * 2, t2)
        return Retransmission(self.response, now + interval, interval, self.give_up_at)


def glare_delay(owns_call_id: bool, fraction: float) -> float:
    """Seconds to wait before retrying a request that got 491 (§14.1)."""
    low, high = (2.1, 4.0) if owns_call_id else (0.0, 2.0)
    fraction = min(max(fraction, 0.0), 1.0)
    steps = round((high - low) * 100)
    return round(low + round(fraction * steps) / 100, 2)


def fraction_from_ids(ids: IdFactory) -> Fraction:
    """A [0, 1) source drawn from fresh tags: unpredictable when the id factory
    is (production), repeatable when it counts (tests)."""

    def draw() -> float:
        return (zlib.crc32(ids.tag().encode()) % 1000) / 1000

    return draw


def build_cancel(invite: Request) -> Request:
    """The CANCEL for ``invite`` (§9.1): same branch, so it matches the
    INVITE's server transaction at the next hop."""
    fields = [("Via", invite.headers.get_all("Via")[0])]
    fields += [("Max-Forwards", "70")]
    for name in ("From", "To", "Call-ID"):
        fields.append((name, invite.headers.get(name) or ""))
    fields.append(("CSeq", f"{invite.cseq.seq} CANCEL"))
    fields += [("Route", route) for route in invite.headers.get_lines("Route")]
    return Request.build("CANCEL", invite.uri, fields)


def initial_next_hop(request: Request) -> URI:
    """Where an out-of-dialog request goes: its first Route if that is a
    loose router, else the Request-URI (§8.1.2)."""
    routes = request.headers.get_all("Route")
    if routes:
        first = NameAddr.parse(routes[0]).uri
        if first.param("lr") is not None:
            return first
    return request.uri
