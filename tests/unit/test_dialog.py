"""Dialog state and in-dialog requests (RFC 3261 §12), sans-IO."""

from __future__ import annotations

import pytest

from sipstack.dialog import Dialog, DialogId, DialogState, DialogTable, ViaConfig
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.events import CounterIds
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message
from sipstack.uri import parse_uri

VIA = ViaConfig("10.0.0.1", 5060)

INVITE = (
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKinv1\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Alice" <sip:alice@atlanta.example.com>;tag=atag\r\n'
    "To: <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: call-1@10.0.0.1\r\n"
    "CSeq: 314 INVITE\r\n"
    "Contact: <sip:alice@10.0.0.1:5060>\r\n"
    "{extra}"
    "\r\n"
)


def invite(extra: str = "") -> Request:
    message = parse_message(INVITE.format(extra=extra).encode())
    assert isinstance(message, Request)
    return message


def answer(request: Request, status: int, tag: str = "btag",
           extra: tuple[tuple[str, str], ...] = ()) -> Response:
    headers = [("Contact", "<sip:bob@192.0.2.4:5070>"), *extra]
    return make_response(request, status, to_tag=tag, headers=headers)


def uac_dialog(response_extra: tuple[tuple[str, str], ...] = (), status: int = 200) -> Dialog:
    req = invite()
    return Dialog.from_uac(req, answer(req, status, extra=response_extra), via=VIA,
                           ids=CounterIds())


def _state(dialog: Dialog) -> DialogState:
    return dialog.state


RR = (("Record-Route", "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>"),)


def test_uac_dialog_from_2xx_takes_the_response_state() -> None:
    dialog = uac_dialog(RR)
    assert dialog.id == DialogId("call-1@10.0.0.1", "atag", "btag")
    assert dialog.state is DialogState.CONFIRMED
    assert dialog.local_seq == 314 and dialog.remote_seq is None
    assert str(dialog.remote_target) == "sip:bob@192.0.2.4:5070"
    # §12.1.2: Record-Route reversed for the UAC.
    assert [str(r.uri) for r in dialog.route_set] == ["sip:p1.example.com;lr",
                                                      "sip:p2.example.com;lr"]
    assert dialog.local_uri.display_name == "Alice"
    assert str(dialog.remote_uri.uri) == "sip:bob@biloxi.example.com"
    assert not dialog.secure


def test_uac_early_dialog_from_1xx_and_confirmation_recomputes_route_set() -> None:
    req = invite()
    early = Dialog.from_uac(req, answer(req, 180, extra=RR), via=VIA, ids=CounterIds())
    assert early.state is DialogState.EARLY
    ok = answer(req, 200, extra=(("Record-Route", "<sip:p9.example.com;lr>"),))
    early.receive_response(req, ok)
    assert _state(early) is DialogState.CONFIRMED
    assert [str(r.uri) for r in early.route_set] == ["sip:p9.example.com;lr"]


def test_100_and_untagged_responses_do_not_create_dialogs() -> None:
    req = invite()
    with pytest.raises(RemoteProtocolError):
        Dialog.from_uac(req, make_response(req, 100), via=VIA, ids=CounterIds())
    with pytest.raises(RemoteProtocolError):
        Dialog.from_uac(req, make_response(req, 180), via=VIA, ids=CounterIds())


def test_uas_dialog_keeps_record_route_order_and_remote_state() -> None:
    req = invite("Record-Route: <sip:p1.example.com;lr>\r\n"
                 "Record-Route: <sip:p2.example.com;lr>\r\n")
    dialog = Dialog.from_uas(req, answer(req, 180, tag="mytag"), via=VIA, ids=CounterIds())
    assert dialog.id == DialogId("call-1@10.0.0.1", "mytag", "atag")
    assert dialog.state is DialogState.EARLY
    assert dialog.remote_seq == 314 and dialog.local_seq is None
    assert str(dialog.remote_target) == "sip:alice@10.0.0.1:5060"
    assert [str(r.uri) for r in dialog.route_set] == ["sip:p1.example.com;lr",
                                                      "sip:p2.example.com;lr"]
    assert str(dialog.local_uri.uri) == "sip:bob@biloxi.example.com"
    assert dialog.remote_uri.tag == "atag"


def test_uas_dialog_from_2xx_is_confirmed_and_sips_is_secure() -> None:
    text = INVITE.format(extra="").replace("INVITE sip:bob@", "INVITE sips:bob@", 1)
    req = parse_message(text.encode())
    assert isinstance(req, Request)
    dialog = Dialog.from_uas(req, answer(req, 200), via=VIA, ids=CounterIds())
    assert dialog.state is DialogState.CONFIRMED and dialog.secure


def test_in_dialog_request_loose_routing() -> None:
    dialog = uac_dialog(RR)
    bye = dialog.create_request("BYE")
    assert str(bye.uri) == "sip:bob@192.0.2.4:5070"
    assert bye.headers.get_all("Route") == ["<sip:p1.example.com;lr>",
                                            "<sip:p2.example.com;lr>"]
    assert bye.cseq.seq == 315 and bye.cseq.method == "BYE"
    assert bye.to.tag == "btag" and bye.from_.tag == "atag"
    assert bye.call_id == "call-1@10.0.0.1"
    assert bye.header_int("Max-Forwards") == 70
    assert bye.via.host == "10.0.0.1" and bye.via.port == 5060
    assert bye.via.branch is not None and bye.via.branch.startswith("z9hG4bK")
    assert str(dialog.next_hop()) == "sip:p1.example.com;lr"


def test_in_dialog_request_strict_routing() -> None:
    rr = (("Record-Route", "<sip:p2.example.com;lr>, <sip:p1.example.com;method=INVITE>"),)
    dialog = uac_dialog(rr)
    req = dialog.create_request("INFO")
    # §12.2.1.1: the strict router goes into the Request-URI (without the
    # parameters a Request-URI may not carry); the remote target goes last.
    assert str(req.uri) == "sip:p1.example.com"
    assert req.headers.get_all("Route") == ["<sip:p2.example.com;lr>",
                                            "<sip:bob@192.0.2.4:5070>"]
    assert str(dialog.next_hop()) == "sip:p1.example.com;method=INVITE"


def test_no_route_set_goes_to_remote_target() -> None:
    dialog = uac_dialog()
    req = dialog.create_request("OPTIONS")
    assert "Route" not in req.headers
    assert dialog.next_hop() == req.uri == parse_uri("sip:bob@192.0.2.4:5070")


def test_cseq_increments_but_ack_and_cancel_reuse_the_invites() -> None:
    dialog = uac_dialog()
    assert dialog.create_request("ACK").cseq.seq == 314
    reinvite = dialog.create_request("INVITE", body=b"v=0\r\n")
    assert reinvite.cseq.seq == 315
    assert reinvite.headers.get("Contact") == "<sip:alice@10.0.0.1:5060>"
    assert reinvite.headers.get("Content-Type") == "application/sdp"
    assert dialog.create_request("INFO").cseq.seq == 316
    ack = dialog.create_request("ACK")
    assert ack.cseq.seq == 315 and ack.cseq.method == "ACK"
    assert dialog.create_request("CANCEL").cseq.seq == 315
    # Each request is a new transaction: a new branch.
    assert ack.via.branch != reinvite.via.branch


def test_uas_first_request_starts_the_local_sequence() -> None:
    req = invite()
    dialog = Dialog.from_uas(req, answer(req, 200), via=VIA, ids=CounterIds())
    bye = dialog.create_request("BYE")
    assert bye.cseq.seq == 1
    assert bye.from_.tag == "btag" and bye.to.tag == "atag"
    assert str(bye.uri) == "sip:alice@10.0.0.1:5060"


def _in_dialog(dialog: Dialog, method: str, seq: int, contact: str | None = None) -> Request:
    headers = [
        ("Via", "SIP/2.0/UDP 192.0.2.4:5070;branch=z9hG4bKx" + str(seq)),
        ("From", "<sip:bob@biloxi.example.com>;tag=btag"),
        ("To", "<sip:alice@atlanta.example.com>;tag=atag"),
        ("Call-ID", dialog.call_id), ("CSeq", f"{seq} {method}"),
    ]
    if contact:
        headers.append(("Contact", contact))
    return Request.build(method, "sip:alice@10.0.0.1:5060", headers)


def test_remote_cseq_rules() -> None:
    dialog = uac_dialog()
    dialog.receive_request(_in_dialog(dialog, "INFO", 10))
    assert dialog.remote_seq == 10
    for seq in (10, 9):
        with pytest.raises(RemoteProtocolError) as err:
            dialog.receive_request(_in_dialog(dialog, "INFO", seq))
        assert err.value.status_hint == 500
    dialog.receive_request(_in_dialog(dialog, "ACK", 3))  # ACK/CANCEL are exempt
    dialog.receive_request(_in_dialog(dialog, "BYE", 11))
    assert dialog.remote_seq == 11


@pytest.mark.parametrize("method", ["INVITE", "UPDATE"])
def test_target_refresh_by_request(method: str) -> None:
    dialog = uac_dialog()
    dialog.receive_request(_in_dialog(dialog, method, 5, "<sip:bob@198.51.100.7>"))
    assert str(dialog.remote_target) == "sip:bob@198.51.100.7"


def test_info_does_not_refresh_the_target() -> None:
    dialog = uac_dialog()
    dialog.receive_request(_in_dialog(dialog, "INFO", 5, "<sip:bob@198.51.100.7>"))
    assert str(dialog.remote_target) == "sip:bob@192.0.2.4:5070"


@pytest.mark.parametrize("method", ["INVITE", "UPDATE"])
def test_target_refresh_by_2xx(method: str) -> None:
    dialog = uac_dialog()
    req = dialog.create_request(method)
    ok = make_response(req, 200, headers=[("Contact", "<sip:bob@203.0.113.9>")])
    dialog.receive_response(req, ok)
    assert str(dialog.remote_target) == "sip:bob@203.0.113.9"
    failed = make_response(dialog.create_request(method), 488,
                           headers=[("Contact", "<sip:x@203.0.113.10>")])
    dialog.receive_response(req, failed)
    assert str(dialog.remote_target) == "sip:bob@203.0.113.9"


def test_terminated_dialog_refuses_requests() -> None:
    dialog = uac_dialog()
    dialog.terminate()
    with pytest.raises(LocalProtocolError):
        dialog.create_request("BYE")
    with pytest.raises(RemoteProtocolError) as err:
        dialog.receive_request(_in_dialog(dialog, "INFO", 1))
    assert err.value.status_hint == 481


def test_table_finds_dialogs_and_answers_481_for_unknown_ones() -> None:
    dialog = uac_dialog()
    table: DialogTable[Dialog] = DialogTable()
    table.add(dialog.id, dialog)
    assert table.match_request(_in_dialog(dialog, "BYE", 2)) is dialog
    assert table.match_request(invite()) is None  # no To tag: out of dialog
    stranger = _in_dialog(dialog, "BYE", 2).replace(
        headers=[(n, v.replace("btag", "other")) for n, v in _in_dialog(dialog, "BYE", 2).headers])
    with pytest.raises(RemoteProtocolError) as err:
        table.match_request(stranger)
    assert err.value.status_hint == 481
    ack = stranger.replace(method="ACK", headers=stranger.headers.with_replaced("CSeq", "2 ACK"))
    with pytest.raises(RemoteProtocolError) as err:
        table.match_request(ack)
    assert err.value.status_hint is None
    response = make_response(dialog.create_request("INFO"), 200)
    assert table.match_response(response) is dialog
    table.remove(dialog.id)
    assert len(table) == 0
    with pytest.raises(RemoteProtocolError):
        table.match_request(_in_dialog(dialog, "BYE", 3))
