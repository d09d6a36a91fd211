"""StreamFramer: Content-Length framing on TCP/TLS, keep-alives, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipstack.errors import RemoteProtocolError, SipError
from sipstack.framing import PING, StreamFramer
from sipstack.parser import parse_message

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"


def _wire_messages() -> list[bytes]:
    """Every corpus message that parses, as we serialise it (with Content-Length)."""
    out = []
    for path in sorted(CORPUS.glob("rfc*/*.sip")):
        try:
            out.append(bytes(parse_message(path.read_bytes())))
        except SipError:
            continue
    return out


WIRE = _wire_messages()


def drain(framer: StreamFramer) -> list[bytes]:
    out = []
    while (message := framer.next_message()) is not None:
        out.append(message)
    return out


def test_corpus_is_there() -> None:
    assert len(WIRE) > 35


@pytest.mark.parametrize("index", range(len(WIRE)))
def test_one_byte_writes(index: int) -> None:
    wire = WIRE[index]
    framer = StreamFramer()
    got: list[bytes] = []
    for i in range(len(wire)):
        framer.feed(wire[i : i + 1])
        got += drain(framer)
        if i < len(wire) - 1:
            assert got == []
    assert got == [wire]
    assert framer.buffered == 0
    parse_message(got[0])


@pytest.mark.parametrize("chunk", [1, 7, 100, 4096, 1 << 20])
def test_coalesced_messages_with_keepalives(chunk: int) -> None:
    stream = b"\r\n".join(WIRE[:10]) + PING + PING + b"".join(WIRE[10:])
    framer = StreamFramer()
    got: list[bytes] = []
    for i in range(0, len(stream), chunk):
        framer.feed(stream[i : i + chunk])
        got += drain(framer)
    assert got == WIRE
    assert framer.take_pings() == 2
    assert framer.take_pings() == 0


def test_binary_body_is_framed_by_content_length_only() -> None:
    data = (CORPUS / "rfc4475/mpart01.sip").read_bytes()
    framer = StreamFramer()
    framer.feed(data + data)
    first, second = drain(framer)
    assert first == second == data
    assert parse_message(first).body.count(b"\x00") >= 1


def test_trailing_octets_become_the_next_message() -> None:
    # On a stream, what follows Content-Length is the start of the next message.
    data = (CORPUS / "rfc4475/dblreq.sip").read_bytes()
    framer = StreamFramer()
    framer.feed(data)
    first = framer.next_message()
    assert first is not None
    assert parse_message(first).cseq.method == "REGISTER"
    assert framer.buffered == len(data) - len(first)


def test_ping_split_across_reads_and_single_crlf_pong() -> None:
    framer = StreamFramer()
    framer.feed(b"\r\n")
    assert framer.next_message() is None and framer.take_pings() == 0
    framer.feed(b"\r\n")
    assert framer.next_message() is None and framer.take_pings() == 1
    framer.feed(b"\r\n" + WIRE[0])
    assert drain(framer) == [WIRE[0]]
    assert framer.take_pings() == 0


def test_content_length_larger_than_data_waits() -> None:
    data = (CORPUS / "rfc4475/clerr.sip").read_bytes()
    framer = StreamFramer()
    framer.feed(data)
    assert framer.next_message() is None
    assert framer.buffered == len(data)


@pytest.mark.parametrize(
    ("name", "hint"),
    [("rfc4475/ncl", 400), ("rfc4475/mcl01", 400), ("rfc4475/inv2543", 400)],
)
def test_unframeable_stream_raises(name: str, hint: int) -> None:
    framer = StreamFramer()
    framer.feed((CORPUS / f"{name}.sip").read_bytes())
    with pytest.raises(RemoteProtocolError) as info:
        framer.next_message()
    assert info.value.status_hint == hint


def test_response_without_content_length_is_discarded() -> None:
    framer = StreamFramer()
    framer.feed(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as info:
        framer.next_message()
    assert info.value.status_hint is None


def test_folded_and_compact_content_length() -> None:
    body = b"hello"
    head = b"MESSAGE sip:a@b SIP/2.0\r\nl:\r\n  5\r\n\r\n"
    framer = StreamFramer()
    framer.feed(head + body + head)
    assert framer.next_message() == head + body
    assert framer.next_message() is None


def test_endless_header_section_is_bounded() -> None:
    framer = StreamFramer(max_message_size=1000)
    framer.feed(b"INVITE sip:a@b SIP/2.0\r\n")
    with pytest.raises(RemoteProtocolError) as info:
        for _ in range(100):
            framer.feed(b"X-Filler: " + b"x" * 20 + b"\r\n")
            assert framer.next_message() is None
    assert info.value.status_hint == 513


def test_announced_body_over_the_limit_is_refused_early() -> None:
    framer = StreamFramer(max_message_size=1000)
    framer.feed(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as info:
        framer.next_message()
    assert info.value.status_hint == 513
