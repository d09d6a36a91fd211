"""What :class:`sipstack.endpoint.Endpoint` tells the application.

Call-level events arrive as :class:`SessionEvent` wrapping the INVITE
session's own outputs (:mod:`sipstack.dialog.events`: Progress, Answered,
Confirmed, Reinvited, Updated, InDialogRequest, RequestAnswered, Terminated).
"""

from __future__ import annotations

from dataclasses import dataclass

from sipstack.dialog import InviteSession, Output
from sipstack.events import Address
from sipstack.message import Request, Response


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    """An out-of-dialog request other than INVITE (REGISTER, OPTIONS …);
    answer it with :meth:`Endpoint.respond`."""

    key: str
    request: Request
    source: Address


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """A new INVITE: a UAS session waiting for :meth:`Endpoint.answer`."""

    session: InviteSession
    request: Request
    source: Address


@dataclass(frozen=True, slots=True)
class ResponseEvent:
    """The final response (or a provisional one) to a request sent with
    :meth:`Endpoint.send_request`. ``local`` marks a 408/503 made up by the
    stack for a timeout or a transport failure (§8.1.3.1)."""

    key: str
    request: Request
    response: Response
    local: bool = False


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """Something happened in a call leg."""

    session: InviteSession
    event: Output


EndpointEvent = IncomingRequest | IncomingCall | ResponseEvent | SessionEvent
