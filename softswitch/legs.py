"""One SIP side of a call: an INVITE session seen through call-control events.

A :class:`Leg` turns the session outputs of :mod:`sipstack.dialog.events`
into :mod:`softswitch.callcontrol` events for its :class:`~softswitch.call.Call`,
and the call's orders (ring, answer, end, offer …) into session actions. A UAC
leg towards a trunk answers the operator's digest challenge once (RFC 3261
§22.2) by re-sending the INVITE with credentials in a new session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sipstack.auth import authorize
from sipstack.dialog import (
    Answered,
    Confirmed,
    InDialogRequest,
    InviteSession,
    Output,
    Progress,
    Reinvited,
    RequestAnswered,
    Role,
    SendRequest,
    SessionState,
    Terminated,
    Updated,
)
from sipstack.endpoint import Endpoint
from sipstack.errors import SipError
from sipstack.events import Address, IdFactory
from sipstack.message import Request, Response
from softswitch.callcontrol import (
    Acked,
    Answer,
    LegEvent,
    Offer,
    OfferAnswered,
    Release,
    Ringing,
    TransferRequested,
)

log = logging.getLogger(__name__)


class LegHost(Protocol):
    """What a leg needs from the application."""

    endpoint: Endpoint
    ids: IdFactory

    def now(self) -> float: ...
    def bind(self, session: InviteSession, leg: Leg | None) -> None: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str


def _silent(leg: Leg, event: LegEvent) -> None:
    """The event handler of a leg that has terminated."""


class Leg:
    """A call leg; ``on_event`` receives its call-control events."""

    def __init__(self, host: LegHost, session: InviteSession, *, index: int, peer: str,
                 on_event: Callable[[Leg, LegEvent], None],
                 credentials: Credentials | None = None,
                 destination: Address | None = None) -> None:
        self.host = host
        self.session = session
        self.index = index
        self.peer = peer
        self.on_event = on_event
        self.credentials = credentials
        self.destination = destination
        self.answered = False
        self.ended = False
        self.remote_body = session.invite.body if session.role is Role.UAS else b""
        self.local_body = session.invite.body if session.role is Role.UAC else b""
        self._authenticated = False
        self._pending: dict[int, object] = {}  # CSeq of an offer we sent -> token
        host.bind(session, self)

    @property
    def is_uas(self) -> bool:
        return self.session.role is Role.UAS

    @property
    def sip_call_id(self) -> str:
        return self.session.invite.call_id

    def _apply(self, outputs: list[Output]) -> list[Output]:
        self.host.endpoint.apply(self.session, outputs, self.host.now())
        return outputs

    # -- orders from the call -------------------------------------------------

    def ring(self, status: int = 180, body: bytes = b"") -> None:
        if self.is_uas and not self.answered and not self.ended:
            self.host.endpoint.answer(self.session, status, self.host.now(), body=body)

    def answer(self, body: bytes) -> None:
        if not self.is_uas or self.answered or self.ended:
            return
        self.answered = True
        self.local_body = body
        self.host.endpoint.answer(self.session, 200, self.host.now(), body=body)

    def end(self, status: int = 480, reason: str | None = None) -> None:
        """End the leg the way its state allows: reject, CANCEL or BYE."""
        if self.ended:
            return
        self.ended = True
        session = self.session
        try:
            if session.state is SessionState.TERMINATED:
                return
            if self.answered or session.state is SessionState.CONFIRMED:
                self._apply(session.bye())
            elif self.is_uas:
                self.host.endpoint.answer(session, status, self.host.now(), reason=reason)
            else:
                self._apply(session.cancel())
        except SipError as exc:  # a race with the far end: it is ending anyway
            log.debug("ending leg %s: %s", self.peer, exc.message)

    def offer(self, method: str, body: bytes, token: object) -> bool:
        """Forward a mid-call offer; the answer comes back as OfferAnswered."""
        if self.ended:
            return False
        try:
            if method == "UPDATE":
                outputs = self.session.update(body)
            else:
                outputs = self.session.reinvite(body)
        except SipError as exc:
            log.info("cannot forward %s to %s: %s", method, self.peer, exc.message)
            return False
        for output in outputs:
            if isinstance(output, SendRequest) and output.request.method == method:
                self._pending[output.request.cseq.seq] = token
        self.local_body = body or self.local_body
        self._apply(outputs)
        return True

    def answer_offer(self, token: object, status: int, body: bytes = b"") -> None:
        if self.ended or not isinstance(token, Request):
            return
        if status < 300 and body:
            self.local_body = body
        self.host.endpoint.answer(self.session, status, self.host.now(), request=token,
                                  body=body if status < 300 else b"")

    def send_ack_answer(self, body: bytes) -> None:
        """UAC: the ACK carrying the answer to an offer in the 2xx."""
        self._apply(self.session.ack(body=body, headers=[("Content-Type", "application/sdp")]))

    def respond(self, request: Request, status: int, *,
                headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> None:
        self.host.endpoint.answer(self.session, status, self.host.now(), request=request,
                                  headers=headers, body=body)

    def notify_transfer(self, status_line: str, final: bool) -> None:
        """RFC 3515 §2.4.5: report the transfer's progress as message/sipfrag."""
        if self.ended:
            return
        state = "terminated;reason=noresource" if final else "active;expires=60"
        headers = [("Event", "refer"), ("Subscription-State", state),
                   ("Content-Type", "message/sipfrag;version=2.0")]
        try:
            self._apply(self.session.request("NOTIFY", headers,
                                             f"{status_line}\r\n".encode()))
        except SipError as exc:
            log.debug("NOTIFY to %s not sent: %s", self.peer, exc.message)

    # -- session outputs ------------------------------------------------------

    def on_output(self, output: Output) -> None:
        handler = _OUTPUTS.get(type(output))
        if handler is not None:
            handler(self, output)

    def _emit(self, event: LegEvent) -> None:
        self.on_event(self, event)

    def _on_progress(self, output: Progress) -> None:
        response = output.response
        if response.body:
            self.remote_body = response.body
        self._emit(Ringing(response.status, response.body))

    def _on_answered(self, output: Answered) -> None:
        self.answered = True
        if output.response.body:
            self.remote_body = output.response.body
        self._emit(Answer(output.response.body))

    def _on_confirmed(self, output: Confirmed) -> None:
        if output.ack.body:
            self.remote_body = output.ack.body
        self._emit(Acked(output.ack.body))

    def _on_reinvited(self, output: Reinvited | Updated) -> None:
        request = output.request
        if not request.body:
            # An offer-less refresh: answer at once with what we last sent.
            body = self.local_body if request.method == "INVITE" else b""
            self.respond(request, 200, body=body,
                         headers=(("Content-Type", "application/sdp"),) if body else ())
            return
        self.remote_body = request.body
        self._emit(Offer(request.method, request.body, request))

    def _on_in_dialog(self, output: InDialogRequest) -> None:
        request = output.request
        if request.method == "REFER":
            target = request.headers.get("Refer-To")
            if not target:
                self.respond(request, 400)
                return
            self._emit(TransferRequested(target, request))
        else:  # INFO, OPTIONS, NOTIFY, MESSAGE: acknowledged, not relayed yet
            self.respond(request, 200)

    def _on_answered_request(self, output: RequestAnswered) -> None:
        token = self._pending.pop(output.request.cseq.seq, None)
        if token is None:
            return
        response = output.response
        if response.is_success and response.body:
            self.remote_body = response.body
        self._emit(OfferAnswered(response.status, response.body, token))

    def _on_terminated(self, output: Terminated) -> None:
        message = output.message
        if self._retry_with_credentials(message):
            return
        status = message.status if isinstance(message, Response) else 0
        if not self.answered and status == 0:
            status = 487 if output.reason == "cancelled" else 408
        reason = output.reason
        if isinstance(message, Response) and output.by.value == "remote" and message.reason:
            reason = message.reason  # the far end's own words ("Busy Here") go on
        self.ended = True
        self.host.bind(self.session, None)
        self._emit(Release(status, reason, output.by.value == "remote"))
        # A terminated leg says nothing more. Its handler is a method of its
        # call, which holds the leg: dropping it breaks that cycle, so a call
        # and its legs are freed by reference counting as soon as the switch
        # lets go, not by the cyclic collector (whose pauses grow with load).
        self.on_event = _silent

    def _retry_with_credentials(self, message: Request | Response | None) -> bool:
        if (not isinstance(message, Response) or message.status not in (401, 407)
                or self.credentials is None or self._authenticated or self.ended):
            return False
        self._authenticated = True
        try:
            retry = authorize(self.session.invite, message, self.credentials.username,
                              self.credentials.password, cnonce=self.host.ids.tag(),
                              branch=self.host.ids.branch())
        except SipError as exc:
            log.warning("cannot answer the challenge of %s: %s", self.peer, exc.message)
            return False
        self.host.bind(self.session, None)
        self.session = self.host.endpoint.start_invite(retry, self.host.now(), self.destination)
        self.host.bind(self.session, self)
        return True


_OUTPUTS: dict[type, Callable[[Leg, Output], None]] = {
    Progress: Leg._on_progress,  # type: ignore[dict-item]
    Answered: Leg._on_answered,  # type: ignore[dict-item]
    Confirmed: Leg._on_confirmed,  # type: ignore[dict-item]
    Reinvited: Leg._on_reinvited,  # type: ignore[dict-item]
    Updated: Leg._on_reinvited,  # type: ignore[dict-item]
    InDialogRequest: Leg._on_in_dialog,  # type: ignore[dict-item]
    RequestAnswered: Leg._on_answered_request,  # type: ignore[dict-item]
    Terminated: Leg._on_terminated,  # type: ignore[dict-item]
}
