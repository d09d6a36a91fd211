"""Final responses to requests an INVITE session sent in its dialog
(RFC 3261 §12.2.1.2, §13.2.2.4, §14.1; RFC 4028 §7).

- 2xx: target refresh (and, to a re-INVITE, the ACK: at once, or by the
  application when the 2xx carries an offer); a running session timer takes
  the interval the 2xx grants.
- 491: the request is sent again after the §14.1 interval.
- 481 ends the session; 408 ends it with a BYE (§12.2.1.2).
- 422 (RFC 4028): the request again with the interval the Min-SE names.
- Responses to PRACK and anything after the session ended: absorbed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipstack.dialog.dialog import Dialog
from sipstack.dialog.events import By, Output, RequestAnswered, Terminated
from sipstack.dialog.rules import Sent, glare_delay
from sipstack.dialog.session_timer import negotiated_as_uac, retry_headers
from sipstack.dialog.states import SessionState
from sipstack.message import Request, Response

if TYPE_CHECKING:
    from sipstack.dialog.invite_session import InviteSession

OFFER_METHODS = ("INVITE", "UPDATE")


def final_to_sent(session: InviteSession, sent: Sent, response: Response,
                  now: float) -> list[Output]:
    """The final response to a request sent in the dialog (not the initial INVITE)."""
    request = sent.request
    del session._sent[request.cseq.seq]
    if session._out.get(request.method) is request:
        del session._out[request.method]
    session.offer.response(request, response, By.LOCAL)
    if session.state is SessionState.TERMINATED or request.method == "PRACK":
        return []
    status = response.status
    if status == 491:
        session._retry = (now + glare_delay(session.owns_call_id, session._fraction()), sent)
        return []
    if status == 481:
        session._finish()
        return [Terminated("481 in dialog", By.REMOTE, response)]
    if status == 408:
        return session._end_with_bye("408 in dialog")
    if status == 422 and session.timer_config is not None:
        return session._send(request.method, retry_headers(sent.headers, response), sent.body)
    assert session.dialog is not None
    session.dialog.receive_response(request, response)
    if response.is_success:
        after_2xx(session, request, response, now)
    out: list[Output] = []
    if request.method == "INVITE" and response.is_success:
        out += ack_or_wait(session, session.dialog, request, response)
    return [*out, RequestAnswered(request, response)]


def after_2xx(session: InviteSession, request: Request, response: Response, now: float) -> None:
    """A 2xx to our INVITE or UPDATE: note the peer's Allow, set the timer."""
    if request.method in OFFER_METHODS:
        session.peer_message = response
        if session.timer_config is not None:
            session._set_timer(negotiated_as_uac(response), now)


def ack_or_wait(session: InviteSession, dialog: Dialog, request: Request,
                response: Response) -> list[Output]:
    """ACK a 2xx at once unless it holds an offer the application answers."""
    if response.body and not request.body:
        session._unacked = (dialog, request)
        return []
    return [session._send_ack(dialog, request)]


def retry_refused(session: InviteSession, now: float, sent: Sent) -> list[Output]:
    """§14.1: send again what got 491, unless another exchange has opened
    meanwhile (then wait one more interval)."""
    session._retry = None
    if session.state is SessionState.TERMINATED:
        return []
    if session.busy():
        session._retry = (now + glare_delay(session.owns_call_id, session._fraction()), sent)
        return []
    return session._send(sent.request.method, sent.headers, sent.body)
