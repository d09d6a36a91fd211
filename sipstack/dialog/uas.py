"""UAS processing of our own responses to the initial INVITE (RFC 3261 §13.3.1).

- 100 Trying: no dialog (it carries no To tag).
- 101-199: the first one with our tag creates the early dialog (§12.1.1).
- 2xx: the dialog is confirmed; the 2xx is retransmitted by the session
  until the ACK arrives (§13.3.1.4), the session is Connecting meanwhile.
- 3xx-6xx: the session ends (the transaction layer absorbs the ACK).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipstack.dialog.dialog import Dialog
from sipstack.dialog.events import By, Output, Terminated
from sipstack.dialog.rules import Retransmission
from sipstack.dialog.states import SessionState
from sipstack.message import Response

if TYPE_CHECKING:
    from sipstack.dialog.invite_session import InviteSession


def answered_initial(session: InviteSession, response: Response, now: float) -> list[Output]:
    """Update the session after ``response`` to its initial INVITE was sent."""
    status = response.status
    if status == 100:
        return []
    if status < 300 and session.dialog is None:
        dialog = Dialog.from_uas(session.invite, response, via=session.via, ids=session.ids)
        dialog.local_contact = session.contact
        session.dialog = dialog
        session._register(dialog)
    if status < 200:
        session.state = SessionState.EARLY
        return []
    del session._in["INVITE"]
    if status >= 300:
        session._finish()
        return [Terminated(f"rejected with {status}", By.LOCAL, response)]
    assert session.dialog is not None
    session.dialog.confirm()
    session.state = SessionState.CONNECTING
    session._retransmit = Retransmission.start(response, now, session._t1)
    return []
