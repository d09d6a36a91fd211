"""INVITE sessions (RFC 3261 §13-§15, RFC 3311, RFC 6026) on a fake clock.

A caller session (UAC) and a callee session (UAS) are wired back to back:
what one sends, the test hands to the other. Transactions are not involved;
the sessions' own retransmissions (2xx, ACK) are what is under test.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sipstack.dialog import (
    Answered,
    By,
    Confirmed,
    DialogTable,
    InDialogRequest,
    InviteSession,
    Output,
    Progress,
    Reinvited,
    RequestAnswered,
    SendRequest,
    SendResponse,
    SessionState,
    Terminated,
    Updated,
    ViaConfig,
)
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.events import CounterIds
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message

ALICE_CONTACT = "<sip:alice@10.0.0.1:5060>"
BOB_CONTACT = "<sip:bob@192.0.2.4:5070>"
SDP_A = b"v=0\r\no=alice 1 1 IN IP4 10.0.0.1\r\n"
SDP_B = b"v=0\r\no=bob 1 1 IN IP4 192.0.2.4\r\n"
HOLD = b"v=0\r\no=alice 1 2 IN IP4 10.0.0.1\r\na=sendonly\r\n"


def invite_text(body: bytes = SDP_A) -> Request:
    head = (
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKinvite1\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@atlanta.example.com>;tag=atag\r\n"
        "To: <sip:bob@biloxi.example.com>\r\n"
        "Call-ID: call-1@10.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        f"Contact: {ALICE_CONTACT}\r\n"
        + ("Content-Type: application/sdp\r\n" if body else "")
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    message = parse_message(head.encode() + body)
    assert isinstance(message, Request)
    return message


def caller(invite: Request | None = None,
           table: DialogTable[InviteSession] | None = None) -> InviteSession:
    return InviteSession.uac(invite or invite_text(), ids=CounterIds("a"),
                             via=ViaConfig("10.0.0.1", 5060), contact=ALICE_CONTACT,
                             table=table, fraction=lambda: 0.5)


def callee(invite: Request | None = None,
           table: DialogTable[InviteSession] | None = None) -> InviteSession:
    return InviteSession.uas(invite or invite_text(), ids=CounterIds("b"),
                             via=ViaConfig("192.0.2.4", 5070), contact=BOB_CONTACT,
                             table=table, fraction=lambda: 0.5)


def requests(out: Sequence[Output]) -> list[Request]:
    return [o.request for o in out if isinstance(o, SendRequest)]


def responses(out: Sequence[Output]) -> list[Response]:
    return [o.response for o in out if isinstance(o, SendResponse)]


def events(out: Sequence[Output]) -> list[Output]:
    return [o for o in out if not isinstance(o, SendRequest | SendResponse)]


def one_request(out: Sequence[Output]) -> Request:
    found = requests(out)
    assert len(found) == 1, out
    return found[0]


def one_response(out: Sequence[Output]) -> Response:
    found = responses(out)
    assert len(found) == 1, out
    return found[0]


def state(session: InviteSession) -> SessionState:
    return session.state


def fork_response(invite: Request, status: int, tag: str, host: str,
                  body: bytes = b"") -> Response:
    headers = [("Contact", f"<sip:bob@{host}>")]
    if body:
        headers.append(("Content-Type", "application/sdp"))
    return make_response(invite, status, to_tag=tag, headers=headers, body=body)


def connected(now: float = 0.0) -> tuple[InviteSession, InviteSession]:
    """A caller and a callee through INVITE / 200 / ACK."""
    alice, bob = caller(), callee()
    ok = one_response(bob.respond(bob.invite, 200, now=now, body=SDP_B))
    ack = one_request(alice.receive_response(ok, now))
    assert events(bob.receive_request(ack, now)) == [Confirmed(ack)]
    return alice, bob


# -- establishing -----------------------------------------------------------------


def test_uac_early_dialog_then_answer_and_ack() -> None:
    table: DialogTable[InviteSession] = DialogTable()
    alice = caller(table=table)
    ringing = fork_response(alice.invite, 180, "btag", "192.0.2.4:5070")
    out = alice.receive_response(ringing, 0.0)
    assert out == [Progress(ringing)]
    assert state(alice) is SessionState.EARLY and len(table) == 1
    assert alice.receive_response(make_response(alice.invite, 100), 0.1) == []
    ok = fork_response(alice.invite, 200, "btag", "192.0.2.4:5070", SDP_B)
    out = alice.receive_response(ok, 1.0)
    ack = one_request(out)
    assert events(out) == [Answered(ok, ack)]
    assert ack.method == "ACK" and ack.cseq.seq == 1 and ack.cseq.method == "ACK"
    assert str(ack.uri) == "sip:bob@192.0.2.4:5070" and ack.to.tag == "btag"
    assert ack.via.branch != alice.invite.via.branch
    assert state(alice) is SessionState.CONFIRMED
    assert table.match_response(ok) is alice


def test_ack_is_sent_again_on_each_2xx_retransmission() -> None:
    alice = caller()
    ok = fork_response(alice.invite, 200, "btag", "192.0.2.4:5070", SDP_B)
    first = alice.receive_response(ok, 0.0)
    again = alice.receive_response(ok, 0.5)
    assert [o for o in first if isinstance(o, SendRequest)] == again
    assert alice.receive_response(ok, 1.5) == again  # no second Answered


def test_uas_provisional_answer_and_ack_confirm() -> None:
    table: DialogTable[InviteSession] = DialogTable()
    bob = callee(table=table)
    assert responses(bob.respond(bob.invite, 100, now=0.0))[0].to.tag is None
    ringing = one_response(bob.respond(bob.invite, 180, now=0.0))
    assert ringing.to.tag == bob.local_tag and ringing.headers.get("Contact") == BOB_CONTACT
    assert state(bob) is SessionState.EARLY and len(table) == 1
    ok = one_response(bob.respond(bob.invite, 200, now=1.0, body=SDP_B))
    assert ok.headers.get("Content-Type") == "application/sdp"
    assert state(bob) is SessionState.CONNECTING
    assert bob.get_timer() == pytest.approx(1.5)
    alice = caller()
    ack = one_request(alice.receive_response(ok, 1.1))
    assert bob.receive_request(ack, 1.2) == [Confirmed(ack)]
    assert state(bob) is SessionState.CONFIRMED and bob.get_timer() is None
    assert bob.receive_request(ack, 1.3) == []  # a retransmitted ACK
    with pytest.raises(LocalProtocolError):
        bob.respond(bob.invite, 200, now=2.0)


def test_2xx_retransmitted_from_t1_doubling_to_t2_then_bye_after_64_t1() -> None:
    bob = callee()
    ok = one_response(bob.respond(bob.invite, 200, now=0.0, body=SDP_B))
    fired: list[float] = []
    final: list[Output] = []
    while (deadline := bob.get_timer()) is not None:
        out = bob.handle_timer(deadline)
        if any(isinstance(o, Terminated) for o in out):
            final = out
            break
        assert out == [SendResponse(ok, retransmission=True)]
        fired.append(deadline)
    assert fired == pytest.approx([0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5])
    assert deadline == pytest.approx(32.0)
    bye = one_request(final)
    assert bye.method == "BYE" and str(bye.uri) == "sip:alice@10.0.0.1:5060"
    assert bye.from_.tag == bob.local_tag and bye.to.tag == "atag"
    assert events(final) == [Terminated("no ACK for 2xx", By.LOCAL, bye)]
    assert state(bob) is SessionState.TERMINATED and bob.get_timer() is None


def test_uas_reject_ends_the_session() -> None:
    table: DialogTable[InviteSession] = DialogTable()
    bob = callee(table=table)
    bob.respond(bob.invite, 180, now=0.0)
    out = bob.respond(bob.invite, 486, now=1.0)
    busy = one_response(out)
    assert busy.status == 486 and busy.to.tag == bob.local_tag
    assert events(out) == [Terminated("rejected with 486", By.LOCAL, busy)]
    assert len(table) == 0


def test_uac_rejected() -> None:
    alice = caller()
    alice.receive_response(fork_response(alice.invite, 180, "btag", "192.0.2.4"), 0.0)
    busy = fork_response(alice.invite, 486, "btag", "192.0.2.4")
    assert alice.receive_response(busy, 1.0) == [
        Terminated("rejected with 486", By.REMOTE, busy)]
    assert alice.dialogs() == []


def test_delayed_offer_the_application_sends_the_ack_with_the_answer() -> None:
    alice = caller(invite_text(body=b""))
    ok = fork_response(alice.invite, 200, "btag", "192.0.2.4", SDP_B)
    assert alice.receive_response(ok, 0.0) == [Answered(ok, None)]
    assert alice.offer.pending is By.REMOTE
    assert alice.receive_response(ok, 0.5) == []  # retransmission before our ACK
    ack = one_request(alice.ack(SDP_A))
    assert ack.body == SDP_A and ack.cseq.seq == 1
    assert alice.offer.pending is None
    assert requests(alice.receive_response(ok, 1.5)) == [ack]


# -- forking ----------------------------------------------------------------------


def test_forking_two_early_dialogs_first_2xx_wins_second_gets_ack_and_bye() -> None:
    table: DialogTable[InviteSession] = DialogTable()
    alice = caller(table=table)
    inv = alice.invite
    r1 = fork_response(inv, 180, "b1", "192.0.2.1")
    r2 = fork_response(inv, 183, "b2", "192.0.2.2", SDP_B)
    assert alice.receive_response(r1, 0.0) == [Progress(r1)]
    assert alice.receive_response(r2, 0.1) == [Progress(r2)]
    assert sorted(alice.early) == ["b1", "b2"] and len(table) == 2
    ok2 = fork_response(inv, 200, "b2", "192.0.2.2", SDP_B)
    out = alice.receive_response(ok2, 1.0)
    ack2 = one_request(out)
    assert str(ack2.uri) == "sip:bob@192.0.2.2" and ack2.to.tag == "b2"
    assert events(out) == [Answered(ok2, ack2)]
    assert len(table) == 1 and alice.dialog is not None and alice.dialog.remote_tag == "b2"
    # The other fork answers too: ACK it, then BYE it; the call stays with b2.
    ok1 = fork_response(inv, 200, "b1", "192.0.2.1", SDP_B)
    out = alice.receive_response(ok1, 1.5)
    assert events(out) == []
    ack1, bye1 = requests(out)
    assert ack1.method == "ACK" and ack1.to.tag == "b1" and str(ack1.uri) == "sip:bob@192.0.2.1"
    assert bye1.method == "BYE" and bye1.to.tag == "b1" and bye1.cseq.seq == 2
    assert state(alice) is SessionState.CONFIRMED
    assert requests(alice.receive_response(ok1, 2.0)) == [ack1]  # its retransmission
    assert alice.receive_response(make_response(bye1, 200), 2.1) == []
    assert requests(alice.receive_response(ok2, 2.2)) == [ack2]


def test_forked_early_dialog_requests_reach_the_right_dialog() -> None:
    alice = caller()
    inv = alice.invite
    alice.receive_response(fork_response(inv, 180, "b1", "192.0.2.1"), 0.0)
    alice.receive_response(fork_response(inv, 180, "b2", "192.0.2.2"), 0.0)
    info = Request.build("INFO", "sip:alice@10.0.0.1:5060", [
        ("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKi1"),
        ("From", "<sip:bob@biloxi.example.com>;tag=b1"),
        ("To", "<sip:alice@atlanta.example.com>;tag=atag"),
        ("Call-ID", inv.call_id), ("CSeq", "7 INFO")])
    assert alice.receive_request(info, 0.5) == [InDialogRequest(info)]
    assert alice.early["b1"].remote_seq == 7 and alice.early["b2"].remote_seq is None
    stranger = info.replace(headers=info.headers.with_replaced(
        "From", "<sip:bob@biloxi.example.com>;tag=b9"))
    with pytest.raises(RemoteProtocolError) as err:
        alice.receive_request(stranger, 0.6)
    assert err.value.status_hint == 481


# -- BYE and 481 ------------------------------------------------------------------


@pytest.mark.parametrize("hangs_up", ["caller", "callee"])
def test_bye_either_way(hangs_up: str) -> None:
    alice, bob = connected()
    table: DialogTable[InviteSession] = DialogTable()
    first, second = (alice, bob) if hangs_up == "caller" else (bob, alice)
    assert second.dialog is not None
    table.add(second.dialog.id, second)
    second._table = table
    out = first.bye()
    bye = one_request(out)
    assert events(out) == [Terminated("BYE", By.LOCAL, bye)]
    assert state(first) is SessionState.TERMINATED
    out = second.receive_request(bye, 5.0)
    ok = one_response(out)
    assert ok.status == 200 and ok.cseq.method == "BYE"
    assert events(out) == [Terminated("BYE", By.REMOTE, bye)]
    assert first.receive_response(ok, 5.1) == []
    # After BYE: 481 from the session and from the table.
    with pytest.raises(RemoteProtocolError) as err:
        second.receive_request(bye, 6.0)
    assert err.value.status_hint == 481
    with pytest.raises(RemoteProtocolError) as err:
        table.match_request(bye)
    assert err.value.status_hint == 481
    with pytest.raises(LocalProtocolError):
        first.bye()


def test_bye_in_early_dialog_answers_the_invite_with_487() -> None:
    alice, bob = caller(), callee()
    ringing = one_response(bob.respond(bob.invite, 180, now=0.0))
    alice.receive_response(ringing, 0.0)
    assert alice.dialog is not None
    bye = alice.dialog.create_request("BYE")
    out = bob.receive_request(bye, 1.0)
    assert [(r.status, r.cseq.method) for r in responses(out)] == [(200, "BYE"),
                                                                  (487, "INVITE")]
    assert events(out) == [Terminated("BYE", By.REMOTE, bye)]


def test_old_cseq_in_dialog_is_500() -> None:
    alice, bob = connected()
    info = one_request(alice.request("INFO", body=b"x", headers=[("Content-Type", "text/plain")]))
    assert bob.receive_request(info, 1.0) == [InDialogRequest(info)]
    assert one_response(bob.respond(info, 200, now=1.0)).status == 200
    with pytest.raises(RemoteProtocolError) as err:
        bob.receive_request(info, 2.0)
    assert err.value.status_hint == 500


# -- CANCEL -----------------------------------------------------------------------


def test_uas_cancel_before_final_gives_487_and_ends() -> None:
    alice, bob = caller(), callee()
    alice.receive_response(one_response(bob.respond(bob.invite, 180, now=0.0)), 0.0)
    cancel = one_request(alice.cancel())
    assert cancel.method == "CANCEL" and cancel.via.branch == bob.invite.via.branch
    assert cancel.cseq.seq == 1 and cancel.to.tag is None
    out = bob.receive_request(cancel, 1.0)
    ok, terminated = responses(out)
    assert (ok.status, ok.cseq.method, terminated.status) == (200, "CANCEL", 487)
    assert events(out) == [Terminated("cancelled", By.REMOTE, cancel)]
    assert alice.receive_response(terminated, 1.1) == [
        Terminated("cancelled", By.LOCAL, terminated)]


def test_cancel_after_the_answer_changes_nothing() -> None:
    _, bob = connected()
    cancel = Request.build("CANCEL", bob.invite.uri, [
        *[(n, v) for n, v in bob.invite.headers if n in ("Via", "From", "To", "Call-ID")],
        ("CSeq", "1 CANCEL")])
    out = bob.receive_request(cancel, 1.0)
    assert [r.status for r in responses(out)] == [200] and events(out) == []
    assert state(bob) is SessionState.CONFIRMED


def test_uac_cancel_waits_for_a_provisional_response() -> None:
    alice = caller()
    assert alice.cancel() == []
    ringing = fork_response(alice.invite, 180, "btag", "192.0.2.4")
    out = alice.receive_response(ringing, 0.5)
    assert one_request(out).method == "CANCEL" and events(out) == [Progress(ringing)]
    assert alice.cancel() == []  # only one CANCEL


def test_2xx_crossing_our_cancel_gets_ack_and_bye() -> None:
    alice = caller()
    alice.receive_response(fork_response(alice.invite, 180, "btag", "192.0.2.4"), 0.0)
    alice.cancel()
    ok = fork_response(alice.invite, 200, "btag", "192.0.2.4", SDP_B)
    out = alice.receive_response(ok, 1.0)
    assert [r.method for r in requests(out)] == ["ACK", "BYE"]
    assert [type(e) for e in events(out)] == [Terminated]


# -- re-INVITE, UPDATE, target refresh -------------------------------------------


def test_reinvite_hold_with_target_refresh_both_ways() -> None:
    alice, bob = connected()
    moved = "<sip:alice@10.0.0.99:5060>"
    reinvite = one_request(alice.reinvite(HOLD, headers=[("Contact", moved)]))
    assert reinvite.cseq.seq == 2 and reinvite.headers.get("Contact") == moved
    assert bob.receive_request(reinvite, 10.0) == [Reinvited(reinvite)]
    assert bob.dialog is not None and str(bob.dialog.remote_target) == "sip:alice@10.0.0.99:5060"
    ok = one_response(bob.respond(reinvite, 200, now=10.0, body=SDP_B,
                                  headers=[("Contact", "<sip:bob@198.51.100.5>")]))
    assert bob.get_timer() == pytest.approx(10.5)
    out = alice.receive_response(ok, 10.1)
    ack = one_request(out)
    assert ack.cseq.seq == 2 and str(ack.uri) == "sip:bob@198.51.100.5"
    assert events(out) == [RequestAnswered(reinvite, ok)]
    assert bob.receive_request(ack, 10.2) == [Confirmed(ack)]
    assert bob.get_timer() is None
    assert requests(alice.receive_response(ok, 10.6)) == [ack]


def test_reinvite_rejected_keeps_the_session() -> None:
    alice, bob = connected()
    reinvite = one_request(alice.reinvite(HOLD))
    bob.receive_request(reinvite, 1.0)
    refused = one_response(bob.respond(reinvite, 488, now=1.0))
    assert alice.receive_response(refused, 1.1) == [RequestAnswered(reinvite, refused)]
    assert state(alice) is SessionState.CONFIRMED and alice.offer.pending is None
    assert one_request(alice.reinvite(HOLD)).cseq.seq == 3


def test_update_in_early_dialog_and_target_refresh() -> None:
    alice, bob = caller(), callee()
    progress = one_response(bob.respond(bob.invite, 183, now=0.0, body=SDP_B))
    alice.receive_response(progress, 0.0)
    assert alice.offer.pending is None  # the 183 carried the answer
    update = one_request(alice.update(HOLD, headers=[("Contact", "<sip:alice@10.0.0.7>")]))
    assert update.method == "UPDATE" and update.to.tag == bob.local_tag
    assert update.cseq.seq == 2
    assert bob.receive_request(update, 0.5) == [Updated(update)]
    assert bob.dialog is not None and str(bob.dialog.remote_target) == "sip:alice@10.0.0.7"
    ok = one_response(bob.respond(update, 200, now=0.5, body=SDP_B))
    assert alice.receive_response(ok, 0.6) == [RequestAnswered(update, ok)]
    assert bob.get_timer() is None  # no retransmission for a 2xx to UPDATE
    assert state(bob) is SessionState.EARLY


def test_update_in_confirmed_dialog() -> None:
    alice, bob = connected()
    update = one_request(bob.update(HOLD))
    assert update.cseq.seq == 1 and update.from_.tag == bob.local_tag
    assert alice.receive_request(update, 3.0) == [Updated(update)]
    ok = one_response(alice.respond(update, 200, now=3.0, body=SDP_A,
                                    headers=[("Contact", "<sip:alice@10.0.0.8>")]))
    assert bob.receive_response(ok, 3.1) == [RequestAnswered(update, ok)]
    assert bob.dialog is not None and str(bob.dialog.remote_target) == "sip:alice@10.0.0.8"


# -- glare (§14.1) ----------------------------------------------------------------


def test_glare_both_ways_491_then_retry_after_the_random_interval() -> None:
    alice, bob = connected()
    from_alice = one_request(alice.reinvite(HOLD))
    from_bob = one_request(bob.reinvite(SDP_B))
    refuse_bob = one_response(alice.receive_request(from_bob, 10.0))
    refuse_alice = one_response(bob.receive_request(from_alice, 10.0))
    assert refuse_bob.status == refuse_alice.status == 491
    assert alice.receive_response(refuse_alice, 10.0) == []
    assert bob.receive_response(refuse_bob, 10.0) == []
    # Alice owns the Call-ID: 2.1-4 s; Bob: 0-2 s (fraction 0.5 in this test).
    assert alice.get_timer() == pytest.approx(13.05)
    assert bob.get_timer() == pytest.approx(11.0)
    assert bob.handle_timer(10.9) == []
    retry = one_request(bob.handle_timer(11.0))
    assert retry.method == "INVITE" and retry.body == SDP_B
    assert retry.cseq.seq == from_bob.cseq.seq + 1
    assert alice.receive_request(retry, 11.0) == [Reinvited(retry)]
    ok = one_response(alice.respond(retry, 200, now=11.0, body=HOLD))
    ack = one_request(bob.receive_response(ok, 11.1))
    assert alice.receive_request(ack, 11.1) == [Confirmed(ack)]
    mine = one_request(alice.handle_timer(13.05))
    assert mine.method == "INVITE" and mine.body == HOLD
    assert mine.cseq.seq == from_alice.cseq.seq + 1
    assert bob.receive_request(mine, 13.1) == [Reinvited(mine)]


def test_retry_waits_while_another_exchange_is_open() -> None:
    alice, bob = connected()
    from_alice = one_request(alice.reinvite(HOLD))
    from_bob = one_request(bob.reinvite(SDP_B))
    alice.receive_response(one_response(bob.receive_request(from_alice, 1.0)), 1.0)
    assert alice.get_timer() == pytest.approx(4.05)
    # Bob's re-INVITE reaches Alice once hers is refused: she takes it, and
    # her retry must not cross it, so it waits another interval.
    assert alice.receive_request(from_bob, 2.0) == [Reinvited(from_bob)]
    assert alice.handle_timer(4.05) == []
    assert alice.get_timer() == pytest.approx(7.1)
    ok = one_response(alice.respond(from_bob, 200, now=5.0, body=HOLD))
    ack = one_request(bob.receive_response(ok, 5.1))
    assert alice.receive_request(ack, 5.1) == [Confirmed(ack)]
    retry = one_request(alice.handle_timer(7.1))
    assert retry.method == "INVITE" and retry.body == HOLD


def test_new_offer_before_we_answered_theirs_is_500_with_retry_after() -> None:
    alice, bob = connected()
    first = one_request(alice.reinvite(HOLD))
    bob.receive_request(first, 1.0)
    assert alice.dialog is not None
    second = alice.dialog.create_request("INVITE", body=SDP_A)
    refused = one_response(bob.receive_request(second, 1.1))
    assert refused.status == 500 and refused.headers.get("Retry-After") == "5"
    update = alice.dialog.create_request("UPDATE", body=SDP_A)
    assert one_response(bob.receive_request(update, 1.2)).status == 500
    with pytest.raises(LocalProtocolError):
        bob.reinvite(SDP_B)  # Bob must answer first


def test_update_crossing_our_offer_is_491() -> None:
    alice, bob = connected()
    one_request(alice.update(HOLD))
    assert bob.dialog is not None
    theirs = bob.dialog.create_request("UPDATE", body=SDP_B)
    assert one_response(alice.receive_request(theirs, 1.0)).status == 491
    plain = bob.dialog.create_request("UPDATE")  # no offer: no glare
    assert alice.receive_request(plain, 1.1) == [Updated(plain)]


@pytest.mark.parametrize(("status", "sends_bye"), [(481, False), (408, True)])
def test_481_or_408_to_a_reinvite_ends_the_dialog(status: int, sends_bye: bool) -> None:
    alice, _ = connected()
    reinvite = one_request(alice.reinvite(HOLD))
    out = alice.receive_response(make_response(reinvite, status), 2.0)
    assert [r.method for r in requests(out)] == (["BYE"] if sends_bye else [])
    assert [type(e) for e in events(out)] == [Terminated]
    assert state(alice) is SessionState.TERMINATED


def test_misuse_is_refused() -> None:
    alice = caller()
    with pytest.raises(LocalProtocolError):
        alice.reinvite(HOLD)
    with pytest.raises(LocalProtocolError):
        alice.bye()
    with pytest.raises(LocalProtocolError):
        alice.request("INVITE")
    with pytest.raises(LocalProtocolError):
        InviteSession.uas(connected()[0].dialog.create_request("INVITE"),  # type: ignore[union-attr]
                          ids=CounterIds(), via=ViaConfig("h"), contact=BOB_CONTACT)


# -- RFC 3262 (UAC side) and §13.2.2.4 details -------------------------------------


def reliable(invite: Request, status: int, rseq: int, tag: str = "btag") -> Response:
    return make_response(invite, status, to_tag=tag, headers=[
        ("Contact", "<sip:bob@192.0.2.4>"), ("Require", "100rel"), ("RSeq", str(rseq))])


def test_reliable_provisional_responses_get_prack_in_order_only() -> None:
    alice = caller()
    first = reliable(alice.invite, 180, 7)
    out = alice.receive_response(first, 0.0)
    prack = one_request(out)
    assert events(out) == [Progress(first)]
    assert prack.method == "PRACK" and prack.headers.get("RAck") == "7 1 INVITE"
    assert prack.cseq.seq == 2 and prack.to.tag == "btag"
    assert str(prack.uri) == "sip:bob@192.0.2.4"
    assert alice.receive_response(first, 0.5) == []  # retransmission: no second PRACK
    assert alice.receive_response(reliable(alice.invite, 183, 9), 0.6) == []  # gap
    second = reliable(alice.invite, 183, 8)
    out = alice.receive_response(second, 0.7)
    assert one_request(out).headers.get("RAck") == "8 1 INVITE"
    assert alice.receive_response(make_response(prack, 200), 0.8) == []
    # RSeq spaces are per early dialog: another fork starts its own.
    other = reliable(alice.invite, 180, 1, tag="b2")
    assert one_request(alice.receive_response(other, 0.9)).headers.get("RAck") == "1 1 INVITE"


def test_unreliable_provisional_gets_no_prack() -> None:
    alice = caller()
    ringing = make_response(alice.invite, 180, to_tag="btag",
                            headers=[("Contact", "<sip:bob@192.0.2.4>"), ("RSeq", "4")])
    assert alice.receive_response(ringing, 0.0) == [Progress(ringing)]


def test_ack_for_2xx_carries_the_invites_credentials() -> None:
    base = invite_text()
    authorised = base.replace(headers=base.headers.with_added(
        "Proxy-Authorization", 'Digest username="alice", realm="atlanta.example.com"'))
    alice = caller(authorised)
    ok = fork_response(alice.invite, 200, "btag", "192.0.2.4", SDP_B)
    ack = one_request(alice.receive_response(ok, 0.0))
    assert ack.headers.get("Proxy-Authorization") == \
        'Digest username="alice", realm="atlanta.example.com"'


# -- RFC 3262 (UAS side) ----------------------------------------------------------


def invite_with(*extra: tuple[str, str]) -> Request:
    base = invite_text()
    headers = base.headers
    for name, value in extra:
        headers = headers.with_added(name, value)
    return base.replace(headers=headers)


def test_required_100rel_makes_provisionals_reliable_until_prack() -> None:
    invite = invite_with(("Require", "100rel"))
    alice, bob = caller(invite), callee(invite)
    ringing = one_response(bob.respond(invite, 180, now=0.0))
    assert ringing.headers.get("Require") == "100rel"
    rseq = ringing.header_int("RSeq")
    assert rseq is not None and 1 <= rseq < 2**31
    assert bob.get_timer() == pytest.approx(0.5)
    assert bob.handle_timer(0.5) == [SendResponse(ringing, retransmission=True)]
    assert bob.get_timer() == pytest.approx(1.5)
    with pytest.raises(LocalProtocolError):  # one unacknowledged at a time
        bob.respond(invite, 183, now=0.6)
    prack = one_request(alice.receive_response(ringing, 0.6))
    ok = one_response(bob.receive_request(prack, 0.7))
    assert ok.status == 200 and ok.cseq.method == "PRACK"
    assert bob.get_timer() is None
    progress = one_response(bob.respond(invite, 183, now=1.0))
    assert progress.header_int("RSeq") == rseq + 1
    assert one_response(bob.receive_request(prack.replace(
        headers=prack.headers.with_replaced("CSeq", "9 PRACK")), 1.1)).status == 481


def test_reliable_provisional_only_when_supported_and_asked() -> None:
    plain = callee()
    assert "RSeq" not in one_response(plain.respond(plain.invite, 180, now=0.0,
                                                    reliable=True)).headers
    invite = invite_with(("Supported", "100rel"))
    bob = callee(invite)
    assert "RSeq" not in one_response(bob.respond(invite, 180, now=0.0)).headers
    assert "RSeq" in one_response(bob.respond(invite, 183, now=0.1, reliable=True)).headers


def test_no_prack_within_64_t1_rejects_the_invite_with_500() -> None:
    invite = invite_with(("Require", "100rel"))
    bob = callee(invite)
    ringing = one_response(bob.respond(invite, 180, now=0.0))
    fired: list[float] = []
    while (deadline := bob.get_timer()) is not None and deadline < 32.0:
        assert bob.handle_timer(deadline) == [SendResponse(ringing, retransmission=True)]
        fired.append(deadline)
    assert fired == pytest.approx([0.5, 1.5, 3.5, 7.5, 15.5, 31.5])  # no T2 cap
    out = bob.handle_timer(32.0)
    failure = one_response(out)
    assert failure.status == 500
    assert [type(e) for e in events(out)] == [Terminated]


def test_final_response_stops_reliable_retransmissions() -> None:
    invite = invite_with(("Require", "100rel"))
    bob = callee(invite)
    bob.respond(invite, 180, now=0.0)
    bob.respond(invite, 486, now=0.2)
    assert bob.get_timer() is None


def test_rfc2543_invite_without_contact_targets_the_from_uri() -> None:
    invite = invite_text()
    legacy = invite.replace(headers=invite.headers.without("Contact"))
    bob = callee(legacy)
    bob.respond(legacy, 200, now=0.0, body=b"v=0\r\n")
    assert bob.dialog is not None
    assert bob.dialog.remote_target == legacy.from_.uri
