"""Request/Response: build, serialise, parse back, make_response (RFC 3261 §7, §8.2.6)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_headers import tokens
from test_uri import absolute_uris, sip_uris

from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.headers import Headers, Via
from sipstack.message import Request, Response, make_response, trying_bytes
from sipstack.uri import URI

BASE = [
    ("Via", "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds"),
    ("Max-Forwards", "70"),
    ("To", "Bob <sip:bob@biloxi.example.com>"),
    ("From", "Alice <sip:alice@atlanta.example.com>;tag=1928301774"),
    ("Call-ID", "a84b4c76e66710@pc33.atlanta.example.com"),
]
values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20).map(str.strip)
extra = st.lists(st.tuples(st.sampled_from(["Subject", "X-Info", "User-Agent", "Supported",
                                            "Allow"]), values), max_size=4)
bodies = st.binary(max_size=64)
request_uris = sip_uris.map(lambda u: u.replace(headers=())) | absolute_uris


def invite(body: bytes = b"", **extra_headers: str) -> Request:
    fields = [*BASE, ("CSeq", "314159 INVITE"), *extra_headers.items()]
    return Request.build("INVITE", "sip:bob@biloxi.example.com", fields, body)


@settings(max_examples=60, deadline=None)
@given(method=tokens, uri=request_uris, fields=extra, body=bodies,
       seq=st.integers(0, 2**32 - 1))
def test_request_round_trip(method: str, uri: URI, fields: list[tuple[str, str]],
                            body: bytes, seq: int) -> None:
    request = Request.build(method, uri, [*BASE, ("CSeq", f"{seq} {method}"), *fields], body)
    again = Request.parse(bytes(request))
    assert (again.method, again.uri, again.body) == (request.method, request.uri, body)
    assert list(again.headers)[:-1] == list(request.headers)
    assert again.headers.get("Content-Length") == str(len(body))
    assert (again.cseq.seq, again.from_.tag, again.call_id) == (
        seq, "1928301774", "a84b4c76e66710@pc33.atlanta.example.com")
    assert again == request and bytes(again) == bytes(request)


@settings(max_examples=60, deadline=None)
@given(status=st.integers(100, 699), reason=values, fields=extra, body=bodies)
def test_response_round_trip(status: int, reason: str, fields: list[tuple[str, str]],
                             body: bytes) -> None:
    response = Response.build(status, [*BASE, ("CSeq", "1 INVITE"), *fields], body, reason)
    again = Response.parse(bytes(response))
    assert (again.status, again.reason, again.body) == (status, reason, body)
    assert again == response


def test_serialisation_shape() -> None:
    request = invite(b"v=0\r\n", Subject="hi")
    wire = bytes(request)
    assert wire.startswith(b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: ")
    assert wire.endswith(b"Subject: hi\r\nContent-Length: 5\r\n\r\nv=0\r\n")
    # A stale Content-Length in the headers is replaced by the body's length.
    stale = request.replace(headers=request.headers.with_added("Content-Length", "99"))
    assert bytes(stale).count(b"Content-Length") == 1 and b"Content-Length: 5" in bytes(stale)


def test_typed_views() -> None:
    request = invite(b"", Contact="<sip:alice@pc33.atlanta.example.com>, <sip:a2@h>",
                     Expires="60").replace(body=b"x")
    request = request.replace(
        headers=request.headers.with_added("Content-Type", "Application/SDP; charset=x"))
    assert request.via.branch == "z9hG4bK776asdhds" and len(request.vias) == 1
    assert [c.uri.param("x") for c in request.contacts] == [None, None]
    assert request.content_type == "application/sdp"
    assert request.header_int("Expires") == 60 and request.header_int("Min-SE") is None
    assert not request.contact_star
    star = request.replace(headers=request.headers.with_replaced("Contact", "*"))
    assert star.contact_star and star.contacts == ()


@pytest.mark.parametrize("value", ["9" * 5000, "4294967296", "\u00b2", "-1", "1 2", ""])
def test_header_int_refuses_what_is_not_a_32_bit_number(value: str) -> None:
    with pytest.raises(RemoteProtocolError):
        invite(Expires=value).header_int("Expires")


def test_header_int_leading_zeros() -> None:
    assert invite(Expires="0068").header_int("Expires") == 68
    assert invite(Expires="000").header_int("Expires") == 0
    assert invite(Expires="4294967295").header_int("Expires") == 2**32 - 1


def test_lazy_views_raise_remote_errors() -> None:
    request = invite(Expires="soon", Contact="<sip:a@b")
    with pytest.raises(RemoteProtocolError):
        request.header_int("Expires")
    with pytest.raises(RemoteProtocolError):
        _ = request.contacts
    bare = Request.build("OPTIONS", "sip:a@b", [])
    with pytest.raises(RemoteProtocolError):
        _ = bare.call_id


def test_make_response_copies_and_tags() -> None:
    request = invite(Timestamp="54")
    trying = make_response(request, 100, to_tag="abc")
    assert trying.to.tag is None and trying.headers.get("Timestamp") == "54"
    ok = make_response(request, 200, to_tag="abc", headers=[("Contact", "<sip:b@h>")])
    assert ok.to.tag == "abc" and ok.reason == "OK"
    assert [n for n, _ in ok.headers] == ["Via", "From", "To", "Call-ID", "CSeq", "Contact"]
    assert Response.parse(bytes(ok)).to.tag == "abc"


def test_build_refuses_bad_status_and_uri_headers() -> None:
    with pytest.raises(LocalProtocolError):
        Response.build(700)
    with pytest.raises(LocalProtocolError):
        Request.build("INVITE", "sip:a@b?Subject=x")


def test_parse_checks_the_kind() -> None:
    response = Response.build(200, [*BASE, ("CSeq", "1 INVITE")])
    with pytest.raises(RemoteProtocolError) as info:
        Request.parse(bytes(response))
    assert info.value.status_hint is None
    with pytest.raises(RemoteProtocolError):
        Response.parse(bytes(invite()))


def test_messages_are_values() -> None:
    assert invite() == invite() and invite() != invite(b"x")
    assert isinstance(invite().headers, Headers)
    with pytest.raises(TypeError):
        hash(invite())


def _views(message: Request | Response) -> tuple[object, ...]:
    return (message.via, message.vias, message.from_, message.to, message.call_id,
            message.cseq)


@pytest.mark.parametrize("to", ["Bob <sip:bob@biloxi.example.com>", "sip:bob@biloxi.example.com",
                                "<sip:bob@biloxi.example.com;user=phone>;x=1"])
def test_make_response_views_match_its_text(to: str) -> None:
    fields = [*BASE[:2], ("To", to), *BASE[3:], ("CSeq", "314159 INVITE")]
    request = Request.build("INVITE", "sip:bob@biloxi.example.com", fields)
    _views(request)  # the request's views are cached and shared with the response
    for status, tag in ((100, "t1"), (180, "t1"), (200, None), (486, "t2")):
        response = make_response(request, status, to_tag=tag)
        assert response.via is request.via
        assert _views(response) == _views(Response.parse(bytes(response)))
        expected_tag = None if tag is None or status == 100 else tag
        assert response.to.tag == expected_tag and response.to.uri == request.to.uri


def test_make_response_with_an_extra_copied_header_reads_its_own_views() -> None:
    request = invite()
    _views(request)
    extra = "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKextra"
    response = make_response(request, 200, headers=[("v", extra)])
    assert response.headers.get_lines("Via")[1] == extra and len(response.vias) == 2
    assert _views(response) == _views(Response.parse(bytes(response)))


def test_make_response_needs_no_to_without_a_tag() -> None:
    request = Request.build("OPTIONS", "sip:a@b", [BASE[0], ("CSeq", "1 OPTIONS")])
    assert make_response(request, 200).headers.get("To") is None
    with pytest.raises(LocalProtocolError):
        make_response(request, 700)


def test_with_top_via_keeps_the_other_views() -> None:
    request = invite()
    from_, cseq = request.from_, request.cseq
    line = "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnew"
    changed = request.with_top_via(line, Via.parse(line))
    assert changed.from_ is from_ and changed.cseq is cseq
    assert changed.headers.get("Via") == line and request.headers.get("Via") == BASE[0][1]
    assert _views(changed) == _views(Request.parse(bytes(changed)))


@pytest.mark.parametrize("extra", [{}, {"Timestamp": "54 0.2"}])
def test_trying_bytes_are_those_of_the_100_response(extra: dict[str, str]) -> None:
    request = invite(**extra).replace(headers=[
        *invite(**extra).headers, ("Via", "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp")])
    assert trying_bytes(request) == bytes(make_response(request, 100))
