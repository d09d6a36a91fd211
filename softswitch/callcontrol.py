"""SIP-independent call control: what a leg reports and what a call orders.

A :class:`~softswitch.call.Call` joins legs and speaks only these events, so
the bridge logic does not depend on SIP details (the idea behind sippy's CC
events). Legs translate to and from SIP (:mod:`softswitch.legs`).
"""

from __future__ import annotations

from dataclasses import dataclass

from softswitch.storage.records import Disposition


@dataclass(frozen=True, slots=True)
class Ringing:
    """The far end is alerting (180) or sent early media (183 with SDP)."""

    status: int
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes


@dataclass(frozen=True, slots=True)
class Release:
    """The leg is over. ``status`` is the SIP status that ended it (or 0 for
    a BYE after answer); ``by`` tells who ended it."""

    status: int
    reason: str
    by_remote: bool


@dataclass(frozen=True, slots=True)
class Offer:
    """A mid-call offer (re-INVITE or UPDATE): hold, unhold, new media.
    ``token`` identifies the request to answer with :meth:`Leg.answer_offer`."""

    method: str
    body: bytes
    token: object


@dataclass(frozen=True, slots=True)
class OfferAnswered:
    """The answer to a mid-call offer we forwarded to this leg."""

    status: int
    body: bytes
    token: object


@dataclass(frozen=True, slots=True)
class Acked:
    """The ACK to our 2xx arrived; ``body`` is the answer when our 2xx carried
    the offer (the caller's INVITE had none)."""

    body: bytes


@dataclass(frozen=True, slots=True)
class TransferRequested:
    """Blind transfer (REFER): connect the other party to ``target``."""

    target: str
    token: object


LegEvent = Ringing | Answer | Release | Offer | OfferAnswered | Acked | TransferRequested


def disposition_for(status: int) -> Disposition:
    """The CDR disposition of an unanswered call ended with ``status``."""
    return _BY_STATUS.get(status, Disposition.FAILED if status >= 500 else Disposition.REJECTED)


_BY_STATUS = {
    486: Disposition.BUSY, 600: Disposition.BUSY,
    408: Disposition.NO_ANSWER, 480: Disposition.NO_ANSWER,
    487: Disposition.CANCELLED,
    404: Disposition.UNAVAILABLE, 410: Disposition.UNAVAILABLE, 484: Disposition.UNAVAILABLE,
    603: Disposition.REJECTED, 403: Disposition.REJECTED,
}
