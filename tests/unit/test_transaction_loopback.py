"""A client layer and a server layer talking through bytes and the parser.

Run as a script to measure full INVITE exchanges per second on one core:
``python tests/unit/test_transaction_loopback.py``.
"""

from __future__ import annotations

from sipstack.events import Address, CounterIds
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message
from sipstack.transaction import (
    AckReceived,
    RequestReceived,
    ResponseReceived,
    TransactionLayer,
    TransactionTerminated,
)

ALICE = Address("udp", "127.0.0.1", 5060)
BOB = Address("udp", "127.0.0.2", 5070)


def pump(sender: TransactionLayer, receiver: TransactionLayer, source: Address,
         now: float) -> int:
    datagrams = sender.datagrams_to_send()
    for datagram in datagrams:
        receiver.receive_message(parse_message(datagram.data), source, now)
    return len(datagrams)


def drain(layer: TransactionLayer) -> list[object]:
    out: list[object] = []
    while (event := layer.next_event()) is not None:
        out.append(event)
    return out


def invite(n: int) -> Request:
    return Request.build("INVITE", "sip:bob@127.0.0.2:5070", [
        ("Via", f"SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKloop{n}"),
        ("Max-Forwards", "70"), ("From", f"<sip:alice@127.0.0.1>;tag=a{n}"),
        ("To", "<sip:bob@127.0.0.2>"), ("Call-ID", f"loop-{n}@127.0.0.1"),
        ("CSeq", "1 INVITE"), ("Contact", "<sip:alice@127.0.0.1:5060>"),
    ])


def ack_for_2xx(req: Request, ok: Response) -> Request:
    """What the dialog layer sends for a 2xx (§13.2.2.4): a new branch."""
    return Request.build("ACK", req.uri, [
        ("Via", f"SIP/2.0/UDP 127.0.0.1:5060;rport;branch={req.via.branch}-ack"),
        ("Max-Forwards", "70"), ("From", req.headers.get("From") or ""),
        ("To", ok.headers.get("To") or ""), ("Call-ID", req.call_id),
        ("CSeq", f"{req.cseq.seq} ACK"),
    ])


def exchange(uac: TransactionLayer, uas: TransactionLayer, n: int, final: int,
             now: float = 0.0) -> tuple[list[object], list[object]]:
    """INVITE, 100, 180, final; the ACK (stateless for a 2xx)."""
    uac_events: list[object] = []
    uas_events: list[object] = []
    req = invite(n)
    uac.send_request(req, BOB, now)
    pump(uac, uas, ALICE, now)
    event = uas.next_event()
    assert isinstance(event, RequestReceived)
    uas_events.append(event)
    uas.send_response(event.key, make_response(event.request, 180, to_tag=f"b{n}"), now)
    uas.send_response(event.key, make_response(event.request, final, to_tag=f"b{n}"), now)
    pump(uas, uac, BOB, now)
    uac_events += drain(uac)
    last = uac_events[-1]
    if final < 300:
        assert isinstance(last, ResponseReceived)
        uac.send_stateless(ack_for_2xx(req, last.response), BOB)
    pump(uac, uas, ALICE, now)
    uas_events += drain(uas)
    return uac_events, uas_events


def statuses(events: list[object]) -> list[int]:
    return [e.response.status for e in events if isinstance(e, ResponseReceived)]


def finish(uac: TransactionLayer, uas: TransactionLayer) -> None:
    uac.handle_timer(1000.0)
    uas.handle_timer(1000.0)


def test_invite_answered_with_200_then_acked_outside_the_transaction() -> None:
    uac, uas = TransactionLayer(CounterIds("c")), TransactionLayer(CounterIds("s"))
    uac_events, uas_events = exchange(uac, uas, 1, 200)
    assert statuses(uac_events) == [100, 180, 200]
    assert [type(e) for e in uas_events] == [RequestReceived, AckReceived]
    ack = uas_events[1]
    assert isinstance(ack, AckReceived) and ack.request.via.param("rport") == "5060"
    finish(uac, uas)
    assert [type(e) for e in drain(uac)] == [TransactionTerminated]
    assert [type(e) for e in drain(uas)] == [TransactionTerminated]
    assert len(uac) == 0 and len(uas) == 0
    assert uac.get_timer() is None and uas.get_timer() is None


def test_invite_answered_with_486_is_acked_inside_the_transaction() -> None:
    uac, uas = TransactionLayer(CounterIds("c")), TransactionLayer(CounterIds("s"))
    uac_events, uas_events = exchange(uac, uas, 2, 486)
    assert statuses(uac_events) == [100, 180, 486]
    assert [type(e) for e in uas_events] == [RequestReceived]  # ACK absorbed
    key = uas_events[0].key  # type: ignore[attr-defined]
    assert uas.state_of(key) == "Confirmed"
    finish(uac, uas)
    assert len(uac) == 0 and len(uas) == 0


def test_lost_486_is_retransmitted_and_each_copy_is_acked() -> None:
    uac, uas = TransactionLayer(CounterIds("c")), TransactionLayer(CounterIds("s"))
    uac.send_request(invite(3), BOB, 0.0)
    pump(uac, uas, ALICE, 0.0)
    event = uas.next_event()
    assert isinstance(event, RequestReceived)
    uas.send_response(event.key, make_response(event.request, 486, to_tag="b3"), 0.0)
    uas.datagrams_to_send()  # 100 and 486 lost
    uac.handle_timer(0.5)  # Timer A: INVITE again
    assert pump(uac, uas, ALICE, 0.5) == 1
    assert pump(uas, uac, BOB, 0.5) == 1  # the 486 again, for the retransmission
    assert pump(uac, uas, ALICE, 0.5) == 1  # its ACK
    assert uas.state_of(event.key) == "Confirmed"
    finish(uac, uas)
    assert len(uac) == 0 and len(uas) == 0


def test_many_exchanges_leave_empty_tables() -> None:
    uac, uas = TransactionLayer(CounterIds("c")), TransactionLayer(CounterIds("s"))
    for n in range(200):
        exchange(uac, uas, n, 200 if n % 2 else 486, now=n * 0.01)
    finish(uac, uas)
    assert len(uac) == 0 and len(uas) == 0


def measure(rounds: int = 20000) -> float:
    """Full INVITE exchanges (INVITE, 100, 180, 200, stateless ACK) per second."""
    import timeit

    uac, uas = TransactionLayer(CounterIds("c")), TransactionLayer(CounterIds("s"))
    counter = iter(range(10**9))

    def one() -> None:
        exchange(uac, uas, next(counter), 200)

    seconds = min(timeit.repeat(one, number=rounds, repeat=3))
    return rounds / seconds


if __name__ == "__main__":
    print(f"{measure():.0f} INVITE exchanges/s")
