"""The sans-IO endpoint end to end: two endpoints wired through bytes."""

from __future__ import annotations

from sipstack.dialog import Answered, Confirmed, Progress, SessionState, Terminated, ViaConfig
from sipstack.endpoint import Endpoint, EndpointConfig
from sipstack.endpoint_events import (
    IncomingCall,
    IncomingRequest,
    ResponseEvent,
    SessionEvent,
)
from sipstack.events import Address, CounterIds

A = Address("udp", "127.0.0.1", 5061)
B = Address("udp", "127.0.0.1", 5062)


def make(addr: Address, name: str) -> Endpoint:
    config = EndpointConfig(via=ViaConfig(addr.host, addr.port),
                            contact=f"<sip:{name}@{addr.host}:{addr.port}>")
    return Endpoint(CounterIds(name), config)


class Net:
    """Carries datagrams between endpoints by address, with a fake clock."""

    def __init__(self, **nodes: tuple[Endpoint, Address]) -> None:
        self.by_addr = {addr: ep for ep, addr in nodes.values()}
        self.addr_of = {id(ep): addr for ep, addr in nodes.values()}
        self.now = 0.0
        self.dropped: list[bytes] = []

    def run(self) -> None:
        moved = True
        while moved:
            moved = False
            for ep in list(self.by_addr.values()):
                for dgram in ep.datagrams_to_send():
                    moved = True
                    target = self.by_addr.get(dgram.address)
                    if target is None:
                        self.dropped.append(dgram.data)
                        continue
                    target.receive_data(dgram.data, self.addr_of[id(ep)], self.now)

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while True:
            deadlines = [t for ep in self.by_addr.values() if (t := ep.get_timer()) is not None]
            due = min(deadlines, default=None)
            if due is None or due > end:
                break
            self.now = due
            for ep in self.by_addr.values():
                ep.handle_timer(self.now)
            self.run()
        self.now = end


def events(ep: Endpoint) -> list[object]:
    out = []
    while (event := ep.next_event()) is not None:
        out.append(event)
    return out


def session_events(ep: Endpoint) -> list[object]:
    return [e.event for e in events(ep) if isinstance(e, SessionEvent)]


def test_call_answer_and_bye() -> None:
    a, b = make(A, "a"), make(B, "b")
    net = Net(a=(a, A), b=(b, B))
    session = a.invite("sip:bob@127.0.0.1:5062", net.now, from_="<sip:alice@127.0.0.1>",
                       to="<sip:bob@127.0.0.1>", body=b"v=0\r\n")
    net.run()
    [incoming] = events(b)
    assert isinstance(incoming, IncomingCall)
    uas = incoming.session
    b.answer(uas, 180, net.now)
    net.run()
    assert any(isinstance(e, Progress) for e in session_events(a))
    b.answer(uas, 200, net.now, body=b"v=0\r\n")
    net.run()
    answered = session_events(a)
    assert any(isinstance(e, Answered) for e in answered)
    assert any(isinstance(e, Confirmed) for e in session_events(b))
    a.apply(session, session.bye(), net.now)
    net.run()
    ended = [e for e in session_events(b) if isinstance(e, Terminated)]
    assert ended and ended[0].reason == "BYE"
    net.advance(40)
    assert len(a.transactions) == 0 and len(b.transactions) == 0
    assert len(a.dialogs) == 0 and len(b.dialogs) == 0


def test_options_round_trip_and_unknown_dialog() -> None:
    a, b = make(A, "a"), make(B, "b")
    net = Net(a=(a, A), b=(b, B))
    request = a.new_request("OPTIONS", "sip:127.0.0.1:5062", from_="<sip:a@127.0.0.1>",
                            to="<sip:127.0.0.1:5062>")
    key = a.send_request(request, net.now)
    net.run()
    [incoming] = events(b)
    assert isinstance(incoming, IncomingRequest)
    b.respond(incoming, 200, net.now)
    net.run()
    [response] = events(a)
    assert isinstance(response, ResponseEvent) and response.key == key
    assert response.response.status == 200
    bye = a.new_request("BYE", "sip:127.0.0.1:5062", from_="<sip:a@127.0.0.1>",
                        to="<sip:b@127.0.0.1>;tag=nosuch")
    a.send_request(bye, net.now)
    net.run()
    [gone] = events(a)
    assert isinstance(gone, ResponseEvent) and gone.response.status == 481


def test_unparsable_request_gets_stateless_400() -> None:
    b = make(B, "b")
    data = (b"INVITE sip:x@127.0.0.1 SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\r\n"
            b"From: <sip:a@x>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: 1@x\r\n"
            b"CSeq: 99999999999 INVITE\r\nContent-Length: 0\r\n\r\n")
    b.receive_data(data, A, 0.0)
    [dgram] = b.datagrams_to_send()
    assert dgram.data.startswith(b"SIP/2.0 400 ") and dgram.address == A
    assert b"Call-ID: 1@x" in dgram.data


def test_unanswered_invite_times_out_as_408() -> None:
    a = make(A, "a")
    net = Net(a=(a, A))
    session = a.invite("sip:bob@127.0.0.1:5062", net.now, from_="<sip:alice@127.0.0.1>",
                       to="<sip:bob@127.0.0.1>")
    net.run()
    net.advance(40)
    ended = [e for e in session_events(a) if isinstance(e, Terminated)]
    assert ended, "the call must end when nobody answers"
    assert session.state is SessionState.TERMINATED
