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

from collections.abc import Iterable

from sipstack.constants import T1
from sipstack.dialog.dialog import Dialog, ViaConfig
from sipstack.dialog.events import (
    By,
    Output,
    SendRequest,
    SendResponse,
    Terminated,
)
from sipstack.dialog.incoming import receive_request, reject_pending
from sipstack.dialog.offer import OfferAnswer
from sipstack.dialog.reliable import reliable_fired, reliable_headers, wants_reliable
from sipstack.dialog.responses import final_to_sent, retry_refused
from sipstack.dialog.rules import (
    Fraction,
    Headers,
    Retransmission,
    Sent,
    fraction_from_ids,
)
from sipstack.dialog.session_timer import (
    Negotiated,
    TimerConfig,
    session_timer_fired,
    timer_in_request,
    timer_in_response,
)
from sipstack.dialog.states import Role, SessionState
from sipstack.dialog.table import DialogTable
from sipstack.dialog.uac import cancel, initial_response
from sipstack.dialog.uas import answered_initial
from sipstack.errors import LocalProtocolError
from sipstack.events import IdFactory
from sipstack.message import Request, Response, make_response

_OFFER_METHODS = ("INVITE", "UPDATE")
_CREDENTIALS = ("Authorization", "Proxy-Authorization")
_OWN_CALLS = frozenset({"INVITE", "UPDATE", "BYE", "ACK", "CANCEL", "PRACK"})


class InviteSession:
    """One call leg: an INVITE, its dialog(s) and what follows (module doc).

    Build with :meth:`uac` or :meth:`uas`. ``contact`` is our Contact value
    (for 1xx/2xx, re-INVITE and UPDATE); ``table``, when given, gets every
    dialog of the session registered while it lives; ``fraction`` is the
    [0, 1) source of the §14.1 retry delays (default: drawn from ``ids``).
    """

    def __init__(self, role: Role, invite: Request, *, ids: IdFactory, via: ViaConfig,
                 contact: str, local_tag: str, table: DialogTable[InviteSession] | None,
                 fraction: Fraction | None, t1: float,
                 session_timer: TimerConfig | None = None) -> None:
        self.role = role
        self.invite = invite
        self.ids = ids
        self.via = via
        self.contact = contact
        self.local_tag = local_tag
        self.state = SessionState.CALLING if role is Role.UAC else SessionState.INCOMING
        self.dialog: Dialog | None = None
        self.early: dict[str, Dialog] = {}
        self.offer = OfferAnswer()
        self.provisional_seen = False
        self._table = table
        self._fraction = fraction or fraction_from_ids(ids)
        self._t1 = t1
        # (remote tag, CSeq) -> the ACK of that 2xx, sent again on retransmissions.
        self._acks: dict[tuple[str, int], SendRequest] = {}
        self._unacked: tuple[Dialog, Request] | None = None  # (dialog, INVITE) awaiting ack()
        self._sent: dict[int, Sent] = {}
        self._out: dict[str, Request] = {}  # our INVITE/UPDATE awaiting a final response
        self._in: dict[str, Request] = {}  # theirs awaiting ours
        self._retransmit: Retransmission | None = None
        self._retry: tuple[float, Sent] | None = None
        self._cancel = "none"  # none -> pending (no 1xx yet) -> sent
        # RFC 4028; local_body: a refresh re-INVITE repeats it; peer_message: its Allow.
        self.timer_config = session_timer
        self.timer: Negotiated | None = None
        self._timer_at: float | None = None
        self.local_body = invite.body if role is Role.UAC else b""
        self.peer_message: Request | Response | None = invite if role is Role.UAS else None
        self._rseq: dict[str, int] = {}  # remote tag -> last RSeq PRACKed (RFC 3262)
        self._rseq_out: int | None = None  # our last RSeq, and the response awaiting PRACK
        self._reliable: Retransmission | None = None
        side = By.LOCAL if role is Role.UAC else By.REMOTE
        (self._out if role is Role.UAC else self._in)["INVITE"] = invite
        self.offer.request(invite, side)

    @classmethod
    def uac(cls, invite: Request, *, ids: IdFactory, via: ViaConfig, contact: str,
            table: DialogTable[InviteSession] | None = None,
            fraction: Fraction | None = None, t1: float = T1,
            session_timer: TimerConfig | None = None) -> InviteSession:
        """The session of an INVITE we send (it must carry a From tag)."""
        tag = invite.from_.tag
        if invite.method != "INVITE" or tag is None:
            raise LocalProtocolError("a UAC session needs an INVITE with a From tag")
        return cls(Role.UAC, invite, ids=ids, via=via, contact=contact, local_tag=tag,
                   table=table, fraction=fraction, t1=t1, session_timer=session_timer)

    @classmethod
    def uas(cls, invite: Request, *, ids: IdFactory, via: ViaConfig, contact: str,
            table: DialogTable[InviteSession] | None = None,
            fraction: Fraction | None = None, t1: float = T1,
            session_timer: TimerConfig | None = None) -> InviteSession:
        """The session of an INVITE we received (out of dialog: no To tag)."""
        if invite.method != "INVITE" or invite.to.tag is not None:
            raise LocalProtocolError("a UAS session needs an initial INVITE")
        # §8.1.1.8 requires Contact, but RFC 2543 peers omit it (RFC 4475
        # §3.4.1): the dialog then targets the From URI.
        return cls(Role.UAS, invite, ids=ids, via=via, contact=contact,
                   local_tag=ids.tag(), table=table, fraction=fraction, t1=t1,
                   session_timer=session_timer)

    @property
    def owns_call_id(self) -> bool:
        """§14.1: the UA that sent the dialog-creating INVITE owns the Call-ID."""
        return self.role is Role.UAC

    # -- timers --------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """The earliest deadline of the session, or None."""
        times = []
        for pending in (self._retransmit, self._reliable):
            if pending is not None:
                times += [pending.next_at, pending.give_up_at]
        if self._retry is not None:
            times.append(self._retry[0])
        if self._timer_at is not None:
            times.append(self._timer_at)
        return min(times) if times else None

    def handle_timer(self, now: float) -> list[Output]:
        """Fire what is due: a 2xx retransmission, the 64*T1 give-up (BYE),
        the retry of a request that got 491."""
        out: list[Output] = []
        pending = self._retransmit
        if pending is not None and now >= pending.give_up_at:
            self._retransmit = None
            out += self._end_with_bye("no ACK for 2xx")
        elif pending is not None and now >= pending.next_at:
            self._retransmit = pending.after_send(now)
            out.append(SendResponse(pending.response, retransmission=True))
        reliable = self._reliable
        if reliable is not None and now >= min(reliable.next_at, reliable.give_up_at):
            out += reliable_fired(self, now)
        if self._retry is not None and now >= self._retry[0]:
            out += retry_refused(self, now, self._retry[1])
        if self._timer_at is not None and now >= self._timer_at:
            self._timer_at = None
            out += session_timer_fired(self, now)
        return out

    def busy(self) -> bool:
        """Whether an offer or an INVITE transaction is still open."""
        return self.offer.pending is not None or "INVITE" in self._out or "INVITE" in self._in

    def _set_timer(self, timer: Negotiated | None, now: float) -> None:
        self.timer = timer
        self._timer_at = None if timer is None else timer.deadline(now)

    # -- answering -------------------------------------------------------------------

    def respond(self, request: Request, status: int, *, now: float,
                headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
                reason: str | None = None, reliable: bool = False) -> list[Output]:
        """Answer a request of this session: the initial INVITE (UAS), a
        re-INVITE, an UPDATE or another in-dialog request. A 2xx to an
        INVITE is retransmitted by the session until its ACK arrives; a
        provisional response to the initial INVITE is sent reliably (RFC
        3262) when the INVITE requires it, or when ``reliable`` and the
        INVITE supports it."""
        method = request.method
        if method == "ACK" or self.state is SessionState.TERMINATED:
            raise LocalProtocolError(f"cannot answer {method} in {self.state.value}")
        if method in _OFFER_METHODS and self._in.get(method) is not request:
            raise LocalProtocolError(f"that {method} has no response pending")
        extra = tuple(headers)
        initial = request is self.invite
        reliably = initial and 101 <= status < 200 and wants_reliable(request, reliable)
        if reliably:
            extra += reliable_headers(self)
        timer, timer_headers = timer_in_response(self, request, status)
        extra += timer_headers
        response = self._response(request, status, extra, body, reason)
        self.offer.response(request, response, By.REMOTE)
        if body and method in _OFFER_METHODS:
            self.local_body = body
        if response.is_success and method in _OFFER_METHODS and self.timer_config:
            self._set_timer(timer, now)
        out: list[Output] = [SendResponse(response)]
        if initial:
            if reliably or status >= 200:
                self._reliable = Retransmission.start(response, now, self._t1) \
                    if reliably else None
            return out + answered_initial(self, response, now)
        if status >= 200 and method in _OFFER_METHODS:
            del self._in[method]
        if method == "INVITE" and response.is_success:
            self._retransmit = Retransmission.start(response, now, self._t1)
        return out

    def _response(self, request: Request, status: int, headers: Headers = (),
                  body: bytes = b"", reason: str | None = None) -> Response:
        extra = list(headers)
        names = {n.lower() for n, _ in extra}
        if request.method in _OFFER_METHODS and 101 <= status < 300 \
                and not names & {"contact", "m"}:
            extra.append(("Contact", self.contact))
        if body and not names & {"content-type", "c"}:
            extra.append(("Content-Type", "application/sdp"))
        return make_response(request, status, reason, to_tag=self.local_tag,
                             headers=extra, body=body)

    # -- incoming requests -----------------------------------------------------------

    def receive_request(self, request: Request, now: float) -> list[Output]:
        """An in-dialog request of this session, or a CANCEL of its INVITE
        (see :mod:`sipstack.dialog.incoming`). Raises
        :class:`~sipstack.errors.RemoteProtocolError` with status 481 once
        terminated (or for a fork we do not hold), 500 for an old CSeq."""
        return receive_request(self, request)

    # -- outgoing requests -----------------------------------------------------------

    def reinvite(self, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
                 ) -> list[Output]:
        """Send a re-INVITE (hold, unhold, new media) in the confirmed dialog."""
        if self.state not in (SessionState.CONFIRMED, SessionState.CONNECTING):
            raise LocalProtocolError(f"re-INVITE in {self.state.value}")
        if "INVITE" in self._out or "INVITE" in self._in:
            raise LocalProtocolError("an INVITE transaction is still pending")
        self._check_no_offer_pending()
        return self._send("INVITE", tuple(headers), body)

    def update(self, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
               ) -> list[Output]:
        """Send an UPDATE (RFC 3311), in an early or confirmed dialog."""
        if self.state is SessionState.TERMINATED or self.dialog is None:
            raise LocalProtocolError(f"UPDATE in {self.state.value}")
        if "UPDATE" in self._out:
            raise LocalProtocolError("an UPDATE is still pending")
        if body:
            self._check_no_offer_pending()
        return self._send("UPDATE", tuple(headers), body)

    def request(self, method: str, headers: Iterable[tuple[str, str]] = (),
                body: bytes = b"") -> list[Output]:
        """Send another in-dialog request (INFO, REFER, OPTIONS, MESSAGE …)."""
        method = method.upper()
        if method in _OWN_CALLS:
            raise LocalProtocolError(f"use the session's own call for {method}")
        if self.state is SessionState.TERMINATED or self.dialog is None:
            raise LocalProtocolError(f"{method} in {self.state.value}")
        return self._send(method, tuple(headers), body)

    def bye(self, headers: Iterable[tuple[str, str]] = ()) -> list[Output]:
        """End a confirmed session (§15.1.1); the session is Terminated at once.
        Before the final response, a UAC cancels and a UAS rejects instead."""
        if self.state not in (SessionState.CONFIRMED, SessionState.CONNECTING):
            raise LocalProtocolError(f"BYE in {self.state.value}: cancel or reject")
        return self._end_with_bye("BYE", tuple(headers))

    def cancel(self) -> list[Output]:
        """UAC: CANCEL the INVITE (§9.1). Held back until a provisional
        response has arrived; a 2xx that crosses it gets ACK and BYE."""
        return cancel(self)

    def ack(self, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
            ) -> list[Output]:
        """ACK a 2xx that carried an offer (our INVITE had none), with the
        answer in ``body`` (§13.2.2.4)."""
        if self._unacked is None:
            raise LocalProtocolError("no 2xx waits for an ACK")
        dialog, invite = self._unacked
        self._unacked = None
        return [self._send_ack(dialog, invite, tuple(headers), body)]

    def _send(self, method: str, headers: Headers, body: bytes) -> list[Output]:
        dialog = self.dialog
        assert dialog is not None
        headers += timer_in_request(self, method, headers)
        request = dialog.create_request(method, headers, body)
        self._sent[request.cseq.seq] = Sent(request, headers, body)
        if method in _OFFER_METHODS:
            self._out[method] = request
            self.offer.request(request, By.LOCAL)
            self.local_body = body or self.local_body
        return [SendRequest(request, dialog.next_hop())]

    def _send_ack(self, dialog: Dialog, invite: Request, headers: Headers = (),
                  body: bytes = b"") -> SendRequest:
        """The ACK of a 2xx (§13.2.2.4): the INVITE's CSeq number and
        credentials, a new branch."""
        seq = invite.cseq.seq
        credentials = tuple((name, value) for name in _CREDENTIALS
                            for value in invite.headers.get_lines(name))
        ack = dialog.create_request("ACK", credentials + headers, body, cseq=seq)
        self.local_body = body or self.local_body
        order = SendRequest(ack, dialog.next_hop())
        self._acks[(dialog.remote_tag, seq)] = order
        if dialog is self.dialog:
            self.offer.ack()
        return order

    def _end_with_bye(self, reason: str, headers: Headers = ()) -> list[Output]:
        dialog = self.dialog
        assert dialog is not None
        out = reject_pending(self)
        bye = dialog.create_request("BYE", headers)
        self._finish()
        return [*out, SendRequest(bye, dialog.next_hop()), Terminated(reason, By.LOCAL, bye)]

    def _check_no_offer_pending(self) -> None:
        if self.offer.pending is not None or self._retry is not None:
            raise LocalProtocolError("an offer/answer exchange is still pending")

    # -- responses -------------------------------------------------------------------

    def receive_response(self, response: Response, now: float) -> list[Output]:
        """A response to a request this session sent (the INVITE included);
        a retransmitted 2xx to an INVITE gets its ACK again."""
        method, seq = response.cseq.method, response.cseq.seq
        if method == "INVITE" and response.is_success:
            ack = self._acks.get((response.to.tag or "", seq))
            if ack is not None:
                return [ack]
        if self.role is Role.UAC and method == "INVITE" and seq == self.invite.cseq.seq:
            return initial_response(self, response, now)
        sent = self._sent.get(seq)
        if sent is None or response.status < 200 or sent.request.method != method:
            return []
        return final_to_sent(self, sent, response, now)

    # -- bookkeeping -------------------------------------------------------------------

    def dialogs(self) -> list[Dialog]:
        """The live dialogs of the session (several early ones when forked)."""
        found = list(self.early.values())
        if self.dialog is not None and self.dialog not in found \
                and self.state is not SessionState.TERMINATED:
            found.append(self.dialog)
        return found

    def _register(self, dialog: Dialog) -> None:
        if self._table is not None:
            self._table.add(dialog.id, self)

    def _unregister(self, dialog: Dialog) -> None:
        if self._table is not None:
            self._table.remove(dialog.id)

    def _finish(self) -> None:
        """Enter Terminated: every dialog ends, every timer stops."""
        for dialog in self.dialogs():
            dialog.terminate()
            self._unregister(dialog)
        self.state = SessionState.TERMINATED
        self._retransmit = None
        self._reliable = None
        self._retry = None
        self._timer_at = None
        self._unacked = None
        self.early.clear()

    def __repr__(self) -> str:
        return f"<InviteSession {self.role.value} {self.state.value} {self.invite.call_id}>"
