"""check_request: the §8.2 / §16.3 sieve for syntactically valid requests."""

from __future__ import annotations

import pytest

from sipstack.errors import SipError
from sipstack.message import Request
from sipstack.validate import check_request, media_ranges, option_tags

UAS = {
    "supported": frozenset(("100rel", "Timer")),
    "allowed_methods": frozenset(("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS")),
    "accepted_types": frozenset(("application/sdp",)),
}


def request(method: str = "INVITE", uri: str = "sip:bob@example.com", body: bytes = b"",
            branch: str = "z9hG4bK74bf9", **headers: str) -> Request:
    fields = [
        ("Via", f"SIP/2.0/UDP 192.0.2.1;branch={branch}"),
        ("From", "<sip:alice@example.com>;tag=1"),
        ("To", "<sip:bob@example.com>"),
        ("Call-ID", "c@h"),
        ("CSeq", f"1 {method}"),
        *((k.replace("_", "-"), v) for k, v in headers.items()),
    ]
    return Request.build(method, uri, fields, body)


def status(req: Request, **options: object) -> int | None:
    try:
        check_request(req, **{**UAS, **options})  # type: ignore[arg-type]
    except SipError as exc:
        return exc.status_hint
    return None


def test_acceptable_request_passes() -> None:
    req = request(body=b"v=0", Content_Type="application/sdp", Require="timer",
                  Accept="application/*;q=0.5, text/plain")
    assert status(req) is None


@pytest.mark.parametrize(
    ("req", "expected"),
    [
        (request("FOO"), 501),
        (request("REGISTER"), 405),
        (request(uri="tel:+15551234"), 416),
        (request(uri="sips:bob@example.com"), None),
        (request(body=b"<x/>", Content_Type="application/xml"), 415),
        (request(Content_Type="application/xml"), None),  # no body, nothing to understand
        (request(Accept="text/plain"), 406),
        (request(Accept="*/*"), None),
        (request("OPTIONS", Accept="text/plain"), None),
        (request(branch="z9hG4bK"), 400),
        (request(Contact="sip:a@b?x=y"), 400),
    ],
)
def test_uas_answers(req: Request, expected: int | None) -> None:
    assert status(req) == expected


def test_order_method_before_scheme_before_extension() -> None:
    assert status(request("FOO", uri="tel:1", Require="x")) == 501
    assert status(request(uri="tel:1", Require="x")) == 416
    assert status(request(Require="x", body=b"x", Content_Type="a/b")) == 420


def test_420_lists_every_unsupported_tag() -> None:
    with pytest.raises(SipError) as info:
        check_request(request(Require="100rel, foo,bar", Proxy_Require="baz"),
                      **UAS)  # type: ignore[arg-type]
    assert info.value.status_hint == 420 and info.value.unsupported == ("foo", "bar")
    # ACK and CANCEL are never refused for their Require (§8.2.2.3).
    assert status(request("ACK", Require="foo")) is None


def test_forwarding_checks() -> None:
    assert status(request("FOO", Max_Forwards="1"), forwarding=True) is None
    assert status(request(Max_Forwards="0"), forwarding=True) == 483
    assert status(request(Max_Forwards="0")) is None  # terminated here, not forwarded
    with pytest.raises(SipError) as info:
        check_request(request(Require="foo", Proxy_Require="bar"), forwarding=True,
                      supported=frozenset(), allowed_methods=frozenset(),
                      accepted_types=frozenset())
    assert info.value.unsupported == ("bar",)


def test_registrar_wants_a_sip_address_of_record() -> None:
    registrar = {"allowed_methods": frozenset(("REGISTER",))}
    req = request("REGISTER")
    req = req.replace(headers=req.headers.with_replaced("To", "<tel:+1555>"))
    assert status(req, **registrar) == 400
    assert status(request("REGISTER"), **registrar) is None


def test_helpers() -> None:
    req = request(Accept='application/sdp;level=1, text/html;x="a,b"', Require="a,b")
    assert media_ranges(req) == ("application/sdp", "text/html")
    assert option_tags(req, "Require") == ("a", "b")
