"""SIP stack micro-benchmarks on one core, no sockets.

- parse + serialise of a typical INVITE with SDP (messages/s); every INVITE
  carries its own branch, From tag, Call-ID and CSeq number, as on a wire;
- a full INVITE transaction exchange (transactions/s): a client and a server
  transaction layer exchange INVITE, 100, 180, 200 and the ACK for the 2xx as
  bytes through ``parse_message``, as they would over a socket;
- the same exchange in memory: the layers still serialise what they send, but
  the receiving layer is handed the sender's message object (parse skipped);
  the TU sends the 100 (Trying) itself so that every message is one it holds.

Each exchange has its own branches, tags, Call-ID and CSeq number, so values
parsed for one call cannot be reused by the next; the two peers (sent-by,
caller and callee addresses, Request-URI) stay the same, as between a phone
and a switch. Both layers live in one process here, so the text memos of
:mod:`sipstack.headers` are shared by the two sides: the UAC's parse of the
100 finds the From and CSeq the UAS parsed, the UAS's parse of the ACK finds
the To the UAC parsed (a few microseconds of some 200 per exchange).

Run: ``python -m bench.bench_sipstack [--quick] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import write_report
from sipstack.events import Address, CounterIds
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message
from sipstack.transaction.base import RequestReceived, ResponseReceived
from sipstack.transaction.layer import TransactionLayer
from sipstack.transport.loop import tune_gc

INVITE_HEAD = (
    b"INVITE sip:102@192.0.2.10:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: <sip:102@example.com>\r\n"
    b'From: "Alice" <sip:101@example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:101@192.0.2.1:5060;transport=udp>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, REFER\r\n"
    b"Supported: replaces, timer\r\n"
    b"User-Agent: Yealink SIP-T46U 108.86.0.20\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: %d\r\n\r\n"
)
SDP = (
    b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\n"
    b"c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
)
INVITE = INVITE_HEAD % len(SDP) + SDP
# Every parsed INVITE is a new one (branch, From tag, Call-ID): the figure
# must not profit from values remembered from an earlier message.
INVITE_FORMAT = (
    INVITE.replace(b"%", b"%%").replace(b"z9hG4bK776asdhds", b"z9hG4bK%09d")
    .replace(b"tag=1928301774", b"tag=%010d").replace(b"a84b4c76e66710@", b"%014d@")
    .replace(b"CSeq: 314159", b"CSeq: %06d")
)


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls of ``fn`` per second over about ``seconds`` (best of 3 runs)."""
    n = 100
    while True:  # calibrate
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed > 0.2:
            break
        n *= 2
    n = max(1, int(n * seconds / 3 / elapsed))
    best = 0.0
    gc.collect()
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = max(best, n / (time.perf_counter() - start))
    return best


class Cycle:
    """Parse (and serialise) a new INVITE on each call."""

    def __init__(self, serialise: bool) -> None:
        self.i = 0
        self.serialise = serialise

    def __call__(self) -> None:
        i = self.i = self.i + 1
        message = parse_message(INVITE_FORMAT % (i, i, i, i % 1000000))
        if self.serialise:
            bytes(message)


class Exchange:
    """A UAC layer and a UAS layer wired back to back through bytes (or, with
    ``in_memory``, through the message objects)."""

    def __init__(self, in_memory: bool = False) -> None:
        self.in_memory = in_memory
        self.uac = TransactionLayer(CounterIds("c"))
        self.uas = TransactionLayer(CounterIds("s"), send_trying=not in_memory)
        self.uac_addr = Address("udp", "192.0.2.1", 5060)
        self.uas_addr = Address("udp", "192.0.2.10", 5060)
        self.n = 0
        self.now = 0.0
        template = parse_message(INVITE)
        assert isinstance(template, Request)
        self.template = template
        self.fields = [(n, v) for n, v in self.template.headers
                       if n not in ("Via", "From", "Call-ID", "CSeq", "Content-Length")]

    def _carry(self, src: TransactionLayer, dst: TransactionLayer, addr: Address,
               message: Request | Response) -> None:
        """Move what ``src`` sent (one datagram: ``message``) to ``dst``."""
        datagrams = src.datagrams_to_send()
        for dgram in datagrams:
            received = message if self.in_memory else parse_message(dgram.data)
            dst.receive_message(received, addr, self.now)
        assert len(datagrams) == 1

    def _invite(self) -> Request:
        n = self.n
        template = self.template
        return Request.build("INVITE", template.uri, [
            ("Via", f"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb{n};rport"),
            ("From", f'"Alice" <sip:101@example.com>;tag=a{n}'),
            ("Call-ID", f"{n}-a84b4c76e66710@pc33.example.com"),
            ("CSeq", f"{n} INVITE"), *self.fields], template.body)

    def run_one(self) -> None:
        self.n += 1
        self.now += 0.001
        invite = self._invite()
        self.uac.send_request(invite, self.uas_addr, self.now)
        self._carry(self.uac, self.uas, self.uac_addr, invite)
        event = self.uas.next_event()
        assert isinstance(event, RequestReceived)
        key, request = event.key, event.request
        if self.in_memory:  # the TU sends the 100 (Trying) itself
            trying = make_response(request, 100)
            self.uas.send_response(key, trying, self.now)
            self._carry(self.uas, self.uac, self.uas_addr, trying)
        else:
            self._carry(self.uas, self.uac, self.uas_addr, request)
        to_tag = f"as{self.n}"
        for status in (180, 200):
            response = make_response(request, status, to_tag=to_tag)
            self.uas.send_response(key, response, self.now)
            self._carry(self.uas, self.uac, self.uas_addr, response)
        final = self._last_response()
        ack = Request.build("ACK", request.uri, [
            ("Via", f"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa{self.n}"),
            ("From", request.headers.get("From") or ""),
            ("To", final.headers.get("To") or ""),
            ("Call-ID", request.call_id), ("CSeq", f"{request.cseq.seq} ACK"),
            ("Max-Forwards", "70")])
        self.uac.send_stateless(ack, self.uas_addr)
        self._carry(self.uac, self.uas, self.uac_addr, ack)
        while self.uas.next_event() is not None:
            pass

    def _last_response(self) -> Response:
        last = None
        while (event := self.uac.next_event()) is not None:
            if isinstance(event, ResponseReceived):
                last = event.response
        assert last is not None and last.status == 200
        return last

    def drain_timers(self) -> None:
        """Let Timer L/M and friends run out so the tables stay small."""
        self.now += 64.0
        self.uac.handle_timer(self.now)
        self.uas.handle_timer(self.now)
        while self.uac.next_event() is not None or self.uas.next_event() is not None:
            pass


def transactions_rate(seconds: float, in_memory: bool = False) -> float:
    exchange = Exchange(in_memory)
    count = 0

    def one() -> None:
        nonlocal count
        exchange.run_one()
        count += 1
        if count % 1000 == 0:
            exchange.drain_timers()

    return rate(one, seconds)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (smoke check)")
    parser.add_argument("--out", type=Path, help="where to write the JSON")
    args = parser.parse_args(argv)
    seconds = 0.5 if args.quick else 6.0
    default_gc = {
        "invite_transactions_per_s": round(transactions_rate(seconds)),
        "invite_transactions_in_memory_per_s": round(transactions_rate(seconds, True)),
    }
    tune_gc()  # what `softswitch run` does at start-up
    figures = {
        "invite_bytes": len(INVITE),
        "parse_serialise_per_s": round(rate(Cycle(serialise=True), seconds)),
        "parse_only_per_s": round(rate(Cycle(serialise=False), seconds)),
        "invite_transactions_per_s": round(transactions_rate(seconds)),
        "invite_transactions_in_memory_per_s": round(transactions_rate(seconds, True)),
        "gc": "tuned as softswitch run does (sipstack.transport.tune_gc)",
        "with_default_gc": default_gc,
        "quick": args.quick,
    }
    path = write_report("sipstack", figures, args.out)
    print(path.read_text())
    return path


if __name__ == "__main__":
    main()
