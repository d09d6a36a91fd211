"""Server transactions (RFC 3261 §17.2, RFC 6026 §8.5-8.7) on a fake clock."""

from __future__ import annotations

import pytest

from sipstack.errors import LocalProtocolError
from sipstack.events import Address, CounterIds
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message
from sipstack.transaction import (
    AckReceived,
    RequestReceived,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
)

UAC = Address("udp", "192.0.2.1", 5060)
UAC_TCP = Address("tcp", "192.0.2.1", 40000)


def request(method: str = "INVITE", transport: str = "UDP",
            branch: str = "z9hG4bKsrv1") -> Request:
    return Request.build(method, "sip:bob@192.0.2.2:5070", [
        ("Via", f"SIP/2.0/{transport} 192.0.2.1:5060;branch={branch}"),
        ("Max-Forwards", "70"), ("From", "<sip:alice@192.0.2.1>;tag=a1"),
        ("To", "<sip:bob@192.0.2.2>"), ("Call-ID", "call-1@192.0.2.1"),
        ("CSeq", f"1 {method}"),
    ])


def ack_for(response: Response, branch: str = "z9hG4bKsrv1") -> Request:
    return Request.build("ACK", "sip:bob@192.0.2.2:5070", [
        ("Via", f"SIP/2.0/UDP 192.0.2.1:5060;branch={branch}"),
        ("Max-Forwards", "70"), ("From", "<sip:alice@192.0.2.1>;tag=a1"),
        ("To", response.headers.get("To") or ""), ("Call-ID", "call-1@192.0.2.1"),
        ("CSeq", "1 ACK"),
    ])


def events(layer: TransactionLayer) -> list[object]:
    out: list[object] = []
    while (event := layer.next_event()) is not None:
        out.append(event)
    return out


def receive(layer: TransactionLayer, req: Request, source: Address = UAC,
            now: float = 0.0) -> RequestReceived:
    layer.receive_message(req, source, now)
    [event] = events(layer)
    assert isinstance(event, RequestReceived)
    return event


def statuses(layer: TransactionLayer) -> list[int]:
    out = []
    for datagram in layer.datagrams_to_send():
        message = parse_message(datagram.data)
        assert isinstance(message, Response)
        out.append(message.status)
    return out


def test_invite_gets_100_and_retransmissions_get_the_last_provisional() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request())
    assert statuses(layer) == [100]
    layer.receive_message(request(), UAC, 0.3)
    assert statuses(layer) == [100] and events(layer) == []
    layer.send_response(event.key, make_response(event.request, 180, to_tag="b1"), 0.4)
    assert statuses(layer) == [180]
    layer.receive_message(request(), UAC, 0.5)
    assert statuses(layer) == [180] and events(layer) == []


def test_send_trying_off_leaves_the_100_to_the_tu() -> None:
    layer = TransactionLayer(CounterIds(), send_trying=False)
    receive(layer, request())
    assert layer.datagrams_to_send() == []
    layer.receive_message(request(), UAC, 0.3)  # nothing to repeat yet
    assert layer.datagrams_to_send() == [] and events(layer) == []


def test_timer_g_doubles_up_to_t2_and_timer_h_reports_the_missing_ack() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request())
    layer.send_response(event.key, make_response(event.request, 486, to_tag="b1"), 0.0)
    assert statuses(layer) == [100, 486]
    times = []
    while (deadline := layer.get_timer()) is not None and deadline < 32.0:
        layer.handle_timer(deadline)
        assert statuses(layer) == [486]
        times.append(deadline)
    assert times == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    layer.handle_timer(32.0)
    assert events(layer) == [TransactionTimeout(event.key, "INVITE", "H"),
                             TransactionTerminated(event.key)]
    assert len(layer) == 0


def test_ack_for_non_2xx_is_absorbed_then_timer_i_ends_the_transaction() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request())
    busy = make_response(event.request, 486, to_tag="b1")
    layer.send_response(event.key, busy, 0.0)
    layer.datagrams_to_send()
    layer.receive_message(request(), UAC, 0.2)  # INVITE retransmission in Completed
    assert statuses(layer) == [486]
    layer.receive_message(ack_for(busy), UAC, 1.0)
    assert events(layer) == [] and layer.state_of(event.key) == "Confirmed"
    layer.receive_message(ack_for(busy), UAC, 2.0)
    layer.receive_message(request(), UAC, 2.0)
    assert events(layer) == [] and layer.datagrams_to_send() == []
    assert layer.get_timer() == 1.0 + 5.0  # Timer I = T4, G and H cancelled
    layer.handle_timer(6.0)
    assert events(layer) == [TransactionTerminated(event.key)] and len(layer) == 0


def test_reliable_invite_server_has_no_g_and_zero_i() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request(transport="TCP"), UAC_TCP)
    busy = make_response(event.request, 486, to_tag="b1")
    layer.send_response(event.key, busy, 0.0)
    assert [d.address for d in layer.datagrams_to_send()] == [UAC_TCP, UAC_TCP]
    assert layer.get_timer() == 32.0  # only H
    layer.receive_message(ack_for(busy), UAC_TCP, 0.1)
    assert events(layer) == [TransactionTerminated(event.key)] and len(layer) == 0


def test_2xx_moves_to_accepted_where_invites_are_absorbed_and_acks_reach_the_tu() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request())
    ok = make_response(event.request, 200, to_tag="b1")
    layer.send_response(event.key, ok, 0.0)
    assert statuses(layer) == [100, 200]
    assert layer.state_of(event.key) == "Accepted"
    assert layer.get_timer() == 32.0  # Timer L, and no G: 2xx retransmission is the TU's
    layer.receive_message(request(), UAC, 0.5)
    assert layer.datagrams_to_send() == [] and events(layer) == []
    layer.send_response(event.key, ok, 0.5)  # the TU retransmits its 2xx
    assert statuses(layer) == [200]
    ack = ack_for(ok, branch="z9hG4bKack2")  # ACK for 2xx: a new branch
    layer.receive_message(ack, UAC, 1.0)
    same_branch_ack = ack_for(ok)
    layer.receive_message(same_branch_ack, UAC, 1.0)
    received = events(layer)
    assert [type(e) for e in received] == [AckReceived, AckReceived]
    assert layer.state_of(event.key) == "Accepted"
    layer.handle_timer(32.0)
    assert events(layer) == [TransactionTerminated(event.key)] and len(layer) == 0


def test_final_response_twice_on_invite_is_a_local_error() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request())
    layer.send_response(event.key, make_response(event.request, 486, to_tag="b1"), 0.0)
    with pytest.raises(LocalProtocolError):
        layer.send_response(event.key, make_response(event.request, 200, to_tag="b1"), 0.0)
    with pytest.raises(LocalProtocolError):
        layer.send_response("no-such-key", make_response(event.request, 200), 0.0)


def test_non_invite_server_trying_proceeding_completed_timer_j() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request("OPTIONS"))
    layer.receive_message(request("OPTIONS"), UAC, 0.1)  # Trying: discarded
    assert layer.datagrams_to_send() == [] and events(layer) == []
    layer.send_response(event.key, make_response(event.request, 100), 0.2)
    layer.receive_message(request("OPTIONS"), UAC, 0.3)
    assert statuses(layer) == [100, 100]
    layer.send_response(event.key, make_response(event.request, 200, to_tag="b1"), 1.0)
    layer.receive_message(request("OPTIONS"), UAC, 2.0)
    assert statuses(layer) == [200, 200]
    layer.send_response(event.key, make_response(event.request, 500, to_tag="b1"), 2.0)
    assert layer.datagrams_to_send() == []  # §17.2.2: discarded in Completed
    assert layer.get_timer() == 1.0 + 32.0  # Timer J = 64*T1
    layer.handle_timer(33.0)
    assert events(layer) == [TransactionTerminated(event.key)] and len(layer) == 0


def test_reliable_non_invite_server_terminates_with_the_final_response() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request("BYE", transport="TCP"), UAC_TCP)
    layer.send_response(event.key, make_response(event.request, 200, to_tag="b1"), 0.0)
    assert [d.address for d in layer.datagrams_to_send()] == [UAC_TCP]
    assert events(layer) == [TransactionTerminated(event.key)] and len(layer) == 0


def test_transport_error_terminates_a_server_transaction() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request())
    [datagram] = layer.datagrams_to_send()
    assert datagram.key == event.key
    layer.transport_error(event.key, 0.1)
    assert events(layer) == [TransportError(event.key), TransactionTerminated(event.key)]
    assert len(layer) == 0


def test_impossible_pair_raises() -> None:
    layer = TransactionLayer(CounterIds())
    event = receive(layer, request("OPTIONS"))
    with pytest.raises(LocalProtocolError):
        layer.transport_error(event.key, 0.0)  # nothing was sent in Trying
