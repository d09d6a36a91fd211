"""SIP, SIPS and absolute URIs (RFC 3261 §19.1, §25.1; RFC 5118 for IPv6).

Components are kept as they were written (still %-escaped) so that a URI
serialises back to the same text; :func:`unescape` decodes once, never
recursively (RFC 4475 §3.1.1.3).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from sipstack.errors import RemoteProtocolError
from sipstack.syntax import remember, slot_setters

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*\Z")
_HOSTNAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                          r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.?\Z")
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters allowed (besides escapes) in each component; a '%' not followed by
# two hex digits is not an escape and makes the URI invalid where escapes count.
_USER_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+\Z")
_PASSWORD_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*\Z")
_PARAM_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|%[0-9A-Fa-f]{2})+\Z")
_HEADER_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/?:+$]|%[0-9A-Fa-f]{2})*\Z")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
_HOSTNAME = rf"{_LABEL}(?:\.{_LABEL})*\.?"
# The everyday ``sip:user@host:port;param=value`` with nothing escaped, no
# password, no IPv6 reference and no headers: parsed by one match.
_SIMPLE_SIP_RE = re.compile(
    rf"(sips?):(?:([A-Za-z0-9\-_.!~*'()&=+$,]+)@)?({_HOSTNAME})(?::([0-9]{{1,5}}))?"
    r"((?:;[A-Za-z0-9\-_.!~*'()\[\]/:&+$]+(?:=[A-Za-z0-9\-_.!~*'()\[\]/:&+$]+)?)*)\Z",
    re.I,
)

Params = tuple[tuple[str, str | None], ...]


def unescape(text: str) -> str:
    """Decode %HH escapes once (``'value%2541'`` becomes ``'value%41'``)."""
    if "%" not in text:
        return text
    raw = _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
    # Escapes encode octets; re-read multi-byte UTF-8 sequences as text.
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def parse_host(text: str) -> str:
    """Validate a host (hostname, IPv4 or bracketed IPv6) and return it lowered."""
    if text.startswith("["):
        if not text.endswith("]"):
            raise RemoteProtocolError(f"unterminated IPv6 reference {text!r}")
        try:
            ipaddress.IPv6Address(text[1:-1])
        except ValueError:
            raise RemoteProtocolError(f"invalid IPv6 reference {text!r}") from None
        return text.lower()
    if not text or not _HOSTNAME_RE.match(text):
        raise RemoteProtocolError(f"invalid host {text!r}")
    return text.lower()


def split_hostport(text: str) -> tuple[str, int | None]:
    """Split ``host[:port]`` (host may be ``[IPv6]``) and validate both parts."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise RemoteProtocolError(f"unterminated IPv6 reference {text!r}")
        host, rest = text[: end + 1], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise RemoteProtocolError(f"junk after IPv6 reference in {text!r}")
        port_text = rest[1:] if rest else None
    else:
        host, sep, port_text_ = text.partition(":")
        port_text = port_text_ if sep else None
    port = None
    if port_text is not None:
        if not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
            raise RemoteProtocolError(f"invalid port in {text!r}")
        port = int(port_text)
    return parse_host(host), port


def parse_params(text: str, pattern: re.Pattern[str] = _PARAM_RE) -> Params:
    """Parse ``;a=b;c`` URI parameters (text starts after the first ';')."""
    params: list[tuple[str, str | None]] = []
    for item in text.split(";"):
        name, sep, value = item.partition("=")
        if not name or not pattern.match(name) or (sep and not pattern.match(value)):
            raise RemoteProtocolError(f"invalid URI parameter {item!r}")
        params.append((name, value if sep else None))
    return tuple(params)


def _params_text(params: Params) -> str:
    return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)


def find_param(params: Params, name: str) -> str | None:
    """Value of parameter ``name`` (case-insensitive); ``""`` for a flag."""
    lname = name.lower()
    for key, value in params:
        if key.lower() == lname:
            return "" if value is None else value
    return None


@dataclass(frozen=True, slots=True)
class SipURI:
    """A ``sip:`` or ``sips:`` URI; ``user``/``password`` are still escaped."""

    host: str
    user: str | None = None
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()
    password: str | None = None
    scheme: str = "sip"
    _text: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> SipURI:
        m = _SIMPLE_SIP_RE.match(text)
        if m is not None:
            scheme, user, host, port_text, param_text = m.groups()
            port = None
            if port_text is not None:
                port = int(port_text)
                if port > 65535:
                    raise RemoteProtocolError(f"invalid port in {text!r}")
            params = parse_params(param_text[1:]) if param_text else ()
            return _new_sip_uri(host.lower(), user, port, params, scheme.lower(), text)
        return cls._parse_general(text)

    @classmethod
    def _parse_general(cls, text: str) -> SipURI:
        scheme, sep, rest = text.partition(":")
        lscheme = scheme.lower()
        if not sep or lscheme not in ("sip", "sips"):
            raise RemoteProtocolError(f"not a SIP URI: {text!r}")
        user = password = None
        at = rest.find("@")
        if at >= 0:
            userinfo, rest = rest[:at], rest[at + 1 :]
            user, psep, pw = userinfo.partition(":")
            if not _USER_RE.match(user) or (psep and not _PASSWORD_RE.match(pw)):
                raise RemoteProtocolError(f"invalid userinfo in {text!r}")
            password = pw if psep else None
        rest, qsep, header_text = rest.partition("?")
        hostport, psep2, param_text = rest.partition(";")
        host, port = split_hostport(hostport)
        params = parse_params(param_text) if psep2 else ()
        headers: tuple[tuple[str, str], ...] = ()
        if qsep:
            pairs = []
            for item in header_text.split("&"):
                hname, hsep, hvalue = item.partition("=")
                if not hname or not hsep or not _HEADER_RE.match(hname + hvalue):
                    raise RemoteProtocolError(f"invalid URI header {item!r}")
                pairs.append((hname, hvalue))
            headers = tuple(pairs)
        return cls(host, user, port, params, headers, password, lscheme, text)

    def param(self, name: str) -> str | None:
        """Value of URI parameter ``name``; ``""`` when present without value."""
        return find_param(self.params, name)

    @property
    def user_text(self) -> str | None:
        """The user part with escapes decoded once."""
        return None if self.user is None else unescape(self.user)

    @property
    def hostport(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def replace(self, **changes: object) -> SipURI:
        """A copy with ``changes`` applied (serialised afresh)."""
        values: dict[str, Any] = {
            "host": self.host, "user": self.user, "port": self.port, "params": self.params,
            "headers": self.headers, "password": self.password, "scheme": self.scheme,
        }
        values.update(changes)
        return SipURI(**values)

    def __str__(self) -> str:
        if self._text is not None:
            return self._text
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user)
            if self.password is not None:
                out += [":", self.password]
            out.append("@")
        out.append(self.hostport)
        out.append(_params_text(self.params))
        if self.headers:
            out.append("?" + "&".join(f"{n}={v}" for n, v in self.headers))
        return "".join(out)

    def __bytes__(self) -> bytes:
        return str(self).encode()


@dataclass(frozen=True, slots=True)
class AbsoluteURI:
    """Any other URI scheme (``tel:``, ``mailto:``, ``urn:`` …), kept opaque."""

    scheme: str
    value: str

    @classmethod
    def parse(cls, text: str) -> AbsoluteURI:
        scheme, sep, value = text.partition(":")
        if not sep or not _SCHEME_RE.match(scheme) or not value:
            raise RemoteProtocolError(f"invalid URI {text!r}")
        if any(c.isspace() or c in "<>\"" for c in value):
            raise RemoteProtocolError(f"invalid character in URI {text!r}")
        return cls(scheme.lower(), value)

    def param(self, name: str) -> str | None:
        return None

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"

    def __bytes__(self) -> bytes:
        return str(self).encode()


URI = SipURI | AbsoluteURI


_new = object.__new__
_SET_SIP_URI = slot_setters(
    SipURI, "host user port params headers password scheme _text"
)


def _new_sip_uri(host: str, user: str | None, port: int | None, params: Params,
                 scheme: str, text: str) -> SipURI:
    """A :class:`SipURI` without headers or password, built for the parser."""
    uri = _new(SipURI)
    s_host, s_user, s_port, s_params, s_headers, s_password, s_scheme, s_text = _SET_SIP_URI
    s_host(uri, host)
    s_user(uri, user)
    s_port(uri, port)
    s_params(uri, params)
    s_headers(uri, ())
    s_password(uri, None)
    s_scheme(uri, scheme)
    s_text(uri, text)
    return uri


# URI text -> parsed URI (see :func:`sipstack.syntax.remember`).
URI_MEMO: dict[str, URI] = {}


def parse_uri(text: str) -> URI:
    """Parse any URI: SIP/SIPS into :class:`SipURI`, anything else opaque."""
    uri = URI_MEMO.get(text)
    if uri is not None:
        return uri
    if text[:4] == "sip:":
        return remember(URI_MEMO, text, SipURI.parse(text))
    head = text[:5].lower()
    if head.startswith("sip:") or head == "sips:":
        return remember(URI_MEMO, text, SipURI.parse(text))
    return remember(URI_MEMO, text, AbsoluteURI.parse(text))
