"""UAC processing of the responses to our INVITE (RFC 3261 §13.2.2).

- §13.2.2.1 a 1xx with a To tag creates (or refreshes) an early dialog; each
  new tag is another fork. A CANCEL held back for want of a provisional
  response goes out now (§9.1).
- §13.2.2.4 the first 2xx confirms its dialog (route set recomputed from the
  2xx) and is ACKed at once, unless it carries the offer, in which case the
  application sends the ACK with the answer. The other early dialogs end. A
  2xx from another fork gets an ACK and then a BYE; a 2xx to an INVITE we
  had cancelled gets ACK and BYE too (§9.1).
- RFC 3262 §4: a reliable provisional response (Require: 100rel, RSeq) is
  acknowledged with a PRACK in its early dialog; one whose RSeq is not one
  above the last of that dialog is a retransmission or out of order and is
  not processed. (The PRACK carries no body: an offer in a reliable 1xx,
  after an INVITE without one, is not supported.)
- §13.2.2.3 a 3xx-6xx ends the session and every early dialog (the
  transaction layer sends that ACK).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipstack.dialog.dialog import Dialog, DialogState
from sipstack.dialog.events import Answered, By, Output, Progress, SendRequest, Terminated
from sipstack.dialog.responses import ack_or_wait, after_2xx
from sipstack.dialog.rules import Sent, build_cancel, initial_next_hop
from sipstack.dialog.session_timer import retry_headers
from sipstack.dialog.states import Role, SessionState
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.headers import Via
from sipstack.message import Request, Response

if TYPE_CHECKING:
    from sipstack.dialog.invite_session import InviteSession

_BEFORE_FINAL = (SessionState.CALLING, SessionState.EARLY)


def cancel(session: InviteSession) -> list[Output]:
    """§9.1: CANCEL our INVITE, once a provisional response has arrived."""
    if session.role is not Role.UAC or session.state not in _BEFORE_FINAL:
        raise LocalProtocolError(f"CANCEL in {session.state.value}")
    if session._cancel != "none":
        return []
    if not session.provisional_seen:
        session._cancel = "pending"
        return []
    return _send_cancel(session)


def _send_cancel(session: InviteSession) -> list[Output]:
    session._cancel = "sent"
    invite = session.invite
    return [SendRequest(build_cancel(invite), initial_next_hop(invite))]


def initial_response(session: InviteSession, response: Response, now: float) -> list[Output]:
    """Process a response to the session's initial INVITE (not a 2xx already ACKed)."""
    status = response.status
    if status == 100:
        # §9.1: any provisional response, 100 Trying included, allows a CANCEL.
        session.provisional_seen = True
        return _send_cancel(session) if session._cancel == "pending" else []
    session.offer.response(session.invite, response, By.LOCAL)
    if status < 200:
        if session.state not in _BEFORE_FINAL:
            return []  # a late provisional response: nothing left to learn
        return _provisional(session, response)
    if status < 300:
        return _success(session, response, now)
    if session.state not in _BEFORE_FINAL:
        return []  # after a 2xx, another fork's failure changes nothing
    if status == 422 and session.timer_config is not None and not session.early:
        return _retry_422(session, response)
    return _failure(session, response)


def _new_dialog(session: InviteSession, response: Response) -> Dialog:
    dialog = Dialog.from_uac(session.invite, response, via=session.via, ids=session.ids)
    dialog.local_contact = session.contact
    return dialog


def _provisional(session: InviteSession, response: Response) -> list[Output]:
    tag = response.to.tag
    rseq = _reliable_rseq(response)
    if rseq is not None and tag:
        last = session._rseq.get(tag)
        if last is not None and rseq != last + 1:
            return []  # RFC 3262 §4: a retransmission, or out of order: not processed
        session._rseq[tag] = rseq
    session.provisional_seen = True
    if tag:
        dialog = session.early.get(tag)
        if dialog is None:
            dialog = session.early[tag] = _new_dialog(session, response)
            session._register(dialog)
        else:
            dialog.receive_response(session.invite, response)
        # The latest early dialog is the one an early UPDATE goes to.
        session.dialog = dialog
        session.state = SessionState.EARLY
    out: list[Output] = []
    if rseq is not None and tag:
        out.append(_prack(session, rseq, response))
    if session._cancel == "pending":
        out += _send_cancel(session)
    return [*out, Progress(response)]


def _prack(session: InviteSession, rseq: int, response: Response) -> SendRequest:
    dialog = session.dialog
    assert dialog is not None
    rack = f"{rseq} {response.cseq.seq} {response.cseq.method}"
    prack = dialog.create_request("PRACK", [("RAck", rack)])
    session._sent[prack.cseq.seq] = Sent(prack, (), b"")
    return SendRequest(prack, dialog.next_hop())


def _reliable_rseq(response: Response) -> int | None:
    """The RSeq of a reliable provisional response (RFC 3262 §3), else None."""
    required = {tag.strip().lower() for tag in response.headers.get_all("Require")}
    if "100rel" not in required:
        return None
    try:
        return response.header_int("RSeq")
    except RemoteProtocolError:
        return None


def _success(session: InviteSession, response: Response, now: float) -> list[Output]:
    tag = response.to.tag or ""
    current = session.dialog
    if current is not None and current.remote_tag == tag and session.state not in _BEFORE_FINAL:
        return []  # a retransmission of the 2xx whose ACK the application owes
    if session.state not in _BEFORE_FINAL or (
            current is not None and current.state is DialogState.CONFIRMED
            and current.remote_tag != tag):
        return _extra_fork(session, response)
    dialog = session.early.pop(tag, None)
    if dialog is None:
        dialog = _new_dialog(session, response)
        session._register(dialog)
    else:
        dialog.receive_response(session.invite, response)
    for other in session.early.values():
        other.terminate()
        session._unregister(other)
    session.early.clear()
    session.dialog = dialog
    session.state = SessionState.CONFIRMED
    session._out.pop("INVITE", None)
    after_2xx(session, session.invite, response, now)
    if session._cancel != "none":
        ack = session._send_ack(dialog, session.invite)
        return [ack, *session._end_with_bye("answered after CANCEL")]
    sent = ack_or_wait(session, dialog, session.invite, response)
    first = sent[0] if sent else None
    acked = first.request if isinstance(first, SendRequest) else None
    return [*sent, Answered(response, acked)]


def _extra_fork(session: InviteSession, response: Response) -> list[Output]:
    """§13.2.2.4: a 2xx from a fork we did not pick: ACK it, then BYE."""
    dialog = _new_dialog(session, response)
    ack = session._send_ack(dialog, session.invite)
    bye = dialog.create_request("BYE")
    dialog.terminate()
    return [ack, SendRequest(bye, dialog.next_hop())]


def _retry_422(session: InviteSession, response: Response) -> list[Output]:
    """RFC 4028 §7.4: the INVITE again, asking for the interval of the 422's
    Min-SE (a new transaction: next CSeq, new branch)."""
    old = session.invite
    top = Via.parse(old.headers.get_all("Via")[0]).with_params(branch=session.ids.branch())
    fields = [(n, v) for n, v in old.headers if n not in ("Via", "CSeq")]
    fields = list(retry_headers(tuple(fields), response))
    invite = Request.build("INVITE", old.uri, [
        ("Via", str(top)), ("CSeq", f"{old.cseq.seq + 1} INVITE"), *fields], old.body)
    session.invite = invite
    session._out["INVITE"] = invite
    return [SendRequest(invite, initial_next_hop(invite))]


def _failure(session: InviteSession, response: Response) -> list[Output]:
    session._out.pop("INVITE", None)
    session._finish()
    if session._cancel == "sent" and response.status == 487:
        return [Terminated("cancelled", By.LOCAL, response)]
    return [Terminated(f"rejected with {response.status}", By.REMOTE, response)]
