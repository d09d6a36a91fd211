"""Via, NameAddr, CSeq and the Headers multi-map (RFC 3261 §7.3, §20, §25.1)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_uri import absolute_uris, hosts, sip_uris

from sipstack.errors import RemoteProtocolError
from sipstack.headers import CSeq, Headers, NameAddr, Via, header_key, split_outside_quotes
from sipstack.syntax import quote, scan_quoted, unquote

TOKEN = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-.!%*_+`'~"
tokens = st.text(TOKEN, min_size=1, max_size=8)
quoted = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from('"\\'),
                 max_size=10).map(quote)
generic_params = st.lists(
    st.tuples(tokens, st.none() | tokens | quoted | hosts), max_size=3
).map(tuple)


@given(st.builds(Via, transport=st.sampled_from(["UDP", "TCP", "TLS", "SCTP", "WS", "X-NEW"]),
                 host=hosts, port=st.none() | st.integers(0, 65535), params=generic_params))
def test_via_round_trip(via: Via) -> None:
    assert Via.parse(str(via)) == via
    assert Via.parse(bytes(via).decode()) == via


@given(st.builds(
    NameAddr,
    uri=sip_uris | absolute_uris,
    display_name=st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc")),
                                     max_size=12),
    params=generic_params,
))
def test_name_addr_round_trip(value: NameAddr) -> None:
    assert NameAddr.parse(str(value)) == value
    assert NameAddr.parse(bytes(value).decode()) == value


@given(st.builds(CSeq, seq=st.integers(0, 2**32 - 1), method=tokens))
def test_cseq_round_trip(value: CSeq) -> None:
    assert CSeq.parse(str(value)) == value
    assert CSeq.parse(bytes(value).decode()) == value


def test_via_with_lws_everywhere() -> None:
    via = Via.parse("SIP  / 2.0  / tcp     spindle.example.com   :  5070 ;  branch  =   z9hG4bK9")
    assert (via.transport, via.host, via.port, via.branch) == (
        "TCP", "spindle.example.com", 5070, "z9hG4bK9")
    assert via.sent_by == ("spindle.example.com", 5070)
    assert str(via.with_params(received="192.0.2.1", rport="5060")) == (
        "SIP/2.0/TCP spindle.example.com:5070;branch=z9hG4bK9;received=192.0.2.1;rport=5060")


def test_via_received_with_and_without_brackets() -> None:
    assert Via.parse("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255]").param(
        "received") == "[2001:db8::9:255]"
    assert Via.parse("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255").param(
        "received") == "2001:db8::9:255"


@pytest.mark.parametrize(
    "text",
    ["SIP/2.0/UDP", "SIP/3.0/UDP h", "SIP/2.0 h", "SIP/2.0/UDP h;", "SIP/2.0/UDP h junk",
     "SIP/2.0/UDP h:99999", "SIP/2.0/UDP h;branch=a b", "SIP/2.0/UDP [::1", "SIP/2.0/UDP h;=x"],
)
def test_invalid_via(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        Via.parse(text)


@pytest.mark.parametrize(
    ("text", "display", "tag"),
    [
        ('"J Rosenberg \\\\\\""  <sip:jdrosen@example.com> ; tag = 98asjd8',
         'J Rosenberg \\"', "98asjd8"),
        ("caller<sip:caller@example.com>;tag=323", "caller", "323"),
        ("token1~` token2'+_   token3 <sip:a@b>", "token1~` token2'+_ token3", None),
        ('"BEL:\\\x07 NUL:\\\x00" <sip:a@b>', "BEL:\x07 NUL:\x00", None),
        ("sip:a@b;tag=x", None, "x"),
        ('"a,b" <sip:a@b>;tag="q,t"', "a,b", '"q,t"'),
    ],
)
def test_name_addr_forms(text: str, display: str | None, tag: str | None) -> None:
    value = NameAddr.parse(text)
    assert (value.display_name, value.tag) == (display, tag)
    assert NameAddr.parse(str(value)) == value


def test_addr_spec_params_belong_to_the_header() -> None:
    value = NameAddr.parse("sip:+1972@gw1.example.net;unknownparam")
    assert value.param("unknownparam") == "" and value.uri.param("unknownparam") is None
    assert not value.angle
    assert str(value) == "<sip:+1972@gw1.example.net>;unknownparam"


@pytest.mark.parametrize(
    "text",
    [
        '"Mr. J. User <sip:j.user@example.com>',  # unterminated quote
        '"Watson, Thomas" < sip:t.watson@example.org >',  # spaces inside <>
        "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",  # non-token display
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E",  # needs <>
        "<sip:a@b",
        "<>",
        "<sip:a@b> junk",
        '"x" junk <sip:a@b>',
        "<sip:a@b>;tag=a b",
        '<sip:a@b>;tag="open',
        "<sip:a@b>;;",
    ],
)
def test_invalid_name_addr(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        NameAddr.parse(text)
    assert info.value.status_hint == 400


@pytest.mark.parametrize(
    "text", ["", "1", "INVITE", "1 INVITE x", "-1 INVITE", "4294967296 INVITE", "1 INV/ITE",
             "36893488147419103232 INVITE", "1" * 5000 + " INVITE"],
)
def test_invalid_cseq(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        CSeq.parse(text)


def test_cseq_leading_zeros_and_folding() -> None:
    assert CSeq.parse("0009 INVITE") == CSeq(9, "INVITE")
    assert CSeq.parse(" 4294967295\t OPTIONS ") == CSeq(2**32 - 1, "OPTIONS")


def test_quoted_string_helpers() -> None:
    text = 'a "b\\"c" d'
    assert scan_quoted(text, 2) == 8
    assert unquote(quote('x"y\\z')) == 'x"y\\z'
    assert split_outside_quotes('<sip:a@b;x=1,2>, "c,d" <sip:e@f>', ",") == [
        "<sip:a@b;x=1,2>", ' "c,d" <sip:e@f>']
    with pytest.raises(RemoteProtocolError):
        scan_quoted('"abc\\"', 0)


def test_headers_lookup_by_any_spelling() -> None:
    headers = Headers([("v", "SIP/2.0/UDP a"), ("VIA", "SIP/2.0/UDP b, SIP/2.0/UDP c"),
                       ("m", "<sip:x@y>"), ("X-Custom", "1")])
    assert headers.get("Via") == "SIP/2.0/UDP a"
    assert headers.get_lines("v") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b, SIP/2.0/UDP c"]
    assert headers.get_all("via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b", "SIP/2.0/UDP c"]
    assert "contact" in headers and "x-custom" in headers and "Route" not in headers
    assert headers.get("Route", "none") == "none"
    assert [n for n, _ in headers] == ["Via", "Via", "Contact", "X-Custom"]
    assert header_key("m") == header_key("CONTACT") == "contact"


def test_headers_copies() -> None:
    headers = Headers([("Via", "a"), ("To", "t"), ("Via", "b")])
    assert list(headers.with_added("v", "z", first=True)) == [
        ("Via", "z"), ("Via", "a"), ("To", "t"), ("Via", "b")]
    assert list(headers.with_replaced("via", "x")) == [("Via", "x"), ("To", "t")]
    assert list(headers.without("VIA")) == [("To", "t")]
    assert headers.with_added("Route", "<sip:r>").get("route") == "<sip:r>"
    assert headers == Headers(list(headers)) and len(headers) == 3


def test_empty_list_element_is_an_error() -> None:
    with pytest.raises(RemoteProtocolError):
        Headers([("Via", "SIP/2.0/UDP a,,SIP/2.0/UDP b")]).get_all("Via")


def test_parsed_values_are_remembered_by_text() -> None:
    text = "SIP/2.0/UDP memo.example.com:5060;branch=z9hG4bKmemo1"
    first = Via.parse(text)
    assert Via.parse(text) is first
    assert NameAddr.parse("<sip:memo@example.com>;tag=m1") is NameAddr.parse(
        "<sip:memo@example.com>;tag=m1")
    assert CSeq.parse("77 MEMO") is CSeq.parse("77 MEMO")


def test_a_failed_parse_is_not_remembered() -> None:
    from sipstack.header_values import VIA_MEMO

    for _ in range(2):
        with pytest.raises(RemoteProtocolError):
            Via.parse("SIP/2.0/UDP bad host")
    assert "SIP/2.0/UDP bad host" not in VIA_MEMO


def test_parse_memo_stays_bounded() -> None:
    from sipstack.header_values import CSEQ_MEMO
    from sipstack.syntax import MEMO_LIMIT

    for n in range(MEMO_LIMIT + 10):
        assert CSeq.parse(f"{n} BOUND").seq == n
    assert 0 < len(CSEQ_MEMO) <= MEMO_LIMIT


def _outcome(parse: Callable[[str], object], text: str, primer: str | None) -> object:
    """``parse(text)`` (or the error type) with every memo emptied, then
    primed with ``primer``."""
    from sipstack import header_values as headers

    for memo in (headers.VIA_MEMO, headers.NAME_ADDR_MEMO, headers._SENT_BY_MEMO,
                 headers._ADDRESS_MEMO):
        memo.clear()
    if primer is not None:
        parse(primer)
    try:
        return parse(text)
    except RemoteProtocolError as exc:
        return type(exc)


@pytest.mark.parametrize("text", [
    "SIP/2.0/UDP pre.example.com:5060;branch=z9hG4bKp2;rport",
    "SIP/2.0/UDP pre.example.com:5060;", "SIP/2.0/UDP pre.example.com:5060;a b",
    "SIP/2.0/UDP pre.example.com:5060;a=\"q;x\"",
])
def test_vias_sharing_a_sent_by_parse_as_on_their_own(text: str) -> None:
    primer = "SIP/2.0/UDP pre.example.com:5060;branch=z9hG4bKp1"
    assert _outcome(Via.parse, text, primer) == _outcome(Via.parse, text, None)


@pytest.mark.parametrize("text", [
    '"Pre" <sip:pre@example.com>;tag=2;x', '"Pre" <sip:pre@example.com>',
    '"Pre" <sip:pre@example.com>;', '"Pre" <sip:pre@example.com>junk',
    '"Pre" <sip:pre@example.com> ;tag=3', '"Pre" <sip:pre@example.com>;tag="a;b"',
    '"a>b" <sip:pre@example.com>;tag=5',
])
def test_name_addrs_sharing_an_address_parse_as_on_their_own(text: str) -> None:
    for primer in ('"Pre" <sip:pre@example.com>;tag=1', '"a>b" <sip:pre@example.com>;tag=4'):
        with_memo = _outcome(NameAddr.parse, text, primer)
        alone = _outcome(NameAddr.parse, text, None)
        assert with_memo == alone
        if isinstance(alone, NameAddr):
            assert isinstance(with_memo, NameAddr) and with_memo.params == alone.params


def test_sent_by_and_address_parts_are_remembered() -> None:
    from sipstack import header_values as headers

    Via.parse("SIP/2.0/UDP part.example.com:5060;branch=z9hG4bKpart")
    NameAddr.parse('"Part" <sip:part@example.com>;tag=1')
    assert headers._SENT_BY_MEMO["SIP/2.0/UDP part.example.com:5060"] == (
        "UDP", "part.example.com", 5060)
    assert '"Part" <sip:part@example.com>' in headers._ADDRESS_MEMO
