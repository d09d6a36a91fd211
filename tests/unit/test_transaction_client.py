"""Client transactions (RFC 3261 §17.1, RFC 6026 §8.4) on a fake clock."""

from __future__ import annotations

import pytest

from sipstack.errors import LocalProtocolError
from sipstack.events import Address, CounterIds, Datagram
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message
from sipstack.timers import TimerValues
from sipstack.transaction import (
    ResponseReceived,
    StrayResponse,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
)
from sipstack.transaction.base import (
    CancelTimer,
    Deliver,
    Receive,
    StartTimer,
    TimerFired,
    Transmit,
)
from sipstack.transaction.client_invite import ClientInviteTransaction

UAS = Address("udp", "192.0.2.2", 5070)
UAS_TCP = Address("tcp", "192.0.2.2", 5070)


def request(method: str = "INVITE", transport: str = "UDP") -> Request:
    return Request.build(method, "sip:bob@192.0.2.2:5070", [
        ("Via", f"SIP/2.0/{transport} 192.0.2.1:5060;branch=z9hG4bKclient1"),
        ("Max-Forwards", "70"), ("From", "<sip:alice@192.0.2.1>;tag=a1"),
        ("To", "<sip:bob@192.0.2.2>"), ("Call-ID", "call-1@192.0.2.1"),
        ("CSeq", f"1 {method}"),
    ])


def events(layer: TransactionLayer) -> list[object]:
    out: list[object] = []
    while (event := layer.next_event()) is not None:
        out.append(event)
    return out


def send_times(layer: TransactionLayer, until: float) -> list[float]:
    """Run every timer up to ``until``; the times at which datagrams left."""
    times = []
    while (deadline := layer.get_timer()) is not None and deadline <= until:
        layer.handle_timer(deadline)
        if layer.datagrams_to_send():
            times.append(deadline)
    return times


def reply(req: Request, status: int) -> Response:
    return make_response(req, status, to_tag=None if status == 100 else "b1")


def test_timer_a_doubles_without_cap_until_timer_b() -> None:
    layer = TransactionLayer(CounterIds())
    key = layer.send_request(request(), UAS, 0.0)
    assert [d.address for d in layer.datagrams_to_send()] == [UAS]
    assert send_times(layer, 31.9) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    layer.handle_timer(32.0)
    assert events(layer) == [TransactionTimeout(key, "INVITE", "B"),
                             TransactionTerminated(key)]
    assert len(layer) == 0 and layer.get_timer() is None


def test_reliable_invite_is_never_retransmitted_but_times_out() -> None:
    layer = TransactionLayer(CounterIds())
    key = layer.send_request(request(transport="TCP"), UAS_TCP, 0.0)
    assert len(layer.datagrams_to_send()) == 1
    assert layer.get_timer() == 32.0
    layer.handle_timer(32.0)
    assert layer.datagrams_to_send() == []
    assert TransactionTimeout(key, "INVITE", "B") in events(layer)


def test_provisional_stops_invite_retransmissions() -> None:
    layer = TransactionLayer(CounterIds())
    req = request()
    key = layer.send_request(req, UAS, 0.0)
    layer.datagrams_to_send()
    layer.receive_message(reply(req, 180), UAS, 0.2)
    assert [type(e) for e in events(layer)] == [ResponseReceived]
    assert layer.state_of(key) == "Proceeding"
    assert layer.get_timer() is None


def test_timer_e_doubles_up_to_t2_then_timer_f() -> None:
    layer = TransactionLayer(CounterIds())
    key = layer.send_request(request("OPTIONS"), UAS, 0.0)
    layer.datagrams_to_send()
    assert send_times(layer, 31.9) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    layer.handle_timer(32.0)
    assert events(layer) == [TransactionTimeout(key, "OPTIONS", "F"),
                             TransactionTerminated(key)]
    assert len(layer) == 0


def test_timer_e_becomes_t2_after_a_provisional() -> None:
    layer = TransactionLayer(CounterIds())
    req = request("OPTIONS")
    key = layer.send_request(req, UAS, 0.0)
    layer.datagrams_to_send()
    layer.receive_message(reply(req, 100), UAS, 0.2)
    assert layer.state_of(key) == "Proceeding"
    # The E already armed fires at 0.5, then every T2.
    assert send_times(layer, 13.0) == [0.5, 4.5, 8.5, 12.5]


def test_non_invite_final_response_then_timer_k_absorbs_retransmissions() -> None:
    layer = TransactionLayer(CounterIds())
    req = request("OPTIONS")
    key = layer.send_request(req, UAS, 0.0)
    layer.receive_message(reply(req, 200), UAS, 1.0)
    assert events(layer) == [ResponseReceived(key, reply(req, 200))]
    assert layer.state_of(key) == "Completed"
    layer.receive_message(reply(req, 200), UAS, 2.0)
    assert events(layer) == []
    assert layer.get_timer() == 1.0 + 5.0  # K = T4
    layer.handle_timer(6.0)
    assert events(layer) == [TransactionTerminated(key)]
    assert len(layer) == 0


def test_reliable_non_invite_terminates_on_final_response() -> None:
    layer = TransactionLayer(CounterIds())
    req = request("BYE", transport="TCP")
    key = layer.send_request(req, UAS_TCP, 0.0)
    layer.receive_message(reply(req, 200), UAS_TCP, 0.1)
    assert events(layer) == [ResponseReceived(key, reply(req, 200)), TransactionTerminated(key)]
    assert len(layer) == 0 and layer.get_timer() is None


def test_ack_for_non_2xx_is_built_and_resent_for_each_retransmission() -> None:
    layer = TransactionLayer(CounterIds())
    req = request()
    key = layer.send_request(req, UAS, 0.0)
    layer.datagrams_to_send()
    busy = reply(req, 486)
    layer.receive_message(busy, UAS, 1.0)
    assert events(layer) == [ResponseReceived(key, busy)]
    [ack_datagram] = layer.datagrams_to_send()
    ack = parse_message(ack_datagram.data)
    assert isinstance(ack, Request) and ack.method == "ACK"
    assert ack_datagram.address == UAS and ack_datagram.key == key
    assert ack.via.branch == "z9hG4bKclient1" and len(ack.vias) == 1
    assert ack.to.tag == "b1" and ack.from_.tag == "a1"
    assert str(ack.cseq) == "1 ACK" and ack.call_id == req.call_id
    assert str(ack.uri) == str(req.uri)
    for t in (2.0, 3.0):
        layer.receive_message(busy, UAS, t)
        assert layer.datagrams_to_send() == [ack_datagram]
        assert events(layer) == []
    assert layer.get_timer() == 1.0 + 32.0  # Timer D
    layer.handle_timer(33.0)
    assert events(layer) == [TransactionTerminated(key)]
    assert len(layer) == 0


def test_2xx_moves_to_accepted_and_every_2xx_reaches_the_tu_until_timer_m() -> None:
    layer = TransactionLayer(CounterIds())
    req = request()
    key = layer.send_request(req, UAS, 0.0)
    ok = reply(req, 200)
    layer.receive_message(ok, UAS, 1.0)
    layer.receive_message(ok, UAS, 1.5)
    assert events(layer) == [ResponseReceived(key, ok), ResponseReceived(key, ok)]
    assert layer.state_of(key) == "Accepted"
    layer.datagrams_to_send()
    assert layer.get_timer() == 1.0 + 32.0  # Timer M
    layer.handle_timer(33.0)
    assert events(layer) == [TransactionTerminated(key)]
    layer.receive_message(ok, UAS, 34.0)
    assert events(layer) == [StrayResponse(ok, UAS)]
    assert layer.datagrams_to_send() == [] and len(layer) == 0


def test_transport_error_terminates_a_client_transaction() -> None:
    layer = TransactionLayer(CounterIds())
    key = layer.send_request(request(), UAS, 0.0)
    [datagram] = layer.datagrams_to_send()
    assert datagram == Datagram(datagram.data, UAS, key)
    layer.transport_error(key, 0.1)
    assert events(layer) == [TransportError(key), TransactionTerminated(key)]
    assert len(layer) == 0 and layer.get_timer() is None
    layer.transport_error(key, 0.2)  # a late report for a finished transaction
    assert events(layer) == []


def test_late_timer_call_keeps_the_schedule() -> None:
    layer = TransactionLayer(CounterIds())
    layer.send_request(request(), UAS, 0.0)
    layer.datagrams_to_send()
    layer.handle_timer(4.0)  # fires A at 0.5, 1.5 and 3.5 in one go
    assert len(layer.datagrams_to_send()) == 3
    assert layer.get_timer() == 7.5


def test_state_machine_entry_returns_effects_and_rejects_impossible_inputs() -> None:
    req = request()
    tx = ClientInviteTransaction("k", req, bytes(req), UAS, TimerValues())
    assert tx.start(0.0) == [Transmit(bytes(req), UAS), StartTimer("A", 0.5),
                             StartTimer("B", 32.0)]
    assert tx.handle(TimerFired("A"), 0.5) == [Transmit(bytes(req), UAS), StartTimer("A", 1.0)]
    ringing = reply(req, 180)
    assert tx.handle(Receive(ringing), 0.6) == [CancelTimer("A"), CancelTimer("B"),
                                                Deliver(ringing)]
    with pytest.raises(LocalProtocolError):
        tx.handle(TimerFired("D"), 1.0)  # no Timer D outside Completed
