"""The endpoint's bookkeeping: transactions by key (RFC 3261 §17.2.3, §9.2)
and the heap of INVITE sessions' deadlines, stale entries included."""

from __future__ import annotations

from typing import cast

from sipstack.dialog import InviteSession
from sipstack.endpoint_state import ClientRequest, SessionTimers, TransactionIndex, server_id
from sipstack.message import Request, make_response
from sipstack.parser import parse_message


def request(method: str = "INVITE", branch: str = "z9hG4bK1", call_id: str = "c1") -> Request:
    data = (f"{method} sip:bob@example.com SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}\r\n"
            "From: <sip:alice@example.com>;tag=a1\r\n"
            "To: <sip:bob@example.com>\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: 1 {method}\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


class FakeSession:
    """Stands in for an InviteSession: only its deadline matters here."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline

    def get_timer(self) -> float | None:
        return self.deadline


def session(deadline: float | None) -> InviteSession:
    return cast(InviteSession, FakeSession(deadline))


def moved(s: InviteSession, deadline: float | None) -> None:
    cast(FakeSession, s).deadline = deadline


# -- TransactionIndex -------------------------------------------------------

def test_a_response_finds_the_server_transaction_of_its_request() -> None:
    index = TransactionIndex()
    invite = request()
    index.track("tx1", invite)
    assert index.server_key(make_response(invite, 200, to_tag="b1")) == "tx1"
    assert index.server_key(make_response(request(branch="z9hG4bK2"), 200)) is None
    assert server_id(invite) == ("c1", "z9hG4bK1", "INVITE")


def test_a_terminated_transaction_is_forgotten_everywhere() -> None:
    index = TransactionIndex()
    invite = request()
    s = session(None)
    index.track("tx1", invite)
    index.invites["tx1"] = s
    index.clients["tx1"] = ClientRequest(invite, s)
    index.terminated("tx1")
    assert index.server_key(make_response(invite, 200)) is None
    assert "tx1" not in index.invites and "tx1" not in index.clients


def test_a_newer_transaction_for_the_same_request_keeps_its_entry() -> None:
    # A retransmission tracked under a new key replaces the old mapping; the
    # old key terminating must not remove the new one.
    index = TransactionIndex()
    invite = request()
    index.track("old", invite)
    index.track("new", invite)
    index.terminated("old")
    assert index.server_key(make_response(invite, 180)) == "new"


def test_forget_session_drops_only_its_invites() -> None:
    index = TransactionIndex()
    mine, other = session(None), session(None)
    index.invites.update({"tx1": mine, "tx2": other, "tx3": mine})
    index.forget_session(mine)
    assert index.invites == {"tx2": other}


# -- SessionTimers ----------------------------------------------------------

def test_sessions_come_due_in_deadline_order() -> None:
    timers = SessionTimers()
    late, early, none = session(5.0), session(1.0), session(None)
    for s in (late, early, none):
        timers.schedule(s)
    assert len(timers) == 2  # a session without a deadline is not queued
    assert timers.next_deadline() == 1.0
    assert list(timers.due(0.5)) == []
    assert list(timers.due(5.0)) == [early, late]
    assert timers.next_deadline() is None


def test_a_later_deadline_is_requeued_and_a_cleared_one_dropped() -> None:
    timers = SessionTimers()
    later, cleared = session(1.0), session(2.0)
    timers.schedule(later)
    timers.schedule(cleared)
    moved(later, 3.0)
    moved(cleared, None)
    assert timers.next_deadline() == 3.0
    assert len(timers) == 1
    assert list(timers.due(3.0)) == [later]


def test_a_popped_entry_whose_session_moved_on_is_not_due() -> None:
    timers = SessionTimers()
    s = session(1.0)
    timers.schedule(s)
    moved(s, 4.0)
    assert list(timers.due(2.0)) == []
