"""The registrar (RFC 3261 §10.3) with digest authentication (RFC 7616/8760).

Pure logic: a REGISTER, its source and ``now`` (wall-clock seconds) in, an
outcome out — the response to send and the binding changes for storage. An
unknown extension gets exactly the challenge a known one gets, and a failed
answer the same 401, so the registrar cannot be used to list extensions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate

from sipstack.auth import DigestServer, ha1
from sipstack.errors import RemoteProtocolError
from sipstack.events import Address
from sipstack.headers import NameAddr
from sipstack.message import Request
from sipstack.uri import SipURI
from softswitch.location import Binding, LocationService

PasswordLookup = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class RegistrarSettings:
    min_expires: int = 60
    max_expires: int = 3600
    default_expires: int = 3600


@dataclass(frozen=True, slots=True)
class RegisterOutcome:
    """What to answer and what changed. ``user`` is the authenticated
    extension (None when the request was challenged or refused)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    user: str | None = None
    added: tuple[Binding, ...] = ()
    removed: tuple[Binding, ...] = ()
    reason: str = ""


@dataclass
class Registrar:
    """REGISTER handling for the extensions whose passwords ``passwords`` knows."""

    location: LocationService
    digest: DigestServer
    passwords: PasswordLookup
    settings: RegistrarSettings = field(default_factory=RegistrarSettings)
    _ha1: dict[tuple[str, str, str], str] = field(default_factory=dict, repr=False)

    def ha1_lookup(self, username: str, algorithm: str) -> str | None:
        """HA1 of an enabled extension (cached: REGISTER storms are hot)."""
        password = self.passwords(username)
        if password is None:
            return None
        key = (username, algorithm, password)
        value = self._ha1.get(key)
        if value is None:
            if len(self._ha1) > 10_000:
                self._ha1.clear()
            value = self._ha1[key] = ha1(username, self.digest.realm, password, algorithm)
        return value

    def challenge(self, now: float, stale: bool = False, *,
                  header: str = "WWW-Authenticate") -> tuple[tuple[str, str], ...]:
        return tuple((header, value) for value in self.digest.challenge(now, stale))

    def register(self, request: Request, source: Address, now: float) -> RegisterOutcome:
        result = self.digest.check(request, self.ha1_lookup, now)
        if not result.ok:
            return RegisterOutcome(401, self.challenge(now, result.stale), reason=result.reason)
        aor = _aor(request)
        if aor != result.username:
            return RegisterOutcome(403, reason=f"{result.username} may not register {aor}")
        if request.contact_star:
            return self._unregister_all(request, aor, now)
        return self._update(request, aor, source, now)

    def _unregister_all(self, request: Request, aor: str, now: float) -> RegisterOutcome:
        if request.header_int("Expires") != 0:
            raise RemoteProtocolError("Contact: * needs Expires: 0", 400)
        current = self.location.lookup(aor, now)
        if any(b.call_id == request.call_id and b.cseq >= request.cseq.seq for b in current):
            return self._ok(aor, now)  # an older, reordered request: no change
        removed = tuple(self.location.remove_all(aor))
        return self._ok(aor, now, removed=removed)

    def _update(self, request: Request, aor: str, source: Address,
                now: float) -> RegisterOutcome:
        header_expires = request.header_int("Expires")
        added: list[Binding] = []
        removed: list[Binding] = []
        for contact in request.contacts:
            expires = self._expires(contact, header_expires)
            if 0 < expires < self.settings.min_expires:
                return RegisterOutcome(
                    423, (("Min-Expires", str(self.settings.min_expires)),),
                    reason="interval too brief")
            uri = str(contact.uri)
            old = self.location.get(aor, uri)
            if old is not None and old.call_id == request.call_id \
                    and old.cseq >= request.cseq.seq:
                continue  # §10.3 step 7: out-of-order request for this binding
            if expires == 0:
                if old is not None:
                    self.location.remove(aor, uri)
                    removed.append(old)
                continue
            binding = Binding(aor, uri, source, now + expires, request.call_id,
                              request.cseq.seq, _q(contact),
                              request.headers.get("User-Agent") or "")
            self.location.put(binding)
            added.append(binding)
        return self._ok(aor, now, tuple(added), tuple(removed))

    def _expires(self, contact: NameAddr, header_expires: int | None) -> int:
        text = contact.param("expires")
        if text is not None and text.isdigit():
            value = int(text)
        elif header_expires is not None:
            value = header_expires
        else:
            value = self.settings.default_expires
        return min(value, self.settings.max_expires)

    def _ok(self, aor: str, now: float, added: tuple[Binding, ...] = (),
            removed: tuple[Binding, ...] = ()) -> RegisterOutcome:
        headers = [("Contact", f"<{b.contact}>;expires={b.expires_in(now)}")
                   for b in self.location.lookup(aor, now)]
        headers.append(("Date", formatdate(now, usegmt=True)))
        return RegisterOutcome(200, tuple(headers), aor, added, removed)


def _aor(request: Request) -> str:
    uri = request.to.uri
    if not isinstance(uri, SipURI) or not uri.user:
        raise RemoteProtocolError("To of a REGISTER must be a SIP AOR with a user", 400)
    return uri.user_text or ""


def _q(contact: NameAddr) -> float:
    text = contact.param("q")
    try:
        return min(1.0, max(0.0, float(text))) if text else 1.0
    except ValueError:
        raise RemoteProtocolError(f"invalid q value {text!r}", 400) from None
