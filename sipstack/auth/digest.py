"""Digest arithmetic and the client side (RFC 3261 §22.2-22.4, RFC 7616 §3.4, RFC 8760).

``H(A1)`` is ``H(username:realm:password)``; the ``-sess`` algorithms use
``H(H(username:realm:password):nonce:cnonce)`` (RFC 7616 §3.4.2). The
request-digest is ``KD(H(A1), nonce:nc:cnonce:qop:H(A2))`` with qop=auth, or
``KD(H(A1), nonce:H(A2))`` when the challenge offered no qop (RFC 2069, kept
by RFC 2617 §3.2.2.1 for old clients), with ``A2 = Method:digest-uri`` and
``KD(s, d) = H(s:d)``. A client answers the topmost challenge whose algorithm
it supports (RFC 8760 §2.4), one per realm, in a retried request with the
CSeq raised by one (RFC 3261 §22.2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from sipstack.auth.challenge import Challenge, Credentials, is_digest
from sipstack.errors import LocalProtocolError
from sipstack.headers import CSeq, Headers
from sipstack.message import Request, Response


def _sha512_256(data: bytes) -> str:
    return hashlib.new("sha512_256", data).hexdigest()


# Hash functions by algorithm name (upper case), RFC 7616 §6.1 registry.
HASHES: dict[str, Callable[[bytes], str]] = {
    "MD5": lambda data: hashlib.md5(data).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
    "SHA-512-256": _sha512_256,
}

# Algorithm names a peer may use, including the -sess variants.
ALGORITHMS: frozenset[str] = frozenset(
    [*HASHES, *(f"{name}-SESS" for name in HASHES)]
)


def _base(algorithm: str | None) -> tuple[str, bool]:
    """Hash name and whether it is a ``-sess`` variant; absent means MD5."""
    name = "MD5" if algorithm is None else algorithm.upper()
    if name not in ALGORITHMS:
        raise LocalProtocolError(f"unsupported digest algorithm {algorithm!r}")
    return (name[:-5], True) if name.endswith("-SESS") else (name, False)


def hash_name(algorithm: str | None) -> str:
    """The hash behind an algorithm: ``"SHA-256-sess"`` -> ``"SHA-256"``."""
    return _base(algorithm)[0]


def is_supported(algorithm: str | None) -> bool:
    """True for MD5, SHA-256, SHA-512-256 and their -sess forms (any case)."""
    return ("MD5" if algorithm is None else algorithm.upper()) in ALGORITHMS


def digest_hash(algorithm: str | None, text: str) -> str:
    """``H(text)`` in lower-case hex for the algorithm's hash function."""
    return HASHES[_base(algorithm)[0]](text.encode("utf-8"))


def ha1(username: str, realm: str, password: str, algorithm: str | None = "MD5") -> str:
    """``H(username:realm:password)``: what a user store keeps instead of the
    password. For ``-sess`` algorithms this is the base value that
    :func:`session_ha1` turns into the per-nonce ``H(A1)``."""
    return digest_hash(algorithm, f"{username}:{realm}:{password}")


def session_ha1(base_ha1: str, nonce: str, cnonce: str, algorithm: str) -> str:
    """``H(A1)`` for a ``-sess`` algorithm (RFC 7616 §3.4.2)."""
    return digest_hash(algorithm, f"{base_ha1}:{nonce}:{cnonce}")


def request_digest(ha1_hex: str, nonce: str, method: str, uri: str,
                   algorithm: str | None = "MD5", qop: str | None = None,
                   nc: int | None = None, cnonce: str | None = None) -> str:
    """The ``response`` value for ``H(A1)`` (already session-adjusted for -sess).

    With ``qop`` (only ``auth`` is supported) ``nc`` and ``cnonce`` are needed.
    """
    ha2 = digest_hash(algorithm, f"{method}:{uri}")
    if qop is None:
        return digest_hash(algorithm, f"{ha1_hex}:{nonce}:{ha2}")
    if qop != "auth":
        raise LocalProtocolError(f"unsupported qop {qop!r}")
    if nc is None or cnonce is None:
        raise LocalProtocolError("qop=auth needs nc and cnonce")
    return digest_hash(algorithm, f"{ha1_hex}:{nonce}:{nc:08x}:{cnonce}:auth:{ha2}")


def build_credentials(challenge: Challenge, method: str, uri: str, username: str,
                      password: str, cnonce: str, nc: int = 1) -> Credentials:
    """Answer ``challenge`` for a request ``method uri`` (RFC 7616 §3.4).

    qop=auth is used when offered; a challenge without qop gets an RFC 2069
    answer. Raises :class:`LocalProtocolError` for an unsupported algorithm,
    a qop list without ``auth``, or a -sess challenge without qop.
    """
    _, sess = _base(challenge.algorithm)
    if challenge.qop and "auth" not in challenge.qop:
        raise LocalProtocolError(f"no supported qop in {challenge.qop!r}")
    qop = "auth" if challenge.qop else None
    if sess and qop is None:
        raise LocalProtocolError("a -sess algorithm needs qop (the cnonce travels with it)")
    key = ha1(username, challenge.realm, password, challenge.algorithm)
    if sess:
        key = session_ha1(key, challenge.nonce, cnonce, challenge.algorithm or "MD5")
    response = request_digest(key, challenge.nonce, method, uri, challenge.algorithm,
                              qop, nc if qop else None, cnonce if qop else None)
    return Credentials(username, challenge.realm, challenge.nonce, uri, response,
                       challenge.algorithm, cnonce if qop else None, challenge.opaque,
                       qop, nc if qop else None)


def select_challenges(values: Iterable[str]) -> list[Challenge]:
    """Per realm, the topmost Digest challenge this side can answer (RFC 8760
    §2.4: a UAS lists its algorithms most preferred first). Other schemes and
    unsupported algorithms or qop-options are skipped."""
    chosen: dict[str, Challenge] = {}
    for value in values:
        if not is_digest(value):
            continue
        challenge = Challenge.parse(value)
        if challenge.realm in chosen or not _answerable(challenge):
            continue
        chosen[challenge.realm] = challenge
    return list(chosen.values())


def _answerable(challenge: Challenge) -> bool:
    if not is_supported(challenge.algorithm):
        return False
    if not challenge.qop:
        return not (challenge.algorithm or "").upper().endswith("-SESS")
    return "auth" in challenge.qop


# (challenge header, credentials header) by status code (RFC 3261 §22.2, §22.3).
_HEADER_PAIRS = {401: ("WWW-Authenticate", "Authorization"),
                 407: ("Proxy-Authenticate", "Proxy-Authorization")}


def authorize(request: Request, response: Response, username: str, password: str,
              cnonce: str, nc: int = 1, *, branch: str | None = None) -> Request:
    """The request to send again after a 401/407 ``response`` (RFC 3261 §22.2).

    Answers one challenge per realm, replaces earlier credentials for those
    realms, raises CSeq by one and keeps every other header and the body. The
    retry is a new transaction: pass ``branch`` to put a new branch into the
    top Via here, or let the transaction layer do it.
    """
    pair = _HEADER_PAIRS.get(response.status)
    if pair is None:
        raise LocalProtocolError(f"a {response.status} response carries no challenge")
    challenge_name, credentials_name = pair
    challenges = select_challenges(response.headers.get_lines(challenge_name))
    if not challenges:
        raise LocalProtocolError(f"no Digest challenge this client supports in {response.status}")
    uri = str(request.uri)
    answers = [build_credentials(c, request.method, uri, username, password, cnonce, nc)
               for c in challenges]
    headers = _without_realms(request, credentials_name, {c.realm for c in challenges})
    for credentials in answers:
        headers = headers.with_added(credentials_name, str(credentials))
    cseq = request.cseq
    headers = headers.with_replaced("CSeq", str(CSeq(cseq.seq + 1, cseq.method)))
    if branch is not None:
        vias = headers.get_all("Via")
        top = str(request.via.with_params(branch=branch))
        headers = headers.with_replaced("Via", top, *vias[1:])
    return request.replace(headers=headers)


def _without_realms(request: Request, name: str, realms: set[str]) -> Headers:
    return Headers((n, v) for n, v in request.headers
                   if n.lower() != name.lower() or not _for_realm(v, realms))


def _for_realm(value: str, realms: set[str]) -> bool:
    if not is_digest(value):
        return False
    return Credentials.parse(value).realm in realms
