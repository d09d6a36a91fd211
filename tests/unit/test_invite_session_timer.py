"""Session timers (RFC 4028) on INVITE sessions, on a fake clock."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sipstack.dialog import (
    By,
    Confirmed,
    InviteSession,
    Negotiated,
    Output,
    SendRequest,
    SendResponse,
    SessionExpires,
    Terminated,
    TimerConfig,
    Updated,
    ViaConfig,
)
from sipstack.dialog.session_timer import too_small
from sipstack.errors import RemoteProtocolError
from sipstack.events import CounterIds
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message

ALICE_CONTACT = "<sip:alice@10.0.0.1:5060>"
BOB_CONTACT = "<sip:bob@192.0.2.4:5070>"
SDP_A = b"v=0\r\no=alice 1 1 IN IP4 10.0.0.1\r\n"
SDP_B = b"v=0\r\no=bob 1 1 IN IP4 192.0.2.4\r\n"


def invite_text() -> Request:
    head = (
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKinvite1\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@atlanta.example.com>;tag=atag\r\n"
        "To: <sip:bob@biloxi.example.com>\r\n"
        "Call-ID: call-1@10.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        f"Contact: {ALICE_CONTACT}\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(SDP_A)}\r\n\r\n"
    )
    message = parse_message(head.encode() + SDP_A)
    assert isinstance(message, Request)
    return message


def events(out: Sequence[Output]) -> list[Output]:
    return [o for o in out if not isinstance(o, SendRequest | SendResponse)]


def one_request(out: Sequence[Output]) -> Request:
    found = [o.request for o in out if isinstance(o, SendRequest)]
    assert len(found) == 1, out
    return found[0]


def one_response(out: Sequence[Output]) -> Response:
    found = [o.response for o in out if isinstance(o, SendResponse)]
    assert len(found) == 1, out
    return found[0]


ALLOW = ("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE")


def timed_invite(*extra: tuple[str, str]) -> Request:
    base = invite_text()
    headers = base.headers
    for name, value in extra:
        headers = headers.with_added(name, value)
    return base.replace(headers=headers)


ASK = TimerConfig()
GRANT = TimerConfig(600)


def pair(invite: Request, alice_cfg: TimerConfig | None = ASK,
         bob_cfg: TimerConfig | None = GRANT,
         allow: bool = True) -> tuple[InviteSession, InviteSession]:
    alice = InviteSession.uac(invite, ids=CounterIds("a"), via=ViaConfig("10.0.0.1", 5060),
                              contact=ALICE_CONTACT, session_timer=alice_cfg)
    bob = InviteSession.uas(invite, ids=CounterIds("b"), via=ViaConfig("192.0.2.4", 5070),
                            contact=BOB_CONTACT, session_timer=bob_cfg)
    ok = one_response(bob.respond(bob.invite, 200, now=0.0, body=SDP_B,
                                  headers=[ALLOW] if allow else []))
    ack = one_request(alice.receive_response(ok, 0.0))
    assert events(bob.receive_request(ack, 0.0)) == [Confirmed(ack)]
    return alice, bob


def test_session_expires_parse_and_text() -> None:
    request = timed_invite(("Session-Expires", "1800 ; refresher=UAS"))
    assert SessionExpires.of(request) == SessionExpires(1800, "uas")
    assert str(SessionExpires(90, "uac")) == "90;refresher=uac"
    for bad in ("soon", "1800;refresher=proxy"):
        with pytest.raises(RemoteProtocolError):
            SessionExpires.of(timed_invite(("Session-Expires", bad)))


def test_uas_lowers_the_interval_and_lets_a_supporting_uac_refresh() -> None:
    invite = timed_invite(*TimerConfig(1800).invite_headers())
    alice, bob = pair(invite)
    assert bob.timer == Negotiated(600, By.REMOTE)
    assert alice.timer == Negotiated(600, By.LOCAL)
    # §10: the refresher at half the interval; the other side at
    # expiry - min(32, interval/3).
    assert alice.get_timer() == pytest.approx(300.0)
    assert bob.get_timer() == pytest.approx(568.0)


def test_2xx_headers_say_who_refreshes() -> None:
    invite = timed_invite(*TimerConfig(1800).invite_headers())
    bob = InviteSession.uas(invite, ids=CounterIds("b"), via=ViaConfig("192.0.2.4"),
                            contact=BOB_CONTACT, session_timer=TimerConfig(600))
    ok = one_response(bob.respond(invite, 200, now=0.0, body=SDP_B))
    assert ok.headers.get("Session-Expires") == "600;refresher=uac"
    assert ok.headers.get("Require") == "timer"


def test_uac_without_timer_support_makes_the_uas_refresh() -> None:
    invite = timed_invite(("Session-Expires", "1200"))
    bob = InviteSession.uas(invite, ids=CounterIds("b"), via=ViaConfig("192.0.2.4"),
                            contact=BOB_CONTACT, session_timer=TimerConfig(1800))
    ok = one_response(bob.respond(invite, 200, now=0.0, body=SDP_B))
    assert ok.headers.get("Session-Expires") == "1200;refresher=uas"
    assert "Require" not in ok.headers
    assert bob.timer == Negotiated(1200, By.LOCAL)


def test_no_session_expires_no_timer() -> None:
    alice, bob = pair(invite_text())
    assert alice.timer is None and bob.timer is None
    assert alice.get_timer() is None and bob.get_timer() is None


def test_refresh_by_update_resets_both_timers() -> None:
    alice, bob = pair(timed_invite(*TimerConfig(1800).invite_headers()))
    update = one_request(alice.handle_timer(300.0))
    assert update.method == "UPDATE" and not update.body
    assert update.headers.get("Session-Expires") == "600;refresher=uac"
    assert bob.receive_request(update, 300.1) == [Updated(update)]
    ok = one_response(bob.respond(update, 200, now=300.1))
    assert ok.headers.get("Session-Expires") == "600;refresher=uac"
    assert bob.get_timer() == pytest.approx(300.1 + 568)
    assert alice.receive_response(ok, 300.2) != []
    assert alice.get_timer() == pytest.approx(600.2)


def test_refresh_by_reinvite_repeats_our_sdp_when_update_is_not_allowed() -> None:
    alice, _ = pair(timed_invite(*TimerConfig(1800).invite_headers()), allow=False)
    reinvite = one_request(alice.handle_timer(300.0))
    assert reinvite.method == "INVITE" and reinvite.body == SDP_A
    assert reinvite.headers.get("Session-Expires") == "600;refresher=uac"


def test_no_refresh_means_bye_before_expiry() -> None:
    _, bob = pair(timed_invite(*TimerConfig(1800).invite_headers()))
    assert bob.handle_timer(567.0) == []
    out = bob.handle_timer(568.0)
    bye = one_request(out)
    assert bye.method == "BYE"
    assert events(out) == [Terminated("session expired", By.LOCAL, bye)]


def test_refresh_waits_while_an_exchange_is_open() -> None:
    alice, bob = pair(timed_invite(*TimerConfig(1800).invite_headers()))
    theirs = one_request(bob.reinvite(SDP_B))
    alice.receive_request(theirs, 299.0)  # Alice has a re-INVITE to answer
    assert alice.handle_timer(300.0) == []
    assert alice.get_timer() == pytest.approx(301.0)


def test_422_for_a_too_short_interval() -> None:
    invite = timed_invite(("Session-Expires", "100"))
    refusal = too_small(invite, TimerConfig(min_se=120), to_tag="x")
    assert refusal is not None and refusal.status == 422
    assert refusal.headers.get("Min-SE") == "120"
    assert too_small(invite, TimerConfig(min_se=90)) is None
    # In a dialog the session answers a too-short refresh itself.
    alice, bob = pair(timed_invite(*TimerConfig(1800).invite_headers()),
                      bob_cfg=TimerConfig(600, min_se=300))
    assert alice.dialog is not None
    short = alice.dialog.create_request("UPDATE", [("Session-Expires", "200")])
    assert one_response(bob.receive_request(short, 10.0)).status == 422


def test_uac_retries_the_invite_after_422() -> None:
    invite = timed_invite(*TimerConfig(300).invite_headers())
    alice = InviteSession.uac(invite, ids=CounterIds("a"), via=ViaConfig("10.0.0.1"),
                              contact=ALICE_CONTACT, session_timer=TimerConfig(300))
    refusal = make_response(invite, 422, to_tag="x", headers=[("Min-SE", "1000")])
    again = one_request(alice.receive_response(refusal, 0.0))
    assert again.method == "INVITE" and again.cseq.seq == 2
    assert again.headers.get("Session-Expires") == "1000"
    assert again.headers.get("Min-SE") == "1000"
    assert again.via.branch != invite.via.branch and again.body == invite.body
    assert alice.invite is again
    ok = make_response(again, 200, to_tag="btag", body=SDP_B, headers=[
        ("Contact", "<sip:bob@192.0.2.4>"), ("Content-Type", "application/sdp"),
        ("Session-Expires", "1000;refresher=uac")])
    ack = one_request(alice.receive_response(ok, 1.0))
    assert ack.cseq.seq == 2
    assert alice.timer == Negotiated(1000, By.LOCAL)


def test_without_our_config_the_session_ignores_timers() -> None:
    alice, bob = pair(timed_invite(*TimerConfig(1800).invite_headers()),
                      alice_cfg=None, bob_cfg=None)
    assert alice.timer is None and bob.timer is None
    assert alice.get_timer() is None

