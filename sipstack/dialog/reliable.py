"""Reliable provisional responses, UAS side (RFC 3262 §3).

- A non-100 provisional response to the initial INVITE is sent reliably when
  the INVITE has ``Require: 100rel``, or when the application asks for it and
  the INVITE has ``Supported: 100rel``: it carries ``Require: 100rel`` and an
  ``RSeq`` (the first drawn in 1 .. 2**31-1, then one more each time).
- It is resent at T1, 2T1, 4T1 … (no T2 cap) until a PRACK whose RAck names
  it arrives; that PRACK gets 200. After 64*T1 without one, the INVITE is
  rejected with 500. Only one reliable response may be unacknowledged.
- A PRACK that matches nothing gets 481; a final response to the INVITE ends
  the retransmissions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipstack.dialog.events import Output, SendResponse
from sipstack.errors import LocalProtocolError
from sipstack.message import Request

if TYPE_CHECKING:
    from sipstack.dialog.invite_session import InviteSession

_RSEQ_SPACE = 2**31 - 2


def _tags(request: Request, name: str) -> set[str]:
    return {tag.strip().lower() for tag in request.headers.get_all(name)}


def wants_reliable(invite: Request, asked: bool) -> bool:
    """Whether a provisional response to ``invite`` must (or may, if
    ``asked``) be sent reliably."""
    if "100rel" in _tags(invite, "Require"):
        return True
    return asked and "100rel" in _tags(invite, "Supported")


def reliable_headers(session: InviteSession) -> tuple[tuple[str, str], ...]:
    """Require and RSeq for the next reliable provisional response."""
    if session._reliable is not None:
        raise LocalProtocolError("a reliable provisional response awaits its PRACK")
    last = session._rseq_out
    rseq = int(session._fraction() * _RSEQ_SPACE) + 1 if last is None else last + 1
    session._rseq_out = rseq
    return (("Require", "100rel"), ("RSeq", str(rseq)))


def on_prack(session: InviteSession, prack: Request) -> list[Output]:
    """A PRACK: 200 when its RAck names our unacknowledged response, else 481."""
    pending = session._reliable
    rack = (prack.headers.get("RAck") or "").split()
    if pending is not None and len(rack) == 3 and rack[2].upper() == "INVITE" \
            and rack[0] == (pending.response.headers.get("RSeq") or "").strip() \
            and rack[1] == str(pending.seq):
        session._reliable = None
        return [SendResponse(session._response(prack, 200))]
    return [SendResponse(session._response(prack, 481))]


def reliable_fired(session: InviteSession, now: float) -> list[Output]:
    """Resend the unacknowledged reliable response, or give up with 500."""
    pending = session._reliable
    if pending is None:
        return []
    if now >= pending.give_up_at:
        session._reliable = None
        return session.respond(session.invite, 500, now=now, reason="No PRACK")
    session._reliable = pending.after_send(now, t2=float("inf"))
    return [SendResponse(pending.response, retransmission=True)]
