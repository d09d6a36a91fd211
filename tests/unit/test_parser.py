"""parse_message: eager checks and their status hints (RFC 3261 §7, §8.1.1, §18.3)."""

from __future__ import annotations

import contextlib
import time

import pytest

from sipstack.constants import MAX_MESSAGE_SIZE
from sipstack.errors import RemoteProtocolError
from sipstack.message import Request, Response
from sipstack.parser import parse_message, split_head

HEAD = {
    "Via": "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9",
    "From": "<sip:alice@example.com>;tag=9fxced76sl",
    "To": "<sip:bob@example.com>",
    "Call-ID": "3848276298220188511@example.com",
    "CSeq": "1 OPTIONS",
    "Max-Forwards": "70",
}


def message(start: str = "OPTIONS sip:bob@example.com SIP/2.0", body: bytes = b"",
            drop: tuple[str, ...] = (), extra: tuple[str, ...] = (),
            length: bool = True, **changes: str) -> bytes:
    fields = {**HEAD, **{k.replace("_", "-"): v for k, v in changes.items()}}
    lines = [start, *(f"{k}: {v}" for k, v in fields.items() if k not in drop), *extra]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def hint_of(data: bytes) -> int | None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_message(data)
    return info.value.status_hint


def test_a_plain_request() -> None:
    request = parse_message(message(body=b"hello"))
    assert isinstance(request, Request)
    assert (request.method, str(request.uri), request.body) == (
        "OPTIONS", "sip:bob@example.com", b"hello")
    assert request.via.branch == "z9hG4bK74bf9" and request.from_.tag == "9fxced76sl"
    assert request.cseq.seq == 1 and request.header_int("Max-Forwards") == 70


@pytest.mark.parametrize("name", ["Via", "From", "To", "Call-ID", "CSeq"])
def test_missing_mandatory_header_is_400(name: str) -> None:
    assert hint_of(message(drop=(name,))) == 400


@pytest.mark.parametrize(
    "extra", ["Call-ID: other@example.com", "CSeq: 2 OPTIONS", "To: <sip:c@example.com>",
              "From: <sip:d@example.com>;tag=1", "Max-Forwards: 5", "Content-Length: 1"],
)
def test_second_single_value_header_is_400(extra: str) -> None:
    assert hint_of(message(extra=(extra,))) == 400


def test_comma_in_single_value_headers() -> None:
    assert hint_of(message(Call_ID="a@b, c@d")) == 400
    # A comma inside a quoted display name is not a second value.
    parse_message(message(To='"Bob, Jr." <sip:bob@example.com>'))


def test_cseq_method_mismatch() -> None:
    assert hint_of(message(CSeq="1 INVITE")) == 400
    assert hint_of(message("NEWMETHOD sip:b@example.com SIP/2.0", CSeq="1 INVITE")) == 501


@pytest.mark.parametrize(
    ("start", "hint"),
    [("OPTIONS sip:bob@example.com SIP/7.0", 505), ("OPTIONS sip:bob@example.com HTTP/1.1", 400),
     ("OPTIONS sip:bob@example.com", 400), ("OPTIONS  sip:bob@example.com SIP/2.0", 400),
     ("OPTIONS sip:bob@example.com SIP/2.0 ", 400), ("OPT<IONS sip:bob@example.com SIP/2.0", 400),
     ("OPTIONS <sip:bob@example.com> SIP/2.0", 400)],
)
def test_bad_request_line(start: str, hint: int) -> None:
    assert hint_of(message(start)) == hint


def test_version_is_case_insensitive() -> None:
    assert isinstance(parse_message(message("OPTIONS sip:bob@example.com sip/2.0")), Request)


@pytest.mark.parametrize(
    "start", ["SIP/2.0 4294967301 Big", "SIP/2.0 99 Low", "SIP/2.0 700 High", "SIP/2.0 200",
              "SIP/2.0 2x0 OK", "SIP/3.0 200 OK"],
)
def test_bad_status_line_is_discarded(start: str) -> None:
    assert hint_of(message(start)) is None


def test_every_malformed_response_is_discarded() -> None:
    assert hint_of(message("SIP/2.0 200 OK", drop=("Call-ID",))) is None
    response = parse_message(message("SIP/2.0 180 ", CSeq="1 INVITE"))
    assert isinstance(response, Response) and (response.status, response.reason) == (180, "")


def test_oversize_is_513() -> None:
    padding = "x" * MAX_MESSAGE_SIZE
    assert hint_of(message(extra=(f"X-Pad: {padding}",))) == 513


def test_content_length_framing_on_a_datagram() -> None:
    data = message(body=b"abc") + b"junk after the message"
    assert parse_message(data).body == b"abc"
    assert hint_of(message(body=b"abc")[:-1]) == 400  # shorter than announced
    assert hint_of(message(extra=("Content-Length: -3",), length=False)) == 400
    assert hint_of(message(extra=("Content-Length: 3", "l: 4"), length=False)) == 400
    assert parse_message(message(extra=("Content-Length: 0", "l: 0"), length=False)).body == b""
    # No Content-Length: the rest of the datagram is the body (RFC 2543).
    assert parse_message(message(length=False) + b"rest").body == b"rest"


def test_leading_crlf_folding_compact_forms_and_bare_lf() -> None:
    data = b"\r\n\r\n" + message(extra=("Subject: a\r\n  b\r\n\tc",))
    assert parse_message(data).headers.get("s") == "a b c"
    bare = message().replace(b"\r\n", b"\n")
    assert parse_message(bare).call_id == HEAD["Call-ID"]
    compact = message(extra=("v: SIP/2.0/TCP h;branch=z9hG4bK2",)).replace(b"Via:", b"v :")
    assert len(parse_message(compact).vias) == 2


@pytest.mark.parametrize(
    "data",
    [b"", b"\r\n\r\n", b"OPTIONS sip:a@b SIP/2.0\r\n", b"OPTIONS sip:a@b SIP/2.0\r\n x: y\r\n\r\n",
     b"OPTIONS sip:a@b SIP/2.0\r\nno colon\r\n\r\n", b"OPTIONS sip:a@b SIP/2.0\r\nB@d: 1\r\n\r\n",
     b"\xff\xfe\r\n\r\n"],
)
def test_garbage_is_400(data: bytes) -> None:
    assert hint_of(data) == 400


def test_invalid_utf8_survives_a_round_trip() -> None:
    data = message().replace(b"Max-Forwards", b"X-Raw: \xe9t\xe9\r\nMax-Forwards")
    request = parse_message(data)
    assert bytes(request) == data


def test_pathological_inputs_stay_linear() -> None:
    blanks = " " * 60000
    cases = [
        message(extra=(f"X: a{blanks}x", " y")),
        message(extra=("X: a", *[" y"] * 15000)),
        message(To=f"{'a ' * 20000}<sip:a@b>"),
        message(Via=f"SIP/2.0/UDP {'a-' * 20000}!"),
        message(extra=(f"Route: <sip:a@b>{';a=b' * 10000}",)),
    ]
    for data in cases:
        started = time.perf_counter()
        with contextlib.suppress(RemoteProtocolError):
            parse_message(data)
        assert time.perf_counter() - started < 0.5


def test_parse_speed_floor() -> None:
    # A loose floor (the design target is 50,000/s) that only catches
    # pathological regressions, not load on a shared machine.
    data = message(body=b"v=0\r\n" * 40, Subject="speed")
    started = time.perf_counter()
    for _ in range(2000):
        parse_message(data)
    assert 2000 / (time.perf_counter() - started) > 5000


def test_split_head() -> None:
    assert split_head(b"A\r\nB: c\r\n\r\nbody") == (b"A\r\nB: c", 11)
    assert split_head(b"A\nB: c\n\nbody") == (b"A\nB: c", 8)
    assert split_head(b"A\r\nB: c\r\n") is None
