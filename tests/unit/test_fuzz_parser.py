"""Mutation fuzzing of parse_message, seeded with the RFC 4475/5118 corpus.

Whatever the bytes, the parser returns a Request or Response or raises
SipError; it never raises anything else and never hangs.  A message it
accepts serialises to bytes that re-parse to the same message.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipstack.errors import SipError
from sipstack.framing import StreamFramer
from sipstack.headers import CSeq, NameAddr, Via
from sipstack.message import Request, Response
from sipstack.parser import parse_message
from sipstack.uri import SipURI, parse_uri
from sipstack.validate import check_request

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
SEEDS = [p.read_bytes() for p in sorted(CORPUS.glob("rfc*/*.sip"))]

HEADER_LINES = [
    b"Via: SIP/2.0/UDP [::1]:5060;branch=z9hG4bK;received=[::1]",
    b"v: SIP/2.0/TCP h , SIP/2.0/UDP",
    b'From: "a\\" <sip:x@y>;tag=1',
    b"To: <sip:x@[2001:db8::1]:99999>",
    b"CSeq: 99999999999999999999 INVITE",
    b"Content-Length: 18446744073709551616",
    b"l: -1",
    b"Call-ID: ",
    b"Contact: *",
    b"m: <sip:a@b>,,",
    b' \t"folded',
    b"Max-Forwards: \xff",
    b"Route: <sip:a@b;lr>, <",
    b":",
    b"X-\x00: \x00",
    b"Expires: \xc2\xb2",
    b"Max-Forwards: " + b"9" * 5000,
    b"Require: ,",
    b"Accept: ;,",
    b"Content-Type: ;",
]
SPECIAL = [b"\r\n", b"\r\n\r\n", b"\n", b":", b";", b",", b'"', b"\\", b"<", b">", b"[",
           b"]", b"%", b"@", b" ", b"\x00", b"\xff", b"SIP/2.0", b"sip:", b"%4"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "truncate", "insert", "line", "delete")))
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(SPECIAL) | st.binary(max_size=8))
        elif op == "line":
            line_start = data.find(b"\r\n", pos)
            at = len(data) if line_start < 0 else line_start + 2
            data[at:at] = draw(st.sampled_from(HEADER_LINES)) + b"\r\n"
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 16))]
    return bytes(data)


def check(data: bytes) -> None:
    try:
        message = parse_message(data)
    except SipError as exc:
        # The parser's last-resort net for stray exceptions must stay unused.
        assert not exc.message.startswith("malformed message:"), exc.message
        return
    assert isinstance(message, Request | Response)
    wire = bytes(message)
    again = parse_message(wire)
    assert bytes(again) == wire
    assert same_values(message, again)
    # The lazy views and the application checks must also fail only with SipError.
    for view in ("vias", "contacts", "content_type"):
        with contextlib.suppress(SipError):
            getattr(message, view)
    for name in ("Max-Forwards", "Expires", "Content-Length"):
        with contextlib.suppress(SipError):
            message.header_int(name)
    if isinstance(message, Request):
        for forwarding in (False, True):
            with contextlib.suppress(SipError):
                check_request(message, supported=frozenset(("timer",)),
                              allowed_methods=frozenset(("INVITE", "REGISTER")),
                              accepted_types=frozenset(("application/sdp",)),
                              forwarding=forwarding)


def same_values(a: Request | Response, b: Request | Response) -> bool:
    def fields(m: Request | Response) -> list[tuple[str, str]]:
        return [(n, v) for n, v in m.headers if n != "Content-Length"]

    start = (a.method, a.uri) if isinstance(a, Request) else (a.status, a.reason)
    start_b = (b.method, b.uri) if isinstance(b, Request) else (b.status, b.reason)
    return (start, fields(a), a.body, a.via, a.from_, a.to, a.cseq, a.call_id) == (
        start_b, fields(b), b.body, b.via, b.from_, b.to, b.cseq, b.call_id
    )


@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_corpus(data: bytes) -> None:
    check(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.integers(1, 64))
def test_framer_never_raises_anything_else(data: bytes, chunk: int) -> None:
    framer = StreamFramer()
    try:
        for i in range(0, len(data), chunk):
            framer.feed(data[i : i + chunk])
            while (message := framer.next_message()) is not None:
                check(message)
    except SipError:
        pass


FRAGMENTS = ["sip:", "sips:", "tel:", "<", ">", '"', "\\", ";", "=", ",", "@", ":", "[", "]",
             "?", "&", "%", "%4", "%41", " ", "\t", "a", "Z", "0", "9", "-", ".", "SIP/2.0/UDP ",
             "tag", "branch", "::1", "\x00", "\u00e9"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join))
def test_value_parsers_raise_only_sip_errors(text: str) -> None:
    for parse in (parse_uri, Via.parse, NameAddr.parse, CSeq.parse):
        try:
            value = parse(text)
        except SipError:
            continue
        assert parse(str(value)) == value


def _outcome(parse: object, text: str) -> object:
    try:
        return parse(text)  # type: ignore[operator]
    except SipError:
        return SipError


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join))
def test_fast_paths_agree_with_the_general_parsers(text: str) -> None:
    # The one-regex fast paths must accept exactly what the general code
    # accepts for those inputs, with the same values.
    for fast, general in (
        (SipURI.parse, SipURI._parse_general),
        (NameAddr.parse, NameAddr._parse_general),
    ):
        for candidate in (text, "sip:" + text, f"<sip:{text}>", f"A <sip:a@{text}>"):
            expected = _outcome(general, candidate)
            assert _outcome(fast, candidate) == expected, candidate
    # A leading blank keeps a Via off its fast path.
    for candidate in ("SIP/2.0/UDP " + text, "SIP/2.0/TCP h" + text):
        assert _outcome(Via.parse, candidate) == _outcome(Via.parse, " " + candidate), candidate
