"""The challenging side of Digest (RFC 3261 §22.1, §22.3-22.4; RFC 7616 §3.3, §3.5; RFC 8760).

:class:`DigestServer` issues challenges and checks credentials without I/O or
a clock of its own (``now`` is passed in, seconds as a float). Nonces need no
server state: a nonce is ``base64url(issue-ms | counter | HMAC(secret,
issue-ms | counter | realm))``, so it verifies until it is older than the
nonce lifetime and is then *stale* (RFC 7616 §3.3, ``stale=true``). With
qop=auth the highest nonce-count seen per nonce is remembered until the nonce
expires, and a repeated or lower count is refused (RFC 7616 §5.12 replay).
A UAS sends one challenge per algorithm, most preferred first (RFC 8760 §2.4).
"""

from __future__ import annotations

import base64
import binascii
import heapq
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from sipstack.auth.challenge import Challenge, Credentials, is_digest
from sipstack.auth.digest import (
    ALGORITHMS,
    digest_hash,
    hash_name,
    request_digest,
    session_ha1,
)
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.message import Request, Response, make_response
from sipstack.uri import parse_uri

# (username, hash name) -> H(username:realm:password) in hex, or None if unknown;
# the hash name is "MD5", "SHA-256" or "SHA-512-256" (-sess variants use the base).
HA1Lookup = Callable[[str, str], str | None]

_NONCE_HEAD = struct.Struct(">qI")  # issue time in ms, per-server counter
_MAC_BYTES = 15  # 12 + 15 bytes: 36 base64 characters, no padding
_NONCE_BYTES = _NONCE_HEAD.size + _MAC_BYTES
# Nonces dated this far in the future (a clock reset) are treated as stale.
_FUTURE_SLACK = 1.0


class AuthStatus(Enum):
    """Outcome of checking credentials."""

    OK = "ok"            # authenticated
    STALE = "stale"      # right password, unusable nonce: challenge with stale=true
    FAILED = "failed"    # wrong, unknown or malformed: challenge afresh
    MISSING = "missing"  # no credentials for this realm: challenge


@dataclass(frozen=True, slots=True)
class AuthResult:
    """What :meth:`DigestServer.verify` decided. ``username`` is the name the
    client claimed (authenticated only when ``ok``)."""

    status: AuthStatus
    reason: str = ""
    username: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is AuthStatus.OK

    @property
    def stale(self) -> bool:
        return self.status is AuthStatus.STALE


@dataclass(frozen=True, slots=True)
class _Nonce:
    issued_ms: int
    counter: int


class DigestServer:
    """Challenges and verifies Digest credentials for one realm.

    ``secret`` keys the nonce MAC (keep it across restarts to honour issued
    nonces). ``algorithms`` are offered most preferred first. With
    ``require_qop`` an answer without qop=auth (RFC 2069 style, which has no
    replay protection inside the nonce lifetime) is refused.
    """

    def __init__(self, realm: str, secret: bytes, *, nonce_lifetime: float = 300.0,
                 algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
                 require_qop: bool = False, max_tracked_nonces: int = 100_000) -> None:
        if not secret:
            raise LocalProtocolError("a DigestServer needs a non-empty secret")
        unknown = [a for a in algorithms if a.upper() not in ALGORITHMS]
        if unknown or not algorithms:
            raise LocalProtocolError(f"unsupported digest algorithms {unknown!r}")
        self.realm = realm
        self.nonce_lifetime = nonce_lifetime
        self.algorithms = algorithms
        self.require_qop = require_qop
        self.max_tracked_nonces = max_tracked_nonces
        self._secret = secret
        self._counter = 0
        self._highest_nc: dict[str, int] = {}
        self._expiries: list[tuple[float, int, str]] = []  # heap: (expiry, issued_ms, nonce)
        self._floor_ms = -(2**63)  # nonces issued at or before this are no longer tracked
        self._dummy_ha1 = {a: digest_hash(a, f"{secret.hex()}:{realm}") for a in algorithms}

    # -- challenges ---------------------------------------------------------

    def new_nonce(self, now: float) -> str:
        """A fresh nonce, unique per server instance."""
        self._counter = (self._counter + 1) & 0xFFFFFFFF
        head = _NONCE_HEAD.pack(int(now * 1000), self._counter)
        return base64.urlsafe_b64encode(head + self._mac(head)).decode("ascii")

    def challenge(self, now: float, stale: bool = False,
                  algorithms: tuple[str, ...] | None = None) -> list[str]:
        """``WWW-Authenticate``/``Proxy-Authenticate`` values, one per algorithm
        in the order given (default: the server's), all with one new nonce."""
        nonce = self.new_nonce(now)
        return [str(Challenge(self.realm, nonce, algorithm, ("auth",), stale=stale))
                for algorithm in (algorithms or self.algorithms)]

    def challenge_response(self, request: Request, now: float, *, stale: bool = False,
                           proxy: bool = False, to_tag: str | None = None) -> Response:
        """The 401 (or 407 when ``proxy``) answering ``request`` (RFC 3261 §22.1)."""
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        headers = [(name, value) for value in self.challenge(now, stale)]
        return make_response(request, 407 if proxy else 401, to_tag=to_tag, headers=headers)

    # -- verification -------------------------------------------------------

    def check(self, request: Request, ha1_lookup: HA1Lookup, now: float, *,
              proxy: bool = False) -> AuthResult:
        """Verify the request's credentials for this realm. Credentials of other
        schemes or realms are ignored (RFC 3261 §22.3); none left is MISSING."""
        name = "Proxy-Authorization" if proxy else "Authorization"
        for value in request.headers.get_lines(name):
            if not is_digest(value):
                continue
            credentials = Credentials.parse(value)
            if credentials.realm == self.realm:
                return self.verify(credentials, request.method, str(request.uri),
                                   ha1_lookup, now)
        return AuthResult(AuthStatus.MISSING, f"no Digest credentials for {self.realm!r}")

    def verify(self, credentials: Credentials, method: str, uri: str,
               ha1_lookup: HA1Lookup, now: float) -> AuthResult:
        """Check ``credentials`` sent with a request ``method`` to Request-URI ``uri``.

        An unknown user and a wrong password give the same result after the same
        work (a hash against a dummy key). STALE means the digest was right but
        the nonce is expired or the nonce-count was replayed.
        """
        user = credentials.username
        problem = self._shape_problem(credentials, uri)
        if problem:
            return AuthResult(AuthStatus.FAILED, problem, user)
        nonce = self._decode_nonce(credentials.nonce)
        if nonce is None:
            return AuthResult(AuthStatus.FAILED, "invalid nonce", user)
        if not self._digest_matches(credentials, method, ha1_lookup):
            return AuthResult(AuthStatus.FAILED, "invalid credentials", user)
        issued = nonce.issued_ms / 1000
        if now - issued > self.nonce_lifetime or issued - now > _FUTURE_SLACK:
            return AuthResult(AuthStatus.STALE, "nonce expired", user)
        if credentials.nc is not None and not self._count(credentials, nonce, now):
            return AuthResult(AuthStatus.STALE, "nonce-count replayed", user)
        return AuthResult(AuthStatus.OK, "", user)

    def _shape_problem(self, credentials: Credentials, uri: str) -> str:
        """Why the credentials cannot be for this server, or ''."""
        if credentials.realm != self.realm:
            return "realm mismatch"
        algorithm = (credentials.algorithm or "MD5").upper()
        if algorithm not in {a.upper() for a in self.algorithms}:
            return f"algorithm {credentials.algorithm!r} not offered"
        if credentials.qop is None:
            if self.require_qop or algorithm.endswith("-SESS"):
                return "qop=auth required"
            if credentials.nc is not None or credentials.cnonce is not None:
                return "nc/cnonce without qop"
        elif credentials.qop != "auth":
            return f"qop {credentials.qop!r} not offered"
        elif credentials.nc is None or not credentials.cnonce:
            return "qop=auth without nc and cnonce"
        if not _same_uri(credentials.uri, uri):
            return "uri mismatch"
        return ""

    def _digest_matches(self, credentials: Credentials, method: str,
                        ha1_lookup: HA1Lookup) -> bool:
        algorithm = next(a for a in self.algorithms
                         if a.upper() == (credentials.algorithm or "MD5").upper())
        key = ha1_lookup(credentials.username, hash_name(algorithm))
        known = key is not None
        if key is None:
            key = self._dummy_ha1[algorithm]
        if algorithm.upper().endswith("-SESS"):
            key = session_ha1(key, credentials.nonce, credentials.cnonce or "", algorithm)
        expected = request_digest(key.lower(), credentials.nonce, method, credentials.uri,
                                  algorithm, credentials.qop, credentials.nc,
                                  credentials.cnonce)
        matches = hmac.compare_digest(expected.encode(), credentials.response.lower().encode())
        return matches and known

    def _mac(self, head: bytes) -> bytes:
        message = head + self.realm.encode("utf-8")
        return hmac.new(self._secret, message, "sha256").digest()[:_MAC_BYTES]

    def _decode_nonce(self, text: str) -> _Nonce | None:
        try:
            raw = base64.b64decode(text.encode("ascii"), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return None
        if len(raw) != _NONCE_BYTES:
            return None
        head, mac = raw[:_NONCE_HEAD.size], raw[_NONCE_HEAD.size:]
        if not hmac.compare_digest(mac, self._mac(head)):
            return None
        issued_ms, counter = _NONCE_HEAD.unpack(head)
        return _Nonce(issued_ms, counter)

    # -- nonce-count bookkeeping -----------------------------------------------

    @property
    def tracked_nonces(self) -> int:
        """How many nonces have a remembered nonce-count."""
        return len(self._highest_nc)

    def _count(self, credentials: Credentials, nonce: _Nonce, now: float) -> bool:
        """Record the nonce-count; False when it is not above every earlier one."""
        self._forget_expired(now)
        nc = credentials.nc or 0
        if nonce.issued_ms <= self._floor_ms:
            return False
        last = self._highest_nc.get(credentials.nonce)
        if last is not None and nc <= last:
            return False
        if last is None:
            expiry = nonce.issued_ms / 1000 + self.nonce_lifetime
            heapq.heappush(self._expiries, (expiry, nonce.issued_ms, credentials.nonce))
        self._highest_nc[credentials.nonce] = nc
        while len(self._highest_nc) > self.max_tracked_nonces:
            self._evict_oldest()
        return True

    def _forget_expired(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, _, nonce = heapq.heappop(self._expiries)
            del self._highest_nc[nonce]

    def _evict_oldest(self) -> None:
        # Forgetting a live nonce would reopen it to replay, so everything issued
        # up to it counts as stale from now on.
        _, issued_ms, nonce = heapq.heappop(self._expiries)
        del self._highest_nc[nonce]
        self._floor_ms = max(self._floor_ms, issued_ms)


def _same_uri(given: str, request_uri: str) -> bool:
    """The digest-uri names the Request-URI (RFC 3261 §22.4 item 6): equal as
    text, or equal once parsed (escaping and host case aside)."""
    if given == request_uri:
        return True
    try:
        return parse_uri(given) == parse_uri(request_uri)
    except RemoteProtocolError:
        return False
