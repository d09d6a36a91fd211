"""The location service (RFC 3261 §10.3): address-of-record -> contacts.

Bindings are kept in memory for routing and mirrored to storage by the
registrar's caller, so they survive a restart. Times are wall-clock seconds
(epoch), because a binding's expiry must mean the same after a restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sipstack.endpoint_wire import flow_for
from sipstack.errors import SipError
from sipstack.events import Address
from sipstack.uri import SipURI


@dataclass(frozen=True, slots=True)
class Binding:
    """One registered contact of an extension.

    ``source`` is where the REGISTER came from: calls go there (the same
    NAT pinhole or TCP connection), with ``contact`` as the Request-URI.
    """

    aor: str
    contact: str
    source: Address
    expires_at: float
    call_id: str
    cseq: int
    q: float = 1.0
    user_agent: str = ""

    def destination(self) -> Address | None:
        """Where requests to this contact go: the flow the REGISTER came over
        when that is a connection or the phone is behind NAT (its Contact
        names another host), else None to follow the Contact URI itself."""
        try:
            uri = SipURI.parse(self.contact)
        except SipError:
            return self.source
        return flow_for(uri, self.source)

    def expires_in(self, now: float) -> int:
        return max(0, round(self.expires_at - now))


class LocationService:
    """Bindings per address-of-record (an extension number)."""

    def __init__(self) -> None:
        self._bindings: dict[str, dict[str, Binding]] = {}
        self._by_source: dict[Address, dict[tuple[str, str], Binding]] = {}

    def lookup(self, aor: str, now: float) -> list[Binding]:
        """Live bindings of ``aor``, best q first."""
        live = [b for b in self._bindings.get(aor, {}).values() if b.expires_at > now]
        return sorted(live, key=lambda b: -b.q)

    def has_source(self, source: Address, now: float) -> bool:
        """Whether a live binding was registered from ``source``."""
        return any(b.expires_at > now for b in self._by_source.get(source, {}).values())

    def get(self, aor: str, contact: str) -> Binding | None:
        return self._bindings.get(aor, {}).get(contact)

    def put(self, binding: Binding) -> None:
        self.remove(binding.aor, binding.contact)
        self._bindings.setdefault(binding.aor, {})[binding.contact] = binding
        key = (binding.aor, binding.contact)
        self._by_source.setdefault(binding.source, {})[key] = binding

    def remove(self, aor: str, contact: str) -> None:
        contacts = self._bindings.get(aor)
        if contacts is None:
            return
        old = contacts.pop(contact, None)
        if not contacts:
            del self._bindings[aor]
        if old is not None:
            sources = self._by_source.get(old.source, {})
            sources.pop((aor, contact), None)
            if not sources:
                self._by_source.pop(old.source, None)

    def remove_all(self, aor: str) -> list[Binding]:
        gone = list(self._bindings.get(aor, {}).values())
        for binding in gone:
            self.remove(aor, binding.contact)
        return gone

    def purge(self, now: float) -> list[Binding]:
        """Drop expired bindings and return them."""
        gone = [b for contacts in self._bindings.values() for b in contacts.values()
                if b.expires_at <= now]
        for binding in gone:
            self.remove(binding.aor, binding.contact)
        return gone

    def __iter__(self) -> Iterator[Binding]:
        for contacts in list(self._bindings.values()):
            yield from list(contacts.values())

    def count(self, now: float) -> int:
        return sum(1 for b in self if b.expires_at > now)
