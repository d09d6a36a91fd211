"""Transaction matching (§17.1.3, §17.2.3), CANCEL (§9), Via stamping and
response addressing (§18.2.1, §18.2.2, RFC 3581), the MTU rule (§18.1.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipstack.constants import UDP_MTU_LIMIT
from sipstack.errors import LocalProtocolError
from sipstack.events import Address, CounterIds
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message
from sipstack.timers import TimerHeap
from sipstack.transaction import (
    AckReceived,
    RequestReceived,
    StrayResponse,
    TransactionLayer,
    TransportError,
    make_ack_for_error,
    make_cancel,
)
from sipstack.transaction.keys import stamp_via

SOURCE = Address("udp", "192.0.2.1", 5060)
RFC4475 = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "rfc4475"


def request(method: str = "INVITE", via: str = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKm1",
            to: str = "<sip:bob@192.0.2.2>", body: bytes = b"") -> Request:
    return Request.build(method, "sip:bob@192.0.2.2:5070", [
        ("Via", via), ("Max-Forwards", "70"), ("From", "<sip:alice@192.0.2.1>;tag=a1"),
        ("To", to), ("Call-ID", "call-1@192.0.2.1"), ("CSeq", f"1 {method}"),
        ("Route", "<sip:proxy.example;lr>"),
    ], body)


def events(layer: TransactionLayer) -> list[object]:
    out: list[object] = []
    while (event := layer.next_event()) is not None:
        out.append(event)
    return out


def receive(layer: TransactionLayer, req: Request, source: Address = SOURCE) -> RequestReceived:
    layer.receive_message(req, source, 0.0)
    [event] = events(layer)
    assert isinstance(event, RequestReceived)
    return event


def test_cancel_gets_its_own_transaction_and_names_the_invite() -> None:
    layer = TransactionLayer(CounterIds())
    invite = receive(layer, request())
    cancel = make_cancel(request())
    event = receive(layer, cancel)
    assert event.cancels == invite.key and event.key != invite.key
    layer.receive_message(cancel, SOURCE, 0.1)  # retransmitted CANCEL: absorbed
    assert events(layer) == []
    other = make_cancel(request(via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKother"))
    assert receive(layer, other).cancels is None  # the TU answers 481


def test_make_cancel_and_ack_copy_what_section_9_1_and_17_1_1_3_say() -> None:
    invite = request()
    cancel = make_cancel(invite)
    assert cancel.method == "CANCEL" and str(cancel.cseq) == "1 CANCEL"
    assert cancel.headers.get_all("Via") == invite.headers.get_all("Via")
    for name in ("From", "To", "Call-ID", "Route"):
        assert cancel.headers.get(name) == invite.headers.get(name)
    busy = make_response(invite, 486, to_tag="b9")
    ack = make_ack_for_error(invite, busy)
    assert ack.to.tag == "b9" and ack.headers.get("Route") == invite.headers.get("Route")
    with pytest.raises(LocalProtocolError):
        make_ack_for_error(invite, make_response(invite, 200, to_tag="b9"))
    with pytest.raises(LocalProtocolError):
        make_cancel(request("OPTIONS"))


@pytest.mark.parametrize("via", [
    "SIP/2.0/UDP 192.0.2.1:5060",                   # RFC 4475 inv2543: no branch
    "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK",   # RFC 4475 badbranch: cookie only
    "SIP/2.0/UDP 192.0.2.1:5060;branch=1234",      # an RFC 2543 branch
])
def test_rfc_2543_fallback_matching(via: str) -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request(via=via))
    assert event.key.startswith("2543|")
    layer.receive_message(request(via=via), SOURCE, 0.1)
    assert events(layer) == [] and len(layer) == 1  # a retransmission
    busy = make_response(event.request, 486, to_tag="b1")
    layer.send_response(event.key, busy, 0.2)
    ack = request("ACK", via=via, to=busy.headers.get("To") or "")
    layer.receive_message(ack, SOURCE, 0.3)
    assert events(layer) == [] and layer.state_of(event.key) == "Confirmed"
    cancel = make_cancel(request(via=via))
    assert receive(layer, cancel).cancels == event.key
    # A different CSeq is a different transaction.
    other = request(via=via).replace(headers=request(via=via).headers.with_replaced(
        "CSeq", "2 INVITE"))
    assert receive(layer, other).key != event.key


def test_ack_from_rfc_2543_peer_with_a_wrong_to_tag_is_not_absorbed() -> None:
    layer = TransactionLayer(CounterIds())
    via = "SIP/2.0/UDP 192.0.2.1:5060"
    event = receive(layer, request(via=via))
    layer.send_response(event.key, make_response(event.request, 486, to_tag="b1"), 0.0)
    layer.receive_message(request("ACK", via=via, to="<sip:bob@192.0.2.2>;tag=zz"),
                          SOURCE, 0.1)
    assert [type(e) for e in events(layer)] == [AckReceived]
    assert layer.state_of(event.key) == "Completed"


def test_requests_from_different_sent_by_are_different_transactions() -> None:
    layer = TransactionLayer(CounterIds())
    first = receive(layer, request())
    second = receive(layer, request(via="SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKm1"))
    assert first.key != second.key and len(layer) == 2


def response_target(layer: TransactionLayer, via: str, source: Address) -> tuple[Request,
                                                                                  Address]:
    event = receive(layer, request("OPTIONS", via=via), source)
    layer.send_response(event.key, make_response(event.request, 200, to_tag="x"), 0.0)
    [datagram] = layer.datagrams_to_send()
    response = parse_message(datagram.data)
    assert isinstance(response, Response)
    assert response.via == event.request.via
    return event.request, datagram.address


def test_rport_is_filled_and_the_response_goes_to_the_source() -> None:
    layer = TransactionLayer(CounterIds())
    nat = Address("udp", "203.0.113.7", 40123)
    req, target = response_target(layer, "SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bKr1",
                                  nat)
    assert req.via.param("received") == "203.0.113.7" and req.via.param("rport") == "40123"
    assert target == nat


def test_rport_forces_received_even_when_the_host_matches() -> None:
    layer = TransactionLayer(CounterIds())
    req, target = response_target(layer, "SIP/2.0/UDP 192.0.2.1:5062;rport;branch=z9hG4bKr2",
                                  Address("udp", "192.0.2.1", 5099))
    assert req.via.param("received") == "192.0.2.1" and req.via.param("rport") == "5099"
    assert target == Address("udp", "192.0.2.1", 5099)


def test_received_without_rport_uses_the_sent_by_port() -> None:
    layer = TransactionLayer(CounterIds())
    req, target = response_target(layer, "SIP/2.0/UDP pc.example.com:5062;branch=z9hG4bKr3",
                                  Address("udp", "198.51.100.4", 6000))
    assert req.via.param("received") == "198.51.100.4" and req.via.param("rport") is None
    assert target == Address("udp", "198.51.100.4", 5062)


def test_matching_host_is_left_alone_and_the_default_port_is_5060() -> None:
    layer = TransactionLayer(CounterIds())
    req, target = response_target(layer, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr4",
                                  Address("udp", "192.0.2.1", 7000))
    assert req.via.param("received") is None
    assert target == Address("udp", "192.0.2.1", 5060)


def test_reliable_responses_go_back_to_the_connection() -> None:
    layer = TransactionLayer(CounterIds())
    conn = Address("tcp", "198.51.100.4", 51515)
    _, target = response_target(layer, "SIP/2.0/TCP pc.example.com:5062;branch=z9hG4bKr5", conn)
    assert target == conn


def test_oversized_udp_request_switches_to_tcp() -> None:
    layer = TransactionLayer(CounterIds())
    dest = Address("udp", "192.0.2.2", 5070)
    layer.send_request(request("MESSAGE", body=b"x" * UDP_MTU_LIMIT), dest, 0.0)
    [datagram] = layer.datagrams_to_send()
    assert datagram.address == Address("tcp", "192.0.2.2", 5070)
    sent = parse_message(datagram.data)
    assert sent.via.transport == "TCP" and sent.via.branch == "z9hG4bKm1"
    assert layer.get_timer() == 32.0  # reliable now: no Timer E, only F


def test_request_moved_to_tcp_by_size_falls_back_to_udp_when_tcp_fails() -> None:
    layer = TransactionLayer(CounterIds())
    dest = Address("udp", "192.0.2.2", 5070)
    key = layer.send_request(request("MESSAGE", body=b"x" * UDP_MTU_LIMIT), dest, 0.0)
    [over_tcp] = layer.datagrams_to_send()
    assert over_tcp.address.transport == "tcp"
    layer.transport_error(key, 0.1)  # §18.1.1: connection refused -> retry over UDP
    [over_udp] = layer.datagrams_to_send()
    assert over_udp.address == dest and parse_message(over_udp.data).via.transport == "UDP"
    assert layer.next_event() is None  # the TU sees nothing of it
    assert layer.get_timer() == pytest.approx(0.6)  # Timer E runs again, from the retry
    layer.transport_error(key, 0.2)  # a failure over UDP is a real one
    assert isinstance(layer.next_event(), TransportError)


def test_small_udp_request_stays_on_udp() -> None:
    layer = TransactionLayer(CounterIds())
    dest = Address("udp", "192.0.2.2", 5070)
    layer.send_request(request("MESSAGE", body=b"x" * 100), dest, 0.0)
    [datagram] = layer.datagrams_to_send()
    assert datagram.address == dest and parse_message(datagram.data).via.transport == "UDP"


def test_send_request_fills_a_missing_branch_and_refuses_ack_and_reuse() -> None:
    layer = TransactionLayer(CounterIds("q"))
    dest = Address("udp", "192.0.2.2", 5070)
    key = layer.send_request(request(via="SIP/2.0/UDP 192.0.2.1:5060"), dest, 0.0)
    assert key == "z9hG4bKq1|INVITE"
    assert parse_message(layer.datagrams_to_send()[0].data).via.branch == "z9hG4bKq1"
    with pytest.raises(LocalProtocolError):
        layer.send_request(request("ACK"), dest, 0.0)
    layer.send_request(request(), dest, 0.0)
    with pytest.raises(LocalProtocolError):
        layer.send_request(request(), dest, 0.0)
    layer.send_stateless(request("ACK"), dest)
    [ack] = layer.datagrams_to_send()[1:]
    assert ack.key is None and ack.address == dest


def test_response_matches_by_branch_and_cseq_method() -> None:
    layer = TransactionLayer(CounterIds())
    dest = Address("udp", "192.0.2.2", 5070)
    invite = request()
    invite_key = layer.send_request(invite, dest, 0.0)
    cancel_key = layer.send_request(make_cancel(invite), dest, 0.1)
    assert invite_key != cancel_key
    ok = make_response(make_cancel(invite), 200, to_tag="b1")
    layer.receive_message(ok, dest, 0.2)
    [event] = events(layer)[:1]
    assert getattr(event, "key", None) == cancel_key
    unknown = make_response(request(via="SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnone"), 200)
    layer.receive_message(unknown, dest, 0.3)
    assert events(layer) == [StrayResponse(unknown, dest)]


def test_timer_heap_cancels_lazily_and_compacts() -> None:
    heap: TimerHeap[str] = TimerHeap()
    heap.start("t1", "A", 5.0)
    heap.start("t1", "A", 1.0)  # restart replaces
    heap.start("t2", "B", 2.0)
    heap.cancel("t2", "B")
    assert len(heap) == 1 and heap.next_deadline() == 1.0
    assert heap.pop_due(0.5) is None
    assert heap.pop_due(10.0) == ("t1", "A", 1.0)
    assert heap.pop_due(10.0) is None and heap.next_deadline() is None
    for i in range(5000):
        heap.start(f"x{i}", "B", 100.0)
        heap.cancel(f"x{i}", "B")
    assert len(heap) == 0 and len(heap._heap) < 2048


def test_stamping_touches_only_the_top_via_of_a_via_list() -> None:
    layer = TransactionLayer(CounterIds())
    via = ("SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bKtop, "
           "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKlower")
    nat = Address("udp", "203.0.113.7", 40123)
    req, target = response_target(layer, via, nat)
    assert [v.param("received") for v in req.vias] == ["203.0.113.7", None]
    assert req.vias[1].branch == "z9hG4bKlower" and target == nat


@pytest.mark.parametrize("name", ["inv2543", "badbranch"])
def test_rfc_4475_requests_without_a_usable_branch_match_their_retransmissions(
        name: str) -> None:
    path = RFC4475 / f"{name}.sip"
    if not path.exists():
        pytest.skip(f"RFC 4475 corpus not found at {path}")
    data = path.read_bytes()
    layer = TransactionLayer(CounterIds())
    source = Address("udp", "192.0.2.77", 5060)
    message = parse_message(data)
    assert isinstance(message, Request)
    event = receive(layer, message, source)
    assert event.key.startswith("2543|")
    assert event.request.via.param("received") == "192.0.2.77"
    layer.receive_message(parse_message(data), source, 0.5)
    assert events(layer) == [] and len(layer) == 1
    layer.send_response(event.key, make_response(event.request, 400, to_tag="t"), 0.6)
    [datagram] = layer.datagrams_to_send()[-1:]
    assert datagram.address == Address("udp", "192.0.2.77", 5060)


@pytest.mark.parametrize("via", [
    "SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bKs1",
    "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKs2;rport",
    "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKs3;RPORT",
    "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKs4 ; rport",
    "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKs5",
    "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKs6;received=10.9.9.9;rport",
    'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKs7;x=";rport";rport',
    "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKs8;rport, SIP/2.0/TCP proxy.example;branch=z9hG4bKp",
])
def test_stamped_via_text_and_view_agree(via: str) -> None:
    source = Address("udp", "203.0.113.7", 40123)
    original = request(via=via)
    stamped, top = stamp_via(original, source)
    expected = original.via.with_params(
        received=source.host, **({"rport": "40123"} if original.via.param("rport") == "" else {}))
    assert dict(top.params) == {n.lower(): v for n, v in expected.params}
    assert stamped.via is top
    reparsed = parse_message(bytes(stamped))
    assert isinstance(reparsed, Request)
    assert reparsed.via == top and reparsed.vias[1:] == original.vias[1:]
    assert [n for n, _ in reparsed.headers] == [n for n, _ in original.headers] + [
        "Content-Length"]
    assert reparsed.call_id == original.call_id and reparsed.cseq == original.cseq
