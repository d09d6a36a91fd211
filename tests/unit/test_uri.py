"""SIP/SIPS and absolute URIs: parse, serialise, round trip, invalid input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipstack.errors import RemoteProtocolError
from sipstack.uri import AbsoluteURI, SipURI, parse_uri, split_hostport, unescape

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
USER_CHARS = ALNUM + "ABCXYZ-_.!~*'()&=+$,;?/"
PARAM_CHARS = ALNUM + "-_.!~*'()[]/:&+$"

labels = st.text(ALNUM, min_size=1, max_size=8)
hostnames = st.lists(labels, min_size=1, max_size=4).map(".".join)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.sampled_from(["[2001:db8::10]", "[::1]", "[::ffff:192.0.2.2]", "[fe80::1:2]"])
hosts = hostnames | ipv4 | ipv6
escapes = st.sampled_from(["%40", "%00", "%3a", "%25"])
users = st.lists(st.text(USER_CHARS, min_size=1, max_size=6) | escapes, min_size=1,
                 max_size=4).map("".join)
params = st.lists(
    st.tuples(st.text(PARAM_CHARS, min_size=1, max_size=6),
              st.none() | st.text(PARAM_CHARS, min_size=1, max_size=6)),
    max_size=3,
).map(tuple)
uri_headers = st.lists(
    st.tuples(st.text(ALNUM + "-", min_size=1, max_size=6),
              st.text(ALNUM + "%:", max_size=6).filter(lambda v: "%" not in v)),
    max_size=2,
).map(tuple)

sip_uris = st.builds(
    SipURI,
    host=hosts,
    user=st.none() | users,
    port=st.none() | st.integers(0, 65535),
    params=params,
    headers=uri_headers,
    password=st.none() | st.text(ALNUM + "&=+$,", max_size=5),
    scheme=st.sampled_from(["sip", "sips"]),
).map(lambda u: u if u.user is not None else u.replace(password=None))  # no user, no password
absolute_uris = st.builds(
    AbsoluteURI,
    scheme=st.sampled_from(["tel", "mailto", "urn", "soap.beep", "isbn", "http"]),
    value=st.text(ALNUM + "+-.;=:/@%", min_size=1, max_size=20),
)


@given(sip_uris)
def test_sip_uri_round_trip(uri: SipURI) -> None:
    again = SipURI.parse(str(uri))
    assert again == uri
    assert bytes(again) == bytes(uri)
    assert parse_uri(bytes(uri).decode()) == uri


@given(absolute_uris)
def test_absolute_uri_round_trip(uri: AbsoluteURI) -> None:
    assert AbsoluteURI.parse(str(uri)) == uri
    assert parse_uri(bytes(uri).decode()) == uri


def test_fields_of_a_full_uri() -> None:
    uri = SipURI.parse("SIPS:Alice:pw@Atlanta.Example.COM:5061;transport=tls;lr?Subject=x&P=y")
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == (
        "sips", "Alice", "pw", "atlanta.example.com", 5061)
    assert uri.params == (("transport", "tls"), ("lr", None))
    assert uri.param("TRANSPORT") == "tls" and uri.param("lr") == "" and uri.param("x") is None
    assert uri.headers == (("Subject", "x"), ("P", "y"))
    # The text as written is kept for serialisation.
    assert str(uri).startswith("SIPS:Alice")


def test_unescape_once_never_recursively() -> None:
    assert unescape("value%2541") == "value%41"
    assert unescape("null-%00-null") == "null-\x00-null"
    assert unescape("%e5%a4%a7") == "\u5927"
    assert unescape("plain") == "plain"


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [("[2001:db8::10]:5070", "[2001:db8::10]", 5070), ("[2001:db8::10:5070]", "[2001:db8::10:5070]",
     None), ("Example.com", "example.com", None), ("10.0.0.1:0", "10.0.0.1", 0)],
)
def test_split_hostport(text: str, host: str, port: int | None) -> None:
    assert split_hostport(text) == (host, port)


@pytest.mark.parametrize(
    "text",
    [
        "sip:2001:db8::10",  # IPv6 without [] (RFC 5118 §4.2)
        "sip:user@[2001:db8:::192.0.2.1]",  # three colons (RFC 5118 §4.10)
        "sip:user@[2001:db8::1",
        "sip:user@[::1]x",
        "sip:host:65536",
        "sip:host:-1",
        "sip:host:",
        "sip:@host",
        "sip:us er@host",
        "sip:user@ho_st",
        "sip:user@-host",
        "sip:user@",
        "sip:",
        "sip:user@host;",
        "sip:user@host;a=b c",
        "sip:user@host?x",
        "sip:user@host?=y",
        "sip:u%zz@host",
        "http",
        "<sip:user@host>",
        "1tel:123",
        "tel:",
        "tel:12 3",
        'tel:"x"',
    ],
)
def test_invalid_uris(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_uri(text)
    assert info.value.status_hint == 400


def test_sip_uri_parse_refuses_other_schemes() -> None:
    with pytest.raises(RemoteProtocolError):
        SipURI.parse("tel:+123")


def test_replace_serialises_afresh() -> None:
    uri = SipURI.parse("sip:Bob@Biloxi.example.com")
    moved = uri.replace(port=5080, params=(("transport", "tcp"),))
    assert str(moved) == "sip:Bob@biloxi.example.com:5080;transport=tcp"
    assert uri.hostport == "biloxi.example.com" and moved.hostport == "biloxi.example.com:5080"
