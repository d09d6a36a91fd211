"""Digest challenge and credentials header values (RFC 3261 §22.4, §25.1; RFC 7616 §3.3-3.4).

``WWW-Authenticate``/``Proxy-Authenticate`` carry a :class:`Challenge`,
``Authorization``/``Proxy-Authorization`` carry :class:`Credentials`. Both are
``"Digest" LWS auth-param *(COMMA auth-param)`` where an auth-param is
``name EQUAL (token / quoted-string)``; names are case-insensitive. Values that
the grammar wants quoted are accepted unquoted too (and the reverse), because
deployed clients disagree; unknown parameters are kept so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipstack.errors import RemoteProtocolError
from sipstack.headers import is_token, quote

AuthParams = tuple[tuple[str, str], ...]

_LWS = " \t\r\n"
_TOKEN_STOP = frozenset(_LWS + ',="')
_NC_HEX = frozenset("0123456789abcdefABCDEF")


def auth_scheme(text: str) -> str:
    """The auth-scheme token a challenge or credentials value starts with."""
    text = text.lstrip(_LWS)
    end = 0
    while end < len(text) and text[end] not in _LWS:
        end += 1
    return text[:end]


def is_digest(text: str) -> bool:
    """True when the value uses the Digest scheme (any case)."""
    return auth_scheme(text).lower() == "digest"


def parse_auth_params(text: str, status_hint: int | None = 400) -> AuthParams:
    """Parse ``Digest a=b, c="d"`` into ``(("a", "b"), ("c", "d"))``.

    Names are lowered; quoted values are unescaped. A scheme other than Digest,
    a repeated name, an empty element or stray text raises
    :class:`RemoteProtocolError`.
    """
    scheme = auth_scheme(text)
    if scheme.lower() != "digest":
        raise RemoteProtocolError(f"unsupported auth scheme {scheme!r}", status_hint)
    body = text.lstrip(_LWS)[len(scheme):]
    if body and body[0] not in _LWS:
        raise RemoteProtocolError(f"no LWS after auth scheme in {text!r}", status_hint)
    return _Scanner(body, text, status_hint).params()


class _Scanner:
    """A cursor over the auth-param list after the scheme."""

    __slots__ = ("hint", "i", "s", "whole")

    def __init__(self, s: str, whole: str, hint: int | None) -> None:
        self.s, self.whole, self.hint, self.i = s, whole, hint, 0

    def fail(self, what: str) -> RemoteProtocolError:
        return RemoteProtocolError(f"{what} in auth header {self.whole!r}", self.hint)

    def skip_lws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in _LWS:
            self.i += 1

    def token(self) -> str:
        start = self.i
        while self.i < len(self.s) and self.s[self.i] not in _TOKEN_STOP:
            self.i += 1
        word = self.s[start:self.i]
        if not is_token(word):
            raise self.fail(f"invalid token {word!r}")
        return word

    def quoted(self) -> str:
        out: list[str] = []
        self.i += 1  # opening quote
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < len(self.s):
                out.append(self.s[self.i + 1])
                self.i += 2
                continue
            self.i += 1
            if c == '"':
                return "".join(out)
            out.append(c)
        raise self.fail("unterminated quoted string")

    def params(self) -> AuthParams:
        result: list[tuple[str, str]] = []
        seen: set[str] = set()
        while True:
            self.skip_lws()
            name = self.token().lower()
            self.skip_lws()
            if self.i >= len(self.s) or self.s[self.i] != "=":
                raise self.fail(f"missing '=' after {name!r}")
            self.i += 1
            self.skip_lws()
            at_quote = self.i < len(self.s) and self.s[self.i] == '"'
            value = self.quoted() if at_quote else self.token()
            if name in seen:
                raise self.fail(f"repeated parameter {name!r}")
            seen.add(name)
            result.append((name, value))
            self.skip_lws()
            if self.i >= len(self.s):
                return tuple(result)
            if self.s[self.i] != ",":
                raise self.fail("junk after parameter")
            self.i += 1


def _take(params: AuthParams, known: tuple[str, ...]) -> tuple[dict[str, str], AuthParams]:
    found = {n: v for n, v in params if n in known}
    extra = tuple((n, v) for n, v in params if n not in known)
    return found, extra


def _require(found: dict[str, str], names: tuple[str, ...], what: str,
             hint: int | None) -> None:
    missing = [n for n in names if n not in found]
    if missing:
        raise RemoteProtocolError(f"{what} lacks {', '.join(missing)}", hint)


def _extra_text(params: AuthParams) -> list[str]:
    return [f"{n}={v}" if is_token(v) else f"{n}={quote(v)}" for n, v in params]


_CHALLENGE_KEYS = ("realm", "nonce", "algorithm", "qop", "opaque", "stale", "domain")


@dataclass(frozen=True, slots=True)
class Challenge:
    """A Digest challenge (``WWW-Authenticate`` / ``Proxy-Authenticate`` value).

    ``algorithm`` is ``None`` when absent (which means MD5); ``qop`` lists the
    offered qop-options, empty when the challenge has none (RFC 2069 style).
    """

    realm: str
    nonce: str
    algorithm: str | None = None
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    domain: str | None = None
    params: AuthParams = ()

    @classmethod
    def parse(cls, text: str) -> Challenge:
        """Parse one challenge; errors carry no status (it came in a response)."""
        found, extra = _take(parse_auth_params(text, None), _CHALLENGE_KEYS)
        _require(found, ("realm", "nonce"), "Digest challenge", None)
        qop = found.get("qop")
        options = tuple(q.strip().lower() for q in qop.split(",")) if qop is not None else ()
        if any(not is_token(q) for q in options):
            raise RemoteProtocolError(f"invalid qop-options {qop!r}", None)
        return cls(found["realm"], found["nonce"], found.get("algorithm"), options,
                   found.get("opaque"), found.get("stale", "").lower() == "true",
                   found.get("domain"), extra)

    def __str__(self) -> str:
        parts = [f"realm={quote(self.realm)}"]
        if self.domain is not None:
            parts.append(f"domain={quote(self.domain)}")
        parts.append(f"nonce={quote(self.nonce)}")
        if self.opaque is not None:
            parts.append(f"opaque={quote(self.opaque)}")
        if self.stale:
            parts.append("stale=true")
        if self.algorithm is not None:
            parts.append(f"algorithm={self.algorithm}")
        if self.qop:
            parts.append(f"qop={quote(','.join(self.qop))}")
        parts.extend(_extra_text(self.params))
        return "Digest " + ", ".join(parts)


_CREDENTIAL_KEYS = ("username", "realm", "nonce", "uri", "response", "algorithm",
                    "cnonce", "opaque", "qop", "nc")


def _parse_nc(text: str | None) -> int | None:
    if text is None:
        return None
    if len(text) != 8 or not set(text) <= _NC_HEX:
        raise RemoteProtocolError(f"nonce-count must be 8 hex digits, not {text!r}")
    return int(text, 16)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Digest credentials (``Authorization`` / ``Proxy-Authorization`` value).

    ``nc`` is the nonce-count as a number (sent as 8 hex digits); ``qop``,
    ``nc`` and ``cnonce`` are ``None`` for an RFC 2069 style answer.
    """

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: int | None = None
    params: AuthParams = ()

    @classmethod
    def parse(cls, text: str) -> Credentials:
        """Parse credentials; a non-Digest scheme raises with ``status_hint``
        401 (challenge the client, RFC 4475 §3.1.2.1 regaut01)."""
        if not is_digest(text):
            raise RemoteProtocolError(f"unsupported auth scheme {auth_scheme(text)!r}", 401)
        found, extra = _take(parse_auth_params(text), _CREDENTIAL_KEYS)
        _require(found, ("username", "realm", "nonce", "uri", "response"),
                 "Digest credentials", 400)
        qop = found.get("qop")
        return cls(found["username"], found["realm"], found["nonce"], found["uri"],
                   found["response"], found.get("algorithm"), found.get("cnonce"),
                   found.get("opaque"), None if qop is None else qop.lower(),
                   _parse_nc(found.get("nc")), extra)

    def __str__(self) -> str:
        parts = [f"username={quote(self.username)}", f"realm={quote(self.realm)}",
                 f"nonce={quote(self.nonce)}", f"uri={quote(self.uri)}",
                 f"response={quote(self.response)}"]
        if self.algorithm is not None:
            parts.append(f"algorithm={self.algorithm}")
        if self.cnonce is not None:
            parts.append(f"cnonce={quote(self.cnonce)}")
        if self.opaque is not None:
            parts.append(f"opaque={quote(self.opaque)}")
        if self.qop is not None:
            parts.append(f"qop={self.qop}")
        if self.nc is not None:
            parts.append(f"nc={self.nc:08x}")
        parts.extend(_extra_text(self.params))
        return "Digest " + ", ".join(parts)
