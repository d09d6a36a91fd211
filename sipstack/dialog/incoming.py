"""Requests an INVITE session receives (RFC 3261 §12.2.2, §13.3, §14.2, §15.1.2,
§9.2; RFC 3311 §5.2).

- ACK: stops the retransmission of our 2xx (§13.3.1.4); the first one
  confirms the session.
- BYE: answered 200; requests still open get 487 (§15.1.2); the session ends.
- re-INVITE / UPDATE: refused with 491 when it crosses an offer or INVITE of
  ours, with 500 and Retry-After (0-10 s) when an offer or INVITE of theirs
  is still unanswered (§14.2, RFC 3311 §5.2); otherwise the application gets
  :class:`Reinvited` / :class:`Updated` and answers with ``respond``.
- CANCEL: answered 200; a pending INVITE gets 487 (§9.2). A cancelled
  initial INVITE ends the session.
- PRACK: see :mod:`sipstack.dialog.reliable` (200 or 481, answered here).
- Anything else: :class:`InDialogRequest` for the application.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sipstack.dialog.dialog import Dialog
from sipstack.dialog.events import (
    By,
    Confirmed,
    InDialogRequest,
    Output,
    Reinvited,
    SendResponse,
    Terminated,
    Updated,
)
from sipstack.dialog.reliable import on_prack
from sipstack.dialog.session_timer import too_small
from sipstack.dialog.states import Role, SessionState
from sipstack.errors import RemoteProtocolError
from sipstack.message import Request, make_response

if TYPE_CHECKING:
    from sipstack.dialog.invite_session import InviteSession

Handler = Callable[["InviteSession", Request], list[Output]]


def receive_request(session: InviteSession, request: Request) -> list[Output]:
    """Dispatch one request; raises RemoteProtocolError (481, 500) as the
    dialog rules demand."""
    method = request.method
    if method == "CANCEL":
        return _on_cancel(session, request)
    if session.state is SessionState.TERMINATED:
        if method == "ACK":
            return []
        raise RemoteProtocolError("session terminated", 481)
    dialog = _dialog_of(session, request)
    dialog.receive_request(request)
    return _HANDLERS.get(method, _on_other)(session, request)


def _dialog_of(session: InviteSession, request: Request) -> Dialog:
    remote = request.from_.tag or ""
    if session.dialog is not None and session.dialog.remote_tag == remote:
        return session.dialog
    dialog = session.early.get(remote)
    if dialog is None:
        hint = None if request.method == "ACK" else 481
        raise RemoteProtocolError("no such dialog in this session", hint)
    return dialog


def _on_ack(session: InviteSession, ack: Request) -> list[Output]:
    pending = session._retransmit
    if pending is None or ack.cseq.seq != pending.seq:
        return []  # a retransmitted ACK: nothing more to do
    session._retransmit = None
    session.offer.ack()
    if session.state is SessionState.CONNECTING:
        session.state = SessionState.CONFIRMED
    return [Confirmed(ack)]


def _on_bye(session: InviteSession, bye: Request) -> list[Output]:
    out: list[Output] = [SendResponse(session._response(bye, 200))]
    out += reject_pending(session)
    session._finish()
    return [*out, Terminated("BYE", By.REMOTE, bye)]


def _on_invite(session: InviteSession, request: Request) -> list[Output]:
    refusal = _glare(session, request)
    if refusal:
        return refusal
    session._in["INVITE"] = request
    session.offer.request(request, By.REMOTE)
    return [Reinvited(request)]


def _on_update(session: InviteSession, request: Request) -> list[Output]:
    refusal = _glare(session, request) if request.body else _too_small(session, request)
    if refusal:
        return refusal
    session.offer.request(request, By.REMOTE)
    session._in["UPDATE"] = request
    return [Updated(request)]


def _on_other(session: InviteSession, request: Request) -> list[Output]:
    return [InDialogRequest(request)]


def _glare(session: InviteSession, request: Request) -> list[Output]:
    """§14.2 and RFC 3311 §5.2: refuse an offer that crosses another one
    (and RFC 4028 §9: a session interval below our minimum gets 422)."""
    small = _too_small(session, request)
    if small:
        return small
    is_invite = request.method == "INVITE"
    if session.offer.pending is By.LOCAL or (is_invite and "INVITE" in session._out):
        return [SendResponse(session._response(request, 491))]
    if session.offer.pending is By.REMOTE or (is_invite and "INVITE" in session._in):
        seconds = int(session._fraction() * 10)
        retry_after = (("Retry-After", str(seconds)),)
        return [SendResponse(session._response(request, 500, retry_after))]
    return []


def _too_small(session: InviteSession, request: Request) -> list[Output]:
    if session.timer_config is None:
        return []
    small = too_small(request, session.timer_config, session.local_tag)
    return [] if small is None else [SendResponse(small)]


def _on_cancel(session: InviteSession, cancel: Request) -> list[Output]:
    out: list[Output] = [SendResponse(make_response(cancel, 200, to_tag=session.local_tag))]
    pending = session._in.get("INVITE")
    if pending is None or session.role is Role.UAC or session.state is SessionState.TERMINATED:
        return out  # the final response went first: the CANCEL changes nothing
    del session._in["INVITE"]
    response = session._response(pending, 487)
    session.offer.response(pending, response, By.REMOTE)
    out.append(SendResponse(response))
    if pending is session.invite:
        session._finish()
        out.append(Terminated("cancelled", By.REMOTE, cancel))
    return out


def reject_pending(session: InviteSession) -> list[Output]:
    """§15.1.2: requests still unanswered when the dialog ends get 487."""
    out: list[Output] = [SendResponse(session._response(r, 487)) for r in session._in.values()]
    session._in.clear()
    return out


_HANDLERS: dict[str, Handler] = {
    "ACK": _on_ack,
    "BYE": _on_bye,
    "INVITE": _on_invite,
    "UPDATE": _on_update,
    "PRACK": on_prack,
}
