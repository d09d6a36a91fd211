"""Expected outcome of every RFC 4475 / RFC 5118 corpus file (INDEX.md).

``PARSE`` says what :func:`parse_message` does with each file: ``OK`` with a
check of the values INDEX.md names, or the ``status_hint`` of the
RemoteProtocolError it must raise (``None``: discard silently).  ``APP`` gives
the answer :func:`check_request` must reach for a profile (``None``: accept).

Strict/liberal choices where INDEX.md allows either (pinned here):
* lwsstart, trws, lwsruri, ltgtruri, badaspec, quotbal, baddn: strict, 400 from the parser.
* escruri: strict, 400 from the parser (headers are not allowed in a Request-URI).
* regbadct: the parser accepts (Contact is parsed lazily) and the Contact view
  raises 400; check_request turns that into a 400 for the registrar.
* badbranch: the parser accepts; check_request answers 400 (a bare magic
  cookie carries no transaction id).
* baddate: accepted; Date does not matter to processing.
* clerr: 400 for a datagram (the stream framer waits for more bytes instead).
* mpart01: parses; a proxy relays it, a UAS without multipart support says 415.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sipstack.headers import NameAddr
from sipstack.message import Request, Response
from sipstack.uri import SipURI, unescape

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"

Check = Callable[[Request | Response], None]


@dataclass(frozen=True)
class Ok:
    """The file parses; ``check`` asserts the values INDEX.md names."""

    check: Check


def _sip(uri: object) -> SipURI:
    assert isinstance(uri, SipURI)
    return uri


def _req(m: Request | Response) -> Request:
    assert isinstance(m, Request)
    return m


def _resp(m: Request | Response) -> Response:
    assert isinstance(m, Response)
    return m


def wsinv(m: Request | Response) -> None:
    r = _req(m)
    assert r.method == "INVITE" and r.uri.param("unknownparam") == ""
    assert r.from_.display_name == 'J Rosenberg \\"' and r.from_.tag == "98asjd8"
    assert r.to.tag == "1918181833n" and r.to.display_name is None
    assert r.header_int("Max-Forwards") == 68
    assert (r.cseq.seq, r.cseq.method) == (9, "INVITE")
    assert r.headers.get("Subject") == ""
    assert r.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert r.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert [(v.transport, v.host, v.branch) for v in r.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    (contact,) = r.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    assert len(r.body) == 150 and r.body.startswith(b"v=0\r\n")


def intmeth(m: Request | Response) -> None:
    r = _req(m)
    assert r.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert r.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    uri = _sip(r.uri)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert r.from_.display_name == "token1~` token2'+_ token3*%!.-"
    working = "\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439"
    assert r.from_.param("fromParam''~+*_!.-%") == f'"{working}"'
    assert r.from_.tag == "_token~1'+`*%!-."
    assert r.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert r.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff\u5927\u505c\u96fb"


def esc01(m: Request | Response) -> None:
    r = _req(m)
    assert _sip(r.uri).user_text == "sips:user@example.com"
    assert _sip(r.to.uri).user_text == "user"
    assert _sip(r.from_.uri).user_text == "I have spaces"
    (contact,) = r.contacts
    uri = _sip(contact.uri)
    assert uri.user_text == "caller"
    assert [(unescape(n), None if v is None else unescape(v)) for n, v in uri.params] == [
        ("lr", None), ("name", "value%41"),
    ]


def escnull(m: Request | Response) -> None:
    r = _req(m)
    assert _sip(r.to.uri).user_text == "null-\x00-null"
    assert [_sip(c.uri).user_text for c in r.contacts] == ["\x00", "\x00\x00"]


def esc02(m: Request | Response) -> None:
    r = _req(m)
    assert r.method == "RE%47IST%45R" and r.cseq.method == "RE%47IST%45R"
    assert r.to.display_name == "%Z%45"
    assert [_sip(c.uri).user for c in r.contacts] == ["alias1", "alias3"]
    assert r.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    assert r.via.branch == "z9hG4bK209%fzsnel234"


def lwsdisp(m: Request | Response) -> None:
    assert _req(m).from_.display_name == "caller"


def longreq(m: Request | Response) -> None:
    r = _req(m)
    assert len(r.vias) == 34 and len(r.call_id) == 141
    assert r.to.display_name is not None and len(r.to.display_name) == 103
    assert r.from_.tag is not None and len(r.from_.tag) == 155


def dblreq(m: Request | Response) -> None:
    r = _req(m)
    assert r.method == "REGISTER" and r.body == b""


def semiuri(m: Request | Response) -> None:
    uri = _sip(_req(m).uri)
    assert uri.user == "user;par=u%40example.net"
    assert uri.user_text == "user;par=u@example.net"
    assert uri.host == "example.com" and uri.params == ()


def transports(m: Request | Response) -> None:
    assert [v.transport for v in _req(m).vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def mpart01(m: Request | Response) -> None:
    r = _req(m)
    assert len(r.body) == 553 and b"\x00" in r.body
    assert r.content_type == "multipart/mixed"


def unreason(m: Request | Response) -> None:
    r = _resp(m)
    assert r.status == 200 and r.reason.startswith("= 2**3 * 5**2 \u043d\u043e")


def noreason(m: Request | Response) -> None:
    r = _resp(m)
    assert (r.status, r.reason) == (100, "")


def bcast(m: Request | Response) -> None:
    r = _resp(m)
    assert [v.host for v in r.vias] == ["192.0.2.198", "255.255.255.255"]


def inv2543(m: Request | Response) -> None:
    r = _req(m)
    assert r.via.branch is None and r.from_.tag is None
    # No Content-Length: the body is the rest of the datagram (serialising adds one).
    assert int(r.headers.get("Content-Length") or len(r.body)) == len(r.body)
    assert "Max-Forwards" not in r.headers and r.body.startswith(b"v=0")


def cparam01(m: Request | Response) -> None:
    (c,) = _req(m).contacts
    assert c.param("unknownparam") == "" and _sip(c.uri).params == ()


def cparam02(m: Request | Response) -> None:
    (c,) = _req(m).contacts
    assert c.params == () and _sip(c.uri).param("unknownparam") == ""


def regescrt(m: Request | Response) -> None:
    (c,) = _req(m).contacts
    assert _sip(c.uri).headers == (("Route", "%3Csip:sip.example.com%3E"),)


def host_is(host: str, port: int | None = None) -> Check:
    def check(m: Request | Response) -> None:
        uri = _sip(_req(m).uri)
        assert (uri.host, uri.port) == (host, port)
    return check


def received(value: str) -> Check:
    def check(m: Request | Response) -> None:
        via = _req(m).via
        assert (via.host, via.param("received")) == ("[2001:db8::9:1]", value)
    return check


def mult_ip_in_header(m: Request | Response) -> None:
    vias = _req(m).vias
    assert [(v.host, v.port) for v in vias] == [
        ("[2001:db8::9:1]", 6050), ("192.0.2.1", None), ("[2001:db8::9:255]", None),
    ]
    assert vias[2].param("received") == "192.0.2.200"


def ipv4_mapped(m: Request | Response) -> None:
    r = _req(m)
    assert [(v.host, v.port) for v in r.vias] == [
        ("[::ffff:192.0.2.10]", 19823), ("[::ffff:192.0.2.2]", None),
    ]
    assert _sip(r.contacts[0].uri).host == "[::ffff:192.0.2.2]"
    assert b"IN IP6 ::ffff:192.0.2.2" in r.body


def sdp_ipv6(m: Request | Response) -> None:
    r = _req(m)
    assert b"IN IP6 2001:db8::" in r.body and int(r.headers.get("Content-Length") or 0) == len(
        r.body
    )


def parses(m: Request | Response) -> None:
    """Only that the message parses and its eager views are there."""
    assert m.via and m.cseq and m.call_id and m.from_ and m.to is not None
    assert isinstance(m.from_, NameAddr)


# name -> Ok(check) | status_hint of the RemoteProtocolError.
PARSE: dict[str, Ok | int | None] = {
    "rfc4475/wsinv": Ok(wsinv),
    "rfc4475/intmeth": Ok(intmeth),
    "rfc4475/esc01": Ok(esc01),
    "rfc4475/escnull": Ok(escnull),
    "rfc4475/esc02": Ok(esc02),
    "rfc4475/lwsdisp": Ok(lwsdisp),
    "rfc4475/longreq": Ok(longreq),
    "rfc4475/dblreq": Ok(dblreq),
    "rfc4475/semiuri": Ok(semiuri),
    "rfc4475/transports": Ok(transports),
    "rfc4475/mpart01": Ok(mpart01),
    "rfc4475/unreason": Ok(unreason),
    "rfc4475/noreason": Ok(noreason),
    "rfc4475/badinv01": 400,
    "rfc4475/clerr": 400,
    "rfc4475/ncl": 400,
    "rfc4475/scalar02": 400,
    "rfc4475/scalarlg": None,
    "rfc4475/quotbal": 400,
    "rfc4475/ltgtruri": 400,
    "rfc4475/lwsruri": 400,
    "rfc4475/lwsstart": 400,
    "rfc4475/trws": 400,
    "rfc4475/escruri": 400,
    "rfc4475/baddate": Ok(parses),
    "rfc4475/regbadct": Ok(parses),
    "rfc4475/badaspec": 400,
    "rfc4475/baddn": 400,
    "rfc4475/badvers": 505,
    "rfc4475/mismatch01": 400,
    "rfc4475/mismatch02": 501,
    "rfc4475/bigcode": None,
    "rfc4475/badbranch": Ok(parses),
    "rfc4475/insuf": 400,
    "rfc4475/unkscm": Ok(parses),
    "rfc4475/novelsc": Ok(parses),
    "rfc4475/unksm2": Ok(parses),
    "rfc4475/bext01": Ok(parses),
    "rfc4475/invut": Ok(parses),
    "rfc4475/regaut01": Ok(parses),
    "rfc4475/multi01": 400,
    "rfc4475/mcl01": 400,
    "rfc4475/bcast": Ok(bcast),
    "rfc4475/zeromf": Ok(parses),
    "rfc4475/cparam01": Ok(cparam01),
    "rfc4475/cparam02": Ok(cparam02),
    "rfc4475/regescrt": Ok(regescrt),
    "rfc4475/sdp01": Ok(parses),
    "rfc4475/inv2543": Ok(inv2543),
    "rfc4475/baddn-terminated": 400,
    "rfc4475/test": 400,
    "rfc5118/ipv6-good": Ok(host_is("[2001:db8::10]")),
    "rfc5118/ipv6-bad": 400,
    "rfc5118/port-ambiguous": Ok(host_is("[2001:db8::10:5070]")),
    "rfc5118/port-unambiguous": Ok(host_is("[2001:db8::10]", 5070)),
    "rfc5118/via-received-param-with-delim": Ok(received("[2001:db8::9:255]")),
    "rfc5118/via-received-param-no-delim": Ok(received("2001:db8::9:255")),
    "rfc5118/ipv6-in-sdp": Ok(sdp_ipv6),
    "rfc5118/mult-ip-in-header": Ok(mult_ip_in_header),
    "rfc5118/mult-ip-in-sdp": Ok(sdp_ipv6),
    "rfc5118/ipv4-mapped-ipv6": Ok(ipv4_mapped),
    "rfc5118/ipv6-bug-abnf-3-colons": 400,
    "rfc5118/ipv6-correct-abnf-2-colons": Ok(host_is("[2001:db8::192.0.2.1]")),
}

# check_request profiles: an endpoint (UAS/B2BUA leg), a registrar, a proxy.
PROFILES: dict[str, dict[str, object]] = {
    "uas": {
        "supported": frozenset(("100rel", "timer", "replaces")),
        "allowed_methods": frozenset(("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "MESSAGE")),
        "accepted_types": frozenset(("application/sdp",)),
    },
    "registrar": {
        "supported": frozenset(("path", "outbound")),
        "allowed_methods": frozenset(("REGISTER", "OPTIONS")),
        "accepted_types": frozenset(),
    },
    "proxy": {
        "supported": frozenset(("path",)),
        "allowed_methods": frozenset(),
        "accepted_types": frozenset(),
        "forwarding": True,
    },
}

# (file, profile) -> status_hint of the refusal (None: accepted), and the
# Unsupported tags for a 420.
APP: dict[tuple[str, str], int | tuple[int, tuple[str, ...]] | None] = {
    ("rfc4475/intmeth", "uas"): 501,
    ("rfc4475/esc02", "uas"): 501,
    ("rfc4475/unkscm", "uas"): 416,
    ("rfc4475/unkscm", "proxy"): 416,
    ("rfc4475/novelsc", "uas"): 416,
    ("rfc4475/unksm2", "registrar"): 400,
    ("rfc4475/unksm2", "proxy"): None,
    ("rfc4475/bext01", "uas"): (420, ("nothingSupportsThis", "nothingSupportsThisEither")),
    ("rfc4475/bext01", "proxy"): (420, ("noProxiesSupportThis", "norDoAnyProxiesSupportThis")),
    ("rfc4475/invut", "uas"): 415,
    ("rfc4475/invut", "proxy"): None,
    ("rfc4475/sdp01", "uas"): 406,
    ("rfc4475/regaut01", "uas"): 405,
    ("rfc4475/regaut01", "registrar"): None,
    ("rfc4475/zeromf", "proxy"): 483,
    ("rfc4475/zeromf", "uas"): None,
    ("rfc4475/badbranch", "uas"): 400,
    ("rfc4475/regbadct", "registrar"): 400,
    ("rfc4475/cparam01", "registrar"): None,
    ("rfc4475/cparam02", "registrar"): None,
    ("rfc4475/regescrt", "registrar"): None,
    ("rfc4475/escnull", "registrar"): None,
    ("rfc4475/dblreq", "registrar"): None,
    ("rfc4475/mpart01", "proxy"): None,
    ("rfc4475/mpart01", "uas"): 415,
    ("rfc4475/wsinv", "uas"): None,
    ("rfc4475/esc01", "uas"): None,
    ("rfc4475/lwsdisp", "uas"): None,
    ("rfc4475/longreq", "uas"): None,
    ("rfc4475/semiuri", "uas"): None,
    ("rfc4475/transports", "uas"): None,
    ("rfc4475/baddate", "uas"): None,
    ("rfc4475/inv2543", "uas"): None,
    ("rfc5118/ipv6-good", "registrar"): None,
    ("rfc5118/ipv6-in-sdp", "uas"): None,
    ("rfc5118/mult-ip-in-header", "uas"): None,
}


def corpus_names() -> list[str]:
    """Every ``<folder>/<name>`` in the shared corpus."""
    return sorted(
        f"{p.parent.name}/{p.stem}" for p in CORPUS.glob("rfc*/*.sip")
    )
