"""Digest authentication: header values, RFC arithmetic, client retry, server checks."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipstack.auth import (
    AuthStatus,
    Challenge,
    Credentials,
    DigestServer,
    authorize,
    build_credentials,
    ha1,
    request_digest,
    select_challenges,
)
from sipstack.auth import server as server_module
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.message import Request, Response, make_response
from sipstack.parser import parse_message

# RFC 7616 §3.9.1
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC7616_REALM = "http-auth@example.org"


def rfc7616_challenge(algorithm: str) -> Challenge:
    return Challenge.parse(
        f'Digest realm="{RFC7616_REALM}",\r\n qop="auth, auth-int",\r\n'
        f" algorithm={algorithm},\r\n nonce=\"{RFC7616_NONCE}\",\r\n"
        f' opaque="{RFC7616_OPAQUE}"'
    )


# -- known answers ----------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "expected"), [
    ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
])
def test_rfc7616_example_responses(algorithm: str, expected: str) -> None:
    challenge = rfc7616_challenge(algorithm)
    assert challenge.qop == ("auth", "auth-int")
    creds = build_credentials(challenge, "GET", "/dir/index.html", "Mufasa",
                              "Circle of Life", RFC7616_CNONCE, 1)
    assert creds.response == expected
    assert (creds.qop, creds.nc, creds.cnonce) == ("auth", 1, RFC7616_CNONCE)
    assert creds.opaque == RFC7616_OPAQUE and creds.algorithm == algorithm
    text = str(creds)
    assert "qop=auth" in text and "nc=00000001" in text and f"algorithm={algorithm}" in text


def test_rfc7616_authorization_header_parses() -> None:
    text = (f'Digest username="Mufasa",\r\n realm="{RFC7616_REALM}",\r\n'
            f' uri="/dir/index.html",\r\n algorithm=MD5,\r\n nonce="{RFC7616_NONCE}",\r\n'
            f' nc=00000001,\r\n cnonce="{RFC7616_CNONCE}",\r\n qop=auth,\r\n'
            f' response="8ca523f5e9506fed4657c9700eebdbec",\r\n opaque="{RFC7616_OPAQUE}"')
    creds = Credentials.parse(text)
    assert creds == Credentials("Mufasa", RFC7616_REALM, RFC7616_NONCE, "/dir/index.html",
                                "8ca523f5e9506fed4657c9700eebdbec", "MD5", RFC7616_CNONCE,
                                RFC7616_OPAQUE, "auth", 1)


def test_rfc2617_example_qop_auth() -> None:
    # RFC 2617 §3.5.
    key = ha1("Mufasa", "testrealm@host.com", "Circle Of Life")
    response = request_digest(key, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "GET",
                              "/dir/index.html", "MD5", "auth", 1, "0a4f113b")
    assert response == "6629fae49393a05397450978507c4ef1"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_no_qop_md5_follows_rfc2617_3_2_2_1() -> None:
    # request-digest = KD(H(A1), unq(nonce-value) ":" H(A2)) when qop is absent;
    # inputs are the RFC 2069 example.
    nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
    challenge = Challenge("testrealm@host.com", nonce,
                          opaque="5ccc069c403ebaf9f0171e9517f40e41")
    creds = build_credentials(challenge, "GET", "/dir/index.html", "Mufasa",
                              "CircleOfLife", "unused-cnonce", 7)
    by_hand = md5(f"{md5('Mufasa:testrealm@host.com:CircleOfLife')}:{nonce}:"
                  f"{md5('GET:/dir/index.html')}")
    assert creds.response == by_hand == "1949323746fe6a43ef61f9606e7febea"
    assert (creds.qop, creds.nc, creds.cnonce, creds.algorithm) == (None, None, None, None)
    text = str(creds)
    assert "qop" not in text and "nc=" not in text and "cnonce" not in text


def test_sess_variant_arithmetic() -> None:
    challenge = Challenge("r", "n0", "MD5-sess", ("auth",))
    creds = build_credentials(challenge, "REGISTER", "sip:r", "u", "p", "c1", 2)
    a1 = md5(f"{md5('u:r:p')}:n0:c1")
    assert creds.response == md5(f"{a1}:n0:00000002:c1:auth:{md5('REGISTER:sip:r')}")


def test_sess_without_qop_cannot_be_answered() -> None:
    with pytest.raises(LocalProtocolError):
        build_credentials(Challenge("r", "n", "MD5-sess"), "REGISTER", "sip:r", "u", "p", "c")


def test_auth_int_only_challenge_cannot_be_answered() -> None:
    with pytest.raises(LocalProtocolError):
        build_credentials(Challenge("r", "n", "MD5", ("auth-int",)), "INVITE", "sip:r",
                          "u", "p", "c")


# -- header values ------------------------------------------------------------------


def test_challenge_parse_details() -> None:
    challenge = Challenge.parse(
        'digest REALM = "atlanta.com" ,domain="sip:ss1.carrier.com", qop="auth",'
        ' nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=TRUE, algorithm=md5,'
        ' ext-param="a \\"q\\" \\\\b", other=tok'
    )
    assert challenge.realm == "atlanta.com"
    assert challenge.domain == "sip:ss1.carrier.com"
    assert challenge.opaque == "" and challenge.stale and challenge.algorithm == "md5"
    assert challenge.params == (("ext-param", 'a "q" \\b'), ("other", "tok"))
    assert Challenge.parse(str(challenge)) == challenge


def test_challenge_stale_false_and_quoted_algorithm() -> None:
    challenge = Challenge.parse('Digest realm="r", nonce="n", stale=false, algorithm="SHA-256"')
    assert not challenge.stale and challenge.algorithm == "SHA-256"
    assert "stale" not in str(challenge)


def test_credentials_accepts_quoted_qop_and_nc() -> None:
    creds = Credentials.parse('Digest username="bob", realm="r", nonce="n", uri="sip:r",'
                              ' response="ab", qop="AUTH", nc="0000000A", cnonce="c"')
    assert creds.qop == "auth" and creds.nc == 10


def test_credentials_round_trip_with_unknown_param() -> None:
    creds = Credentials("al\"ice", "r\\x", "n", "sip:a@b;x=1", "00ff", "SHA-256", "cn",
                        None, "auth", 0xFFFFFFFF, (("future", "two words"),))
    assert Credentials.parse(str(creds)) == creds
    assert "nc=ffffffff" in str(creds)


quoted_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@given(user=quoted_text, realm=quoted_text, uri=quoted_text, nc=st.integers(0, 2**32 - 1))
def test_credentials_round_trip_property(user: str, realm: str, uri: str, nc: int) -> None:
    creds = Credentials(user, realm, "nonce", uri, "abc", "MD5", "cn", "op", "auth", nc)
    assert Credentials.parse(str(creds)) == creds


@given(realm=quoted_text, nonce=quoted_text, stale=st.booleans())
def test_challenge_round_trip_property(realm: str, nonce: str, stale: bool) -> None:
    challenge = Challenge(realm, nonce, "SHA-256", ("auth",), "o", stale)
    assert Challenge.parse(str(challenge)) == challenge


@pytest.mark.parametrize("text", [
    'Basic realm="r"',
    'Digest',
    'Digestrealm="r", nonce="n"',
    'Digest realm="r", nonce="n',
    'Digest realm="r" nonce="n"',
    'Digest realm="r",, nonce="n"',
    'Digest realm="r", nonce="n",',
    'Digest realm, nonce="n"',
    'Digest realm=, nonce="n"',
    'Digest realm="r", realm="s", nonce="n"',
    'Digest nonce="n"',
    'Digest realm="r"',
    'Digest realm="r", nonce="n", qop="auth,,x"',
    'Digest realm="r", nonce="n", bad@name=1',
])
def test_invalid_challenges(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        Challenge.parse(text)
    assert info.value.status_hint is None  # it came in a response


@pytest.mark.parametrize("text", [
    'Digest username="u", realm="r", nonce="n", uri="sip:r"',
    'Digest username="u", realm="r", nonce="n", response="x"',
    'Digest username="u", realm="r", nonce="n", uri="sip:r", response="x", nc=1',
    'Digest username="u", realm="r", nonce="n", uri="sip:r", response="x", nc=0000000g',
    'Digest username="u", realm="r", nonce="n", uri="sip:r", response="x" junk',
])
def test_invalid_credentials(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        Credentials.parse(text)
    assert info.value.status_hint == 400


def test_unknown_scheme_credentials_hint_401() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        Credentials.parse("NoOneKnowsThisScheme opaque-data=here")
    assert info.value.status_hint == 401


# -- server ----------------------------------------------------------------------

SECRET = b"0123456789abcdef0123456789abcdef"
REALM = "example.com"
PASSWORDS = {"alice": "wonderland", "bob": "builder"}
URI = "sip:example.com"


def lookup(username: str, algorithm: str) -> str | None:
    password = PASSWORDS.get(username)
    return None if password is None else ha1(username, REALM, password, algorithm)


def make_server(**options: object) -> DigestServer:
    return DigestServer(REALM, SECRET, **options)  # type: ignore[arg-type]


def answer(server: DigestServer, now: float, *, algorithm: str = "SHA-256",
           user: str = "alice", password: str | None = None, qop: bool = True,
           nc: int = 1, method: str = "REGISTER", uri: str = URI) -> Credentials:
    challenge = Challenge.parse(server.challenge(now, algorithms=(algorithm,))[0])
    if not qop:
        challenge = dataclasses.replace(challenge, qop=())
    secret = PASSWORDS.get(user, "x") if password is None else password
    return build_credentials(challenge, method, uri, user, secret, "cnonce-1", nc)


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5", "SHA-256-sess", "MD5-sess"])
@pytest.mark.parametrize("qop", [True, False])
def test_client_answer_verifies(algorithm: str, qop: bool) -> None:
    server = make_server(algorithms=(algorithm,))
    if algorithm.endswith("-sess") and not qop:
        challenge = Challenge.parse(server.challenge(10.0)[0])
        with pytest.raises(LocalProtocolError):
            build_credentials(dataclasses.replace(challenge, qop=()), "REGISTER", URI,
                              "alice", "wonderland", "c")
        return
    creds = answer(server, 10.0, algorithm=algorithm, qop=qop)
    result = server.verify(creds, "REGISTER", URI, lookup, 11.0)
    assert result.ok, result.reason
    assert result.username == "alice"


def test_challenge_lists_sha256_first_with_one_nonce() -> None:
    values = make_server().challenge(5.0)
    challenges = [Challenge.parse(v) for v in values]
    assert [c.algorithm for c in challenges] == ["SHA-256", "MD5"]
    assert challenges[0].nonce == challenges[1].nonce
    assert all(c.qop == ("auth",) and c.realm == REALM and not c.stale for c in challenges)


def test_nonces_are_unique_within_one_millisecond() -> None:
    server = make_server()
    assert server.new_nonce(1.0) != server.new_nonce(1.0)


def test_wrong_password_fails() -> None:
    server = make_server()
    creds = answer(server, 1.0, password="guess")
    result = server.verify(creds, "REGISTER", URI, lookup, 1.0)
    assert result.status is AuthStatus.FAILED


def test_unknown_user_looks_like_wrong_password(monkeypatch: pytest.MonkeyPatch) -> None:
    server = make_server()
    calls: list[str] = []
    real = request_digest

    def counting(*args: object, **kwargs: object) -> str:
        calls.append("digest")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(server_module, "request_digest", counting)
    wrong = server.verify(answer(server, 1.0, password="guess"), "REGISTER", URI, lookup, 1.0)
    unknown = server.verify(answer(server, 1.0, user="mallory"), "REGISTER", URI, lookup, 1.0)
    assert calls == ["digest", "digest"]
    assert (wrong.status, wrong.reason) == (unknown.status, unknown.reason)
    assert unknown.status is AuthStatus.FAILED


def test_unknown_user_cannot_pass_with_the_dummy_key() -> None:
    server = make_server()
    creds = answer(server, 1.0, user="mallory")
    dummy = server._dummy_ha1["SHA-256"]
    forged = dataclasses.replace(creds, response=request_digest(
        dummy, creds.nonce, "REGISTER", URI, "SHA-256", "auth", 1, "cnonce-1"))
    assert server.verify(forged, "REGISTER", URI, lookup, 1.0).status is AuthStatus.FAILED


def test_expired_nonce_is_stale_and_new_challenge_says_so() -> None:
    server = make_server(nonce_lifetime=30.0)
    creds = answer(server, 100.0)
    assert server.verify(creds, "REGISTER", URI, lookup, 129.0).ok
    later = dataclasses.replace(creds, nc=2, response=build_credentials(
        Challenge(REALM, creds.nonce, "SHA-256", ("auth",)), "REGISTER", URI, "alice",
        "wonderland", "cnonce-1", 2).response)
    result = server.verify(later, "REGISTER", URI, lookup, 131.0)
    assert result.status is AuthStatus.STALE and result.stale
    renewed = [Challenge.parse(v) for v in server.challenge(131.0, stale=result.stale)]
    assert all(c.stale for c in renewed)
    assert "stale=true" in make_server().challenge(1.0, stale=True)[0]


def test_expired_nonce_with_wrong_password_is_failed_not_stale() -> None:
    server = make_server(nonce_lifetime=30.0)
    creds = answer(server, 100.0, password="guess")
    assert server.verify(creds, "REGISTER", URI, lookup, 200.0).status is AuthStatus.FAILED


def test_nonce_from_the_future_is_stale() -> None:
    server = make_server()
    creds = answer(server, 1000.0)
    assert server.verify(creds, "REGISTER", URI, lookup, 10.0).status is AuthStatus.STALE


def test_replayed_and_lower_nonce_count_refused() -> None:
    server = make_server()
    first = answer(server, 1.0, nc=5)
    assert server.verify(first, "REGISTER", URI, lookup, 1.0).ok
    replay = server.verify(first, "REGISTER", URI, lookup, 2.0)
    assert replay.status is AuthStatus.STALE and "replay" in replay.reason
    challenge = Challenge(REALM, first.nonce, "SHA-256", ("auth",))
    lower = build_credentials(challenge, "REGISTER", URI, "alice", "wonderland", "c2", 4)
    assert server.verify(lower, "REGISTER", URI, lookup, 2.0).status is AuthStatus.STALE
    higher = build_credentials(challenge, "REGISTER", URI, "alice", "wonderland", "c2", 6)
    assert server.verify(higher, "REGISTER", URI, lookup, 2.0).ok


def test_failed_attempt_does_not_consume_the_nonce_count() -> None:
    server = make_server()
    bad = answer(server, 1.0, password="guess")
    assert not server.verify(bad, "REGISTER", URI, lookup, 1.0).ok
    assert server.tracked_nonces == 0


def test_nonce_counts_forgotten_when_nonces_expire() -> None:
    server = make_server(nonce_lifetime=10.0)
    for i in range(5):
        assert server.verify(answer(server, float(i)), "REGISTER", URI, lookup, float(i)).ok
    assert server.tracked_nonces == 5
    assert server.verify(answer(server, 20.0), "REGISTER", URI, lookup, 20.0).ok
    assert server.tracked_nonces == 1


def test_bounded_tracking_makes_evicted_nonces_stale() -> None:
    server = make_server(max_tracked_nonces=2)
    oldest = answer(server, 1.0)
    assert server.verify(oldest, "REGISTER", URI, lookup, 1.0).ok
    assert server.verify(answer(server, 2.0), "REGISTER", URI, lookup, 2.0).ok
    assert server.verify(answer(server, 3.0), "REGISTER", URI, lookup, 3.0).ok
    assert server.tracked_nonces == 2
    # The evicted nonce may not be replayed: it is stale now.
    assert server.verify(oldest, "REGISTER", URI, lookup, 4.0).status is AuthStatus.STALE


def test_no_qop_answer_has_no_count_but_respects_require_qop() -> None:
    server = make_server()
    creds = answer(server, 1.0, algorithm="MD5", qop=False)
    assert server.verify(creds, "REGISTER", URI, lookup, 1.0).ok
    assert server.tracked_nonces == 0
    strict = make_server(require_qop=True)
    creds = answer(strict, 1.0, algorithm="MD5", qop=False)
    assert strict.verify(creds, "REGISTER", URI, lookup, 1.0).status is AuthStatus.FAILED


def test_tampered_nonce_fails() -> None:
    server = make_server()
    creds = answer(server, 1.0)
    raw = bytearray(creds.nonce.encode())
    raw[3] = ord("A") if raw[3] != ord("A") else ord("B")
    for nonce in (raw.decode(), "not base64!", creds.nonce + "AAAA", ""):
        forged = dataclasses.replace(creds, nonce=nonce)
        result = server.verify(forged, "REGISTER", URI, lookup, 1.0)
        assert (result.status, result.reason) == (AuthStatus.FAILED, "invalid nonce")


def test_nonce_from_another_secret_or_realm_fails() -> None:
    other = DigestServer(REALM, b"another secret")
    creds = answer(other, 1.0)
    result = make_server().verify(creds, "REGISTER", URI, lookup, 1.0)
    assert result.reason == "invalid nonce"


def test_uri_mismatch_fails_but_equivalent_uri_passes() -> None:
    server = make_server()
    creds = answer(server, 1.0, uri="sip:other.example.com")
    result = server.verify(creds, "REGISTER", URI, lookup, 1.0)
    assert (result.status, result.reason) == (AuthStatus.FAILED, "uri mismatch")
    creds = answer(server, 1.0, uri="sip:EXAMPLE.com")
    assert server.verify(creds, "REGISTER", URI, lookup, 1.0).ok


def test_method_is_part_of_the_digest() -> None:
    server = make_server()
    creds = answer(server, 1.0, method="REGISTER")
    assert server.verify(creds, "INVITE", URI, lookup, 1.0).status is AuthStatus.FAILED


def test_realm_mismatch_fails() -> None:
    server = make_server()
    creds = dataclasses.replace(answer(server, 1.0), realm="evil.example")
    result = server.verify(creds, "REGISTER", URI, lookup, 1.0)
    assert (result.status, result.reason) == (AuthStatus.FAILED, "realm mismatch")


def test_algorithm_not_offered_fails() -> None:
    server = make_server(algorithms=("SHA-256",))
    creds = answer(make_server(algorithms=("MD5",)), 1.0, algorithm="MD5")
    creds = dataclasses.replace(creds, nonce=server.new_nonce(1.0))
    assert "not offered" in server.verify(creds, "REGISTER", URI, lookup, 1.0).reason


def test_server_rejects_bad_configuration() -> None:
    with pytest.raises(LocalProtocolError):
        DigestServer(REALM, b"")
    with pytest.raises(LocalProtocolError):
        DigestServer(REALM, SECRET, algorithms=("SHA-1",))


# -- whole messages ------------------------------------------------------------------


def register(*extra: tuple[str, str]) -> Request:
    return Request.build("REGISTER", URI, [
        ("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1"),
        ("Max-Forwards", "70"),
        ("From", "<sip:alice@example.com>;tag=a1"),
        ("To", "<sip:alice@example.com>"),
        ("Call-ID", "call-1"),
        ("CSeq", "7 REGISTER"),
        ("Contact", "<sip:alice@192.0.2.1>"),
        *extra,
    ], b"body")


def test_register_round_trip_through_401() -> None:
    server = make_server()
    request = register()
    assert server.check(request, lookup, 1.0).status is AuthStatus.MISSING
    challenge = server.challenge_response(request, 1.0, to_tag="t1")
    assert challenge.status == 401 and len(challenge.headers.get_lines("WWW-Authenticate")) == 2
    retry = authorize(request, challenge, "alice", "wonderland", "cn", branch="z9hG4bK2")
    assert retry.cseq.seq == 8 and retry.cseq.method == "REGISTER"
    assert retry.via.branch == "z9hG4bK2"
    assert retry.body == b"body" and retry.call_id == "call-1"
    creds = Credentials.parse(retry.headers.get("Authorization") or "")
    assert creds.algorithm == "SHA-256" and creds.uri == URI
    received = parse_message(bytes(retry))
    assert isinstance(received, Request)
    assert server.check(received, lookup, 2.0).ok


def test_proxy_407_uses_proxy_headers() -> None:
    server = make_server()
    request = register()
    challenge = server.challenge_response(request, 1.0, proxy=True)
    assert challenge.status == 407 and "Proxy-Authenticate" in challenge.headers
    retry = authorize(request, challenge, "alice", "wonderland", "cn")
    assert "Authorization" not in retry.headers and "Proxy-Authorization" in retry.headers
    assert server.check(retry, lookup, 2.0, proxy=True).ok
    assert server.check(retry, lookup, 2.0).status is AuthStatus.MISSING


def test_client_takes_topmost_supported_challenge() -> None:
    values = ['Digest realm="r", nonce="n1", algorithm=SHA-1, qop="auth"',
              'Newfangled realm="r"',
              'Digest realm="r", nonce="n2", algorithm=MD5, qop="auth"',
              'Digest realm="r", nonce="n3", algorithm=SHA-256, qop="auth"',
              'Digest realm="s", nonce="n4", qop="auth-int"',
              'Digest realm="s", nonce="n5"']
    chosen = select_challenges(values)
    assert [(c.realm, c.nonce) for c in chosen] == [("r", "n2"), ("s", "n5")]


def test_retry_replaces_only_credentials_for_answered_realm() -> None:
    request = register(("Authorization", 'Digest username="alice", realm="example.com",'
                        ' nonce="old", uri="sip:example.com", response="00"'),
                       ("Authorization", 'Digest username="a", realm="elsewhere", nonce="x",'
                        ' uri="sip:example.com", response="11"'),
                       ("Authorization", "Bearer abc"))
    response = make_response(request, 401, headers=[
        ("WWW-Authenticate", 'Digest realm="example.com", nonce="new", qop="auth"')])
    retry = authorize(request, response, "alice", "wonderland", "cn", nc=3)
    lines = retry.headers.get_lines("Authorization")
    assert len(lines) == 3 and "Bearer abc" in lines
    assert not any('nonce="old"' in line for line in lines)
    realms = sorted(Credentials.parse(x).realm for x in lines if x.startswith("Digest"))
    assert realms == ["elsewhere", "example.com"]
    assert any("nc=00000003" in line for line in lines)


def test_authorize_refuses_other_statuses_and_unsupported_challenges() -> None:
    request = register()
    with pytest.raises(LocalProtocolError):
        authorize(request, make_response(request, 403), "alice", "pw", "cn")
    only_basic = make_response(request, 401, headers=[("WWW-Authenticate", 'Basic realm="x"')])
    with pytest.raises(LocalProtocolError):
        authorize(request, only_basic, "alice", "pw", "cn")


def test_rfc4475_regaut01_unknown_scheme_is_challenged() -> None:
    # RFC 4475 §3.1.2.1: an unknown scheme in Authorization gets a 401.
    wire = (b"REGISTER sip:example.com SIP/2.0\r\n"
            b"To: sip:j.user@example.com\r\n"
            b"From: sip:j.user@example.com;tag=87321hj23128\r\n"
            b"Max-Forwards: 8\r\n"
            b"Call-ID: 9k$l9d2mB8-1a.lKJsd\r\n"
            b"CSeq: 9338 REGISTER\r\n"
            b"Via: SIP/2.0/UDP 192.0.2.253;branch=z9hG4bKkdjuw\r\n"
            b"Authorization: NoOneKnowsThisScheme opaque-data=here\r\n"
            b"Content-Length:0\r\n\r\n")
    request = parse_message(wire)
    assert isinstance(request, Request)
    server = DigestServer("example.com", SECRET)
    assert server.check(request, lookup, 1.0).status is AuthStatus.MISSING
    response: Response = server.challenge_response(request, 1.0, to_tag="x")
    assert response.status == 401 and response.to.tag == "x"
