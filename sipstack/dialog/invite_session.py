"""The INVITE session (RFC 3261 §13, §14, §15; RFC 3311; RFC 6026).

One :class:`InviteSession` is the state an endpoint keeps for one call leg,
as UAC (:meth:`InviteSession.uac`, we sent the INVITE) or UAS
(:meth:`InviteSession.uas`, we received it). It sits on top of
:class:`~sipstack.dialog.dialog.Dialog` and knows nothing of transactions:
the endpoint feeds it requests and responses with ``now`` and carries out the
:class:`SendRequest`/:class:`SendResponse` orders it returns, and the
application reads the other outputs (see :mod:`sipstack.dialog.events`).

- §13.2.2.4 UAC: every 1xx with a new To tag makes an early dialog (forking);
  the first 2xx confirms its dialog and is ACKed here (a new request, sent
  again on each 2xx retransmission); a 2xx from another fork is ACKed, then
  that dialog gets a BYE.
- §13.3.1.4 UAS: our 2xx is resent at T1, 2T1 … T2 until the ACK arrives;
  after 64*T1 without one the session sends BYE and ends.
- §14.1/§14.2 re-INVITE and RFC 3311 UPDATE: an incoming offer while ours is
  pending gets 491; one while theirs is unanswered gets 500 with Retry-After;
  a 491 to ours is retried after :func:`~sipstack.dialog.rules.glare_delay`.
- §15 BYE from either side ends the session; later in-dialog requests get 481.
- §9.2 CANCEL (UAS): the session answers 200 to the CANCEL and, if the INVITE
  has no final response yet, 487 to the INVITE. The transaction layer matches
  the CANCEL to the INVITE; the session produces both responses.
- The session's timers: ``2xx`` (retransmission), ``ack`` (64*T1 give-up) and
  ``491`` (glare retry): :meth:`get_timer` / :meth:`handle_timer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sipstack.constants import T1
from sipstack.dialog.dialog import Dialog, ViaConfig
from sipstack.dialog.events import (
    By,
    Confirmed,
    InDialogRequest,
    Output,
    Reinvited,
    RequestAnswered,
    SendRequest,
    SendResponse,
    Terminated,
    Updated,
)
from sipstack.dialog.rules import (
    Fraction,
    Retransmit2xx,
    build_cancel,
    fraction_from_ids,
    glare_delay,
    initial_next_hop,
)
from sipstack.dialog.states import Role, SessionState
from sipstack.dialog.table import DialogTable
from sipstack.dialog.uac import initial_response
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.events import IdFactory
from sipstack.message import Request, Response, make_response

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Sent:
    """A request we sent in the dialog, with what is needed to send it again."""

    request: Request
    headers: Headers
    body: bytes


_OFFER_METHODS = ("INVITE", "UPDATE")


class InviteSession:
    """One call leg: an INVITE, its dialog(s) and what follows (module doc)."""

    def __init__(self, role: Role, invite: Request, *, ids: IdFactory, via: ViaConfig,
                 contact: str, local_tag: str, table: DialogTable[InviteSession] | None,
                 fraction: Fraction | None, t1: float) -> None:
        self.role = role
        self.invite = invite
        self.ids = ids
        self.via = via
        self.contact = contact
        self.local_tag = local_tag
        self.state = SessionState.CALLING if role is Role.UAC else SessionState.INCOMING
        self.dialog: Dialog | None = None
        self.early: dict[str, Dialog] = {}
        self._table = table
        self._fraction = fraction or fraction_from_ids(ids)
        self._t1 = t1
        # (remote tag, CSeq) -> the ACK of that 2xx, sent again on retransmissions.
        self._acks: dict[tuple[str, int], SendRequest] = {}
        self._sent: dict[int, _Sent] = {}
        self._out: dict[str, Request] = {"INVITE": invite} if role is Role.UAC else {}
        self._in: dict[str, Request] = {"INVITE": invite} if role is Role.UAS else {}
        self._retransmit: Retransmit2xx | None = None
        self._retry: tuple[float, _Sent] | None = None
        self._cancel = "none"  # none -> pending (no 1xx yet) -> sent
        self.provisional_seen = False

    @classmethod
    def uac(cls, invite: Request, *, ids: IdFactory, via: ViaConfig, contact: str,
            table: DialogTable[InviteSession] | None = None,
            fraction: Fraction | None = None, t1: float = T1) -> InviteSession:
        """The session of an INVITE we send (it must carry a From tag)."""
        tag = invite.from_.tag
        if invite.method != "INVITE" or tag is None:
            raise LocalProtocolError("a UAC session needs an INVITE with a From tag")
        return cls(Role.UAC, invite, ids=ids, via=via, contact=contact, local_tag=tag,
                   table=table, fraction=fraction, t1=t1)

    @classmethod
    def uas(cls, invite: Request, *, ids: IdFactory, via: ViaConfig, contact: str,
            table: DialogTable[InviteSession] | None = None,
            fraction: Fraction | None = None, t1: float = T1) -> InviteSession:
        """The session of an INVITE we received (out of dialog: no To tag)."""
        if invite.method != "INVITE" or invite.to.tag is not None:
            raise LocalProtocolError("a UAS session needs an initial INVITE")
        return cls(Role.UAS, invite, ids=ids, via=via, contact=contact,
                   local_tag=ids.tag(), table=table, fraction=fraction, t1=t1)

    @property
    def owns_call_id(self) -> bool:
        """§14.1: the UA that sent the dialog-creating INVITE owns the Call-ID."""
        return self.role is Role.UAC

    # -- timers --------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """The earliest deadline of the session, or None."""
        times = []
        if self._retransmit is not None:
            times += [self._retransmit.next_at, self._retransmit.give_up_at]
        if self._retry is not None:
            times.append(self._retry[0])
        return min(times) if times else None

    def handle_timer(self, now: float) -> list[Output]:
        out: list[Output] = []
        rt = self._retransmit
        if rt is not None and now >= rt.give_up_at:
            self._retransmit = None
            out += self._end_with_bye("no ACK for 2xx")
        elif rt is not None and now >= rt.next_at:
            self._retransmit = rt.after_send(now)
            out.append(SendResponse(rt.response, retransmission=True))
        if self._retry is not None and now >= self._retry[0]:
            sent = self._retry[1]
            self._retry = None
            if self.state is not SessionState.TERMINATED:
                out += self._send(sent.request.method, sent.headers, sent.body)
        return out

    # -- UAS: answering ------------------------------------------------------------

    def respond(self, request: Request, status: int, *, now: float,
                headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
                reason: str | None = None) -> list[Output]:
        """Answer a request of this session: the initial INVITE (UAS), a
        re-INVITE, an UPDATE or another in-dialog request."""
        method = request.method
        if method == "ACK" or self.state is SessionState.TERMINATED:
            raise LocalProtocolError(f"cannot answer {method} in {self.state.value}")
        if method == "INVITE" and self._in.get("INVITE") is not request:
            raise LocalProtocolError("that INVITE has no response pending")
        response = self._response(request, status, tuple(headers), body, reason)
        out: list[Output] = [SendResponse(response)]
        if request is self.invite:
            out += self._answered_initial(response, now)
        elif status >= 200:
            if method in _OFFER_METHODS and self._in.get(method) is request:
                del self._in[method]
            if method == "INVITE" and response.is_success:
                self._retransmit = Retransmit2xx.start(response, now, self._t1)
        return out

    def _response(self, request: Request, status: int, headers: Headers, body: bytes,
                  reason: str | None) -> Response:
        extra = list(headers)
        names = {n.lower() for n, _ in extra}
        if request.method in _OFFER_METHODS and 101 <= status < 300 \
                and "contact" not in names and "m" not in names:
            extra.append(("Contact", self.contact))
        if body and "content-type" not in names and "c" not in names:
            extra.append(("Content-Type", "application/sdp"))
        return make_response(request, status, reason, to_tag=self.local_tag,
                             headers=extra, body=body)

    def _answered_initial(self, response: Response, now: float) -> list[Output]:
        status = response.status
        if status == 100:
            return []
        if status < 300 and self.dialog is None:
            self.dialog = Dialog.from_uas(self.invite, response, via=self.via, ids=self.ids)
            self.dialog.local_contact = self.contact
            self._register(self.dialog)
        if status < 200:
            self.state = SessionState.EARLY
            return []
        del self._in["INVITE"]
        if status < 300:
            assert self.dialog is not None
            self.dialog.confirm()
            self.state = SessionState.CONNECTING
            self._retransmit = Retransmit2xx.start(response, now, self._t1)
            return []
        self._finish()
        return [Terminated(f"rejected with {status}", By.LOCAL, response)]

    # -- incoming requests -----------------------------------------------------------

    def receive_request(self, request: Request, now: float) -> list[Output]:
        """An in-dialog request for this session (or a CANCEL of its INVITE).

        Raises :class:`RemoteProtocolError` with status 481 once terminated
        (or for a fork we do not hold), 500 for an out-of-order CSeq.
        """
        method = request.method
        if method == "CANCEL":
            return self._receive_cancel(request)
        if self.state is SessionState.TERMINATED:
            if method == "ACK":
                return []
            raise RemoteProtocolError("session terminated", 481)
        dialog = self._dialog_of(request)
        dialog.receive_request(request)
        handler = _REQUEST_HANDLERS.get(method, InviteSession._on_other)
        return handler(self, request, now)

    def _dialog_of(self, request: Request) -> Dialog:
        remote = request.from_.tag or ""
        if self.dialog is not None and self.dialog.remote_tag == remote:
            return self.dialog
        dialog = self.early.get(remote)
        if dialog is None:
            hint = None if request.method == "ACK" else 481
            raise RemoteProtocolError("no such dialog in this session", hint)
        return dialog

    def _on_ack(self, ack: Request, now: float) -> list[Output]:
        rt = self._retransmit
        if rt is None or ack.cseq.seq != rt.seq:
            return []  # a retransmitted ACK, or one for a non-2xx: nothing to do
        self._retransmit = None
        if self.state is SessionState.CONNECTING:
            self.state = SessionState.CONFIRMED
        return [Confirmed(ack)]

    def _on_bye(self, bye: Request, now: float) -> list[Output]:
        out: list[Output] = [SendResponse(self._response(bye, 200, (), b"", None))]
        out += self._reject_pending_requests()
        self._finish()
        return [*out, Terminated("BYE", By.REMOTE, bye)]

    def _on_invite(self, request: Request, now: float) -> list[Output]:
        refusal = self._glare(request)
        if refusal:
            return refusal
        self._in["INVITE"] = request
        return [Reinvited(request)]

    def _on_update(self, request: Request, now: float) -> list[Output]:
        if request.body:
            refusal = self._glare(request)
            if refusal:
                return refusal
            self._in["UPDATE"] = request
        return [Updated(request)]

    def _on_other(self, request: Request, now: float) -> list[Output]:
        return [InDialogRequest(request)]

    def _glare(self, request: Request) -> list[Output]:
        """§14.2 / RFC 3311 §5.2: refuse an offer that crosses another one."""
        if any(self._carries_offer(r) for r in self._out.values()):
            return [SendResponse(self._response(request, 491, (), b"", None))]
        if request.method in self._in or any(r.body for r in self._in.values()):
            retry_after = (("Retry-After", str(int(self._fraction() * 10))),)
            return [SendResponse(self._response(request, 500, retry_after, b"", None))]
        return []

    @staticmethod
    def _carries_offer(request: Request) -> bool:
        return request.method == "INVITE" or bool(request.body)

    def _receive_cancel(self, cancel: Request) -> list[Output]:
        pending = self._in.get("INVITE")
        ok = make_response(cancel, 200, to_tag=self.local_tag)
        out: list[Output] = [SendResponse(ok)]
        if pending is None or self.role is Role.UAC:
            return out  # the final response went first: CANCEL has no effect
        del self._in["INVITE"]
        out.append(SendResponse(self._response(pending, 487, (), b"", None)))
        if pending is self.invite:
            self._finish()
            out.append(Terminated("cancelled", By.REMOTE, cancel))
        return out

    def _reject_pending_requests(self) -> list[Output]:
        """§15.1.2: requests still open when the dialog ends get 487."""
        out: list[Output] = [SendResponse(self._response(r, 487, (), b"", None))
                             for r in self._in.values()]
        self._in.clear()
        return out

    # -- outgoing requests -----------------------------------------------------------

    def reinvite(self, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
                 ) -> list[Output]:
        """Send a re-INVITE (hold, unhold, new media) in the confirmed dialog."""
        if self.state not in (SessionState.CONFIRMED, SessionState.CONNECTING):
            raise LocalProtocolError(f"re-INVITE in {self.state.value}")
        self._check_no_offer_pending()
        return self._send("INVITE", tuple(headers), body)

    def update(self, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
               ) -> list[Output]:
        """Send an UPDATE (RFC 3311), in an early or confirmed dialog."""
        if self.state is SessionState.TERMINATED or self._main_dialog() is None:
            raise LocalProtocolError(f"UPDATE in {self.state.value}")
        if body:
            self._check_no_offer_pending()
        return self._send("UPDATE", tuple(headers), body)

    def request(self, method: str, headers: Iterable[tuple[str, str]] = (),
                body: bytes = b"") -> list[Output]:
        """Send another in-dialog request (INFO, REFER, OPTIONS, MESSAGE …)."""
        method = method.upper()
        if method in ("INVITE", "UPDATE", "BYE", "ACK", "CANCEL", "PRACK"):
            raise LocalProtocolError(f"use the session's own call for {method}")
        if self.state is SessionState.TERMINATED or self._main_dialog() is None:
            raise LocalProtocolError(f"{method} in {self.state.value}")
        return self._send(method, tuple(headers), body)

    def bye(self, headers: Iterable[tuple[str, str]] = ()) -> list[Output]:
        """End a confirmed session (§15.1.1); the session is Terminated at once."""
        if self.state not in (SessionState.CONFIRMED, SessionState.CONNECTING):
            raise LocalProtocolError(f"BYE in {self.state.value}: cancel or reject")
        return self._end_with_bye("BYE", tuple(headers))

    def cancel(self) -> list[Output]:
        """UAC: CANCEL the INVITE (§9.1); held back until a 1xx has arrived."""
        if self.role is not Role.UAC or self.state not in (SessionState.CALLING,
                                                           SessionState.EARLY):
            raise LocalProtocolError(f"CANCEL in {self.state.value}")
        if self._cancel != "none":
            return []
        if not self.provisional_seen:
            self._cancel = "pending"
            return []
        return self._send_cancel()

    def _send_cancel(self) -> list[Output]:
        self._cancel = "sent"
        return [SendRequest(build_cancel(self.invite), initial_next_hop(self.invite))]

    def ack(self, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
            ) -> list[Output]:
        """UAC: the ACK (with the answer) for a 2xx that carried the offer."""
        dialog = self._main_dialog()
        if dialog is None or self.role is not Role.UAC or dialog.invite_seq is None:
            raise LocalProtocolError("no 2xx to acknowledge")
        key = (dialog.remote_tag, dialog.invite_seq)
        if key in self._acks:
            raise LocalProtocolError("that 2xx is already acknowledged")
        return [self._send_ack(dialog, dialog.invite_seq, tuple(headers), body)]

    def _send(self, method: str, headers: Headers, body: bytes) -> list[Output]:
        dialog = self._main_dialog()
        assert dialog is not None
        request = dialog.create_request(method, headers, body)
        sent = _Sent(request, headers, body)
        self._sent[request.cseq.seq] = sent
        if method in _OFFER_METHODS:
            self._out[method] = request
        return [SendRequest(request, dialog.next_hop())]

    def _send_ack(self, dialog: Dialog, seq: int, headers: Headers = (),
                  body: bytes = b"") -> SendRequest:
        order = SendRequest(dialog.create_request("ACK", headers, body, cseq=seq),
                            dialog.next_hop())
        self._acks[(dialog.remote_tag, seq)] = order
        return order

    def _end_with_bye(self, reason: str, headers: Headers = ()) -> list[Output]:
        dialog = self._main_dialog()
        assert dialog is not None
        out = self._reject_pending_requests()
        bye = dialog.create_request("BYE", headers)
        self._finish()
        return [*out, SendRequest(bye, dialog.next_hop()), Terminated(reason, By.LOCAL, bye)]

    def _check_no_offer_pending(self) -> None:
        if self._out or self._in or self._retry is not None:
            raise LocalProtocolError("an offer/answer exchange is still pending")

    def _main_dialog(self) -> Dialog | None:
        return self.dialog

    # -- responses -------------------------------------------------------------------

    def receive_response(self, response: Response, now: float) -> list[Output]:
        """A response to a request this session sent (the INVITE included)."""
        method, seq = response.cseq.method, response.cseq.seq
        if method == "INVITE" and response.is_success:
            ack = self._acks.get((response.to.tag or "", seq))
            if ack is not None:  # a 2xx retransmission: the same ACK again
                return [ack]
        if self.role is Role.UAC and method == "INVITE" and seq == self.invite.cseq.seq:
            return initial_response(self, response)
        sent = self._sent.get(seq)
        if sent is None or response.status < 200 or sent.request.method != method:
            return []
        return self._final_to_sent(sent, response, now)

    def _final_to_sent(self, sent: _Sent, response: Response, now: float) -> list[Output]:
        request = sent.request
        del self._sent[request.cseq.seq]
        if self._out.get(request.method) is request:
            del self._out[request.method]
        if self.state is SessionState.TERMINATED:
            return []
        dialog = self._main_dialog()
        assert dialog is not None
        status = response.status
        if status == 491:
            delay = glare_delay(self.owns_call_id, self._fraction())
            self._retry = (now + delay, sent)
            return []
        if status == 481:
            self._finish()
            return [Terminated("481 in dialog", By.REMOTE, response)]
        if status == 408:
            return self._end_with_bye("408 in dialog")
        dialog.receive_response(request, response)
        out: list[Output] = []
        if request.method == "INVITE" and response.is_success:
            out.append(self._send_ack(dialog, request.cseq.seq))
        return [*out, RequestAnswered(request, response)]

    # -- bookkeeping -------------------------------------------------------------------

    def _register(self, dialog: Dialog) -> None:
        if self._table is not None:
            self._table.add(dialog.id, self)

    def _unregister(self, dialog: Dialog) -> None:
        if self._table is not None:
            self._table.remove(dialog.id)

    def _finish(self) -> None:
        """Enter Terminated: every dialog ends, every timer stops."""
        self.state = SessionState.TERMINATED
        self._retransmit = None
        self._retry = None
        for dialog in [*self.early.values(), *([self.dialog] if self.dialog else [])]:
            dialog.terminate()
            self._unregister(dialog)
        self.early.clear()

    def __repr__(self) -> str:
        return f"<InviteSession {self.role.value} {self.state.value} {self.invite.call_id}>"


_REQUEST_HANDLERS: dict[str, Callable[[InviteSession, Request, float], list[Output]]] = {
    "ACK": InviteSession._on_ack,
    "BYE": InviteSession._on_bye,
    "INVITE": InviteSession._on_invite,
    "UPDATE": InviteSession._on_update,
}
