"""Offer/answer bookkeeping at the SIP level (RFC 3261 §13.2.1, RFC 3311 §5).

The session carries SDP as opaque bodies; what it must know is whether an
offer is outstanding and who made it, because a second offer crossing it is
refused: with 491 when the other side's offer crosses ours (glare), with 500
(and Retry-After) when they send a new offer before we answered theirs.

Rules followed: a body in an INVITE or UPDATE is an offer; the first body in
a 1xx/2xx to it is the answer; a non-2xx final response withdraws it. An
INVITE without body gets the offer in the 2xx and the answer in the ACK.
"""

from __future__ import annotations

from sipstack.dialog.events import By
from sipstack.message import Request, Response

_OFFER_METHODS = frozenset({"INVITE", "UPDATE"})


def _other(side: By) -> By:
    return By.REMOTE if side is By.LOCAL else By.LOCAL


class OfferAnswer:
    """Who holds an unanswered offer: ``pending`` is LOCAL, REMOTE or None."""

    __slots__ = ("ack_answers", "pending")

    def __init__(self) -> None:
        self.pending: By | None = None
        # The offer was made in a 2xx to INVITE: the ACK carries the answer.
        self.ack_answers = False

    def request(self, request: Request, sender: By) -> None:
        """An INVITE or UPDATE was sent (``By.LOCAL``) or received."""
        if request.method in _OFFER_METHODS and request.body:
            self.pending = sender
            self.ack_answers = False

    def response(self, request: Request, response: Response, offerer: By) -> None:
        """A response to ``request`` (whose sender is ``offerer``) went by."""
        if request.method not in _OFFER_METHODS or response.status < 101:
            return
        if request.body:
            if self.pending is offerer and (response.body or response.status >= 300):
                self.pending = None
        elif request.method == "INVITE" and response.is_success and response.body:
            self.pending = _other(offerer)
            self.ack_answers = True

    def ack(self) -> None:
        """The ACK of a 2xx went by: it answers an offer made in that 2xx."""
        if self.ack_answers:
            self.pending = None
            self.ack_answers = False
