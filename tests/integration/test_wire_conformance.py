"""F-SIP-1 on the wire: every RFC 4475 / RFC 5118 message sent to a running
stack over UDP (and the valid ones over TCP one byte at a time) gets the
answer INDEX.md asks for, or none where it says to discard; the stack stays
alive (OPTIONS still answered) after all of them.
"""

from __future__ import annotations

import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from stack_peer import StackPeer

from sipstack.parser import parse_message

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from corpus_table import APP, CORPUS, PARSE, Ok

pytestmark = pytest.mark.integration

FILES = sorted(PARSE)
# What the stack peer does with a request nothing refuses (its own policy).
BEHAVIOUR = {"REGISTER": 401, "INVITE": 486, "OPTIONS": 200, "CANCEL": 481}
ALLOWED = {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER"}
KNOWN = ALLOWED | {"PRACK", "UPDATE", "INFO", "REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE",
                   "PUBLISH"}


# Where the wire answer differs from the parser's status_hint.
WIRE = {
    # No Via at all: there is nowhere to send a response, so it is dropped
    # (INDEX.md: "reject (400) or drop; must not crash").
    "rfc4475/test": None,
}


def expected(name: str, data: bytes) -> int | None:
    """The final status the stack must answer with (None: no answer)."""
    if name in WIRE:
        return WIRE[name]
    outcome = PARSE[name]
    if not isinstance(outcome, Ok):
        return outcome
    if data.lstrip(b"\r\n")[:4].upper() == b"SIP/":
        return None  # a response: nothing answers a response
    method = data.split(b" ", 1)[0].decode()
    if method in KNOWN and method not in ALLOWED:
        return 405  # §8.2.1 comes before every other check
    profile = "registrar" if method == "REGISTER" else "uas"
    app = APP.get((name, profile))
    if app is not None:
        return app if isinstance(app, int) else app[0]
    request = parse_message(data)
    if request.to.tag is not None and method != "ACK":
        return 481  # in-dialog request for a dialog this stack never had (§12.2.2)
    return BEHAVIOUR.get(method, 405)


@pytest.fixture
def stack() -> Iterator[StackPeer]:
    # A fresh stack per message: several corpus files reuse one branch and
    # sent-by, which a live server transaction rightly treats as retransmissions.
    with StackPeer({"101": "demo101"}, reject_calls=486) as peer:
        yield peer


def final_status(sock: socket.socket, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except TimeoutError:
            return None
        # A stream read may hold several responses (100 Trying, then the final).
        for match in re.finditer(rb"(?:^|\r\n\r\n)SIP/2\.0 (\d{3}) ", data):
            status = int(match.group(1))
            if status >= 200:
                return status
    return None


@pytest.mark.parametrize("name", FILES)
def test_udp_answer_matches_index(stack: StackPeer, name: str) -> None:
    data = (CORPUS / f"{name}.sip").read_bytes()
    want = expected(name, data)
    assert stack.address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.sendto(data, ("127.0.0.1", stack.address.port))
        got = final_status(sock, 1.0 if want is not None else 0.4)
    assert got == want, f"{name}: expected {want}, got {got}"


def _options(port: int) -> bytes:
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKlive{time.monotonic_ns()}\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\n"
            f"To: <sip:127.0.0.1:{port}>\r\nCall-ID: live{time.monotonic_ns()}@probe\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


def _tcp_status(port: int, data: bytes, byte_by_byte: bool) -> int | None:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        if byte_by_byte:
            for i in range(len(data)):
                sock.sendall(data[i:i + 1])
        else:
            sock.sendall(data)
        return final_status(sock, 1.5)


VALID_REQUESTS = [n for n in FILES if isinstance(PARSE[n], Ok)
                  and expected(n, (CORPUS / f"{n}.sip").read_bytes()) is not None
                  and b"Content-Length" in (CORPUS / f"{n}.sip").read_bytes()]


@pytest.mark.parametrize("name", VALID_REQUESTS)
def test_tcp_one_byte_writes_get_the_same_answer(stack: StackPeer, name: str) -> None:
    data = (CORPUS / f"{name}.sip").read_bytes()
    assert stack.address is not None
    assert _tcp_status(stack.address.port, data, byte_by_byte=True) == expected(name, data)


@pytest.mark.parametrize("name", ["rfc4475/ncl", "rfc4475/mcl01"])
def test_tcp_framing_error_closes_only_that_connection(stack: StackPeer, name: str) -> None:
    assert stack.address is not None
    port = stack.address.port
    data = (CORPUS / f"{name}.sip").read_bytes()
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(data)
        sock.settimeout(2)
        assert sock.recv(65535) == b""  # closed: the stream cannot be resynchronised
    assert _tcp_status(port, _options(port), byte_by_byte=False) == 200


def test_still_alive_after_the_corpus(stack: StackPeer) -> None:
    assert stack.address is not None
    port = stack.address.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        for path in sorted(CORPUS.rglob("*.sip")):
            sock.sendto(path.read_bytes(), ("127.0.0.1", port))
        sock.sendto(_options(port).replace(b"TCP", b"UDP"), ("127.0.0.1", port))
        deadline = time.monotonic() + 3
        seen = set()
        while time.monotonic() < deadline:
            sock.settimeout(0.5)
            try:
                data = sock.recv(65535)
            except TimeoutError:
                continue
            if b"CSeq: 1 OPTIONS" in data and b"probe" in data:
                seen.add(int(data[8:11]))
                break
        assert seen == {200}
