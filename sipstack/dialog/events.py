"""What an INVITE session (RFC 3261 §13-§15, RFC 3311) hands its driver.

Every session entry point returns a list of these, in order. Two are orders
for the endpoint — :class:`SendRequest` and :class:`SendResponse` — and the
rest are events for the application above (call control, a B2BUA leg).

Who sends what:

- ``SendRequest`` with an ACK: a 2xx ACK is its own transaction-less request
  (§13.2.2.4, §17.1.1.3); the endpoint sends it straight to ``destination``.
  Any other method starts a client transaction (CANCEL one matched to the
  INVITE's, §9.1).
- ``SendResponse``: hand to the server transaction of the request it answers.
  ``retransmission`` marks a 2xx to INVITE sent again by the session itself
  (§13.3.1.4; the transaction sits in Accepted, RFC 6026 §8.5).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sipstack.message import Request, Response
from sipstack.uri import URI


class By(enum.Enum):
    """Which side ended the session."""

    LOCAL = "local"
    REMOTE = "remote"


@dataclass(frozen=True, slots=True)
class SendRequest:
    """Send ``request``; ``destination`` is the URI to resolve (§8.1.2)."""

    request: Request
    destination: URI


@dataclass(frozen=True, slots=True)
class SendResponse:
    response: Response
    retransmission: bool = False


@dataclass(frozen=True, slots=True)
class Progress:
    """UAC: a provisional response to our INVITE (180 Ringing, 183 …)."""

    response: Response


@dataclass(frozen=True, slots=True)
class Answered:
    """UAC: the first 2xx to our INVITE; the dialog is confirmed. ``ack`` is
    the ACK already sent, or None when the 2xx carried an offer (our INVITE
    had none) and :meth:`InviteSession.ack` must send the answer."""

    response: Response
    ack: Request | None


@dataclass(frozen=True, slots=True)
class Confirmed:
    """UAS: the ACK for one of our 2xx to INVITE (its body, if any, is an
    answer to an offer made in that 2xx)."""

    ack: Request


@dataclass(frozen=True, slots=True)
class Reinvited:
    """A re-INVITE arrived; answer it with :meth:`InviteSession.respond`."""

    request: Request


@dataclass(frozen=True, slots=True)
class Updated:
    """An UPDATE (RFC 3311) arrived; answer it with :meth:`InviteSession.respond`."""

    request: Request


@dataclass(frozen=True, slots=True)
class InDialogRequest:
    """Another in-dialog request (INFO, REFER, NOTIFY, OPTIONS, MESSAGE …);
    answer it with :meth:`InviteSession.respond`."""

    request: Request


@dataclass(frozen=True, slots=True)
class RequestAnswered:
    """The final response to a request we sent in the dialog (re-INVITE,
    UPDATE, INFO …). A 2xx to a re-INVITE has already been ACKed."""

    request: Request
    response: Response


@dataclass(frozen=True, slots=True)
class Terminated:
    """The session is over: ``reason`` in words, ``by`` whom, and the message
    that ended it (the BYE, CANCEL or final response) when there is one."""

    reason: str
    by: By
    message: Request | Response | None = None


Output = (SendRequest | SendResponse | Progress | Answered | Confirmed | Reinvited
          | Updated | InDialogRequest | RequestAnswered | Terminated)
