"""All trunk registrations of a softswitch, as one sans-IO component (RFC 3261 §10.2).

:class:`TrunkRegistrations` holds a :class:`TrunkRegistration` for every
configured trunk with ``register = true``, hands each ResponseEvent to the one
that sent the request, and gives the application one deadline for them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from sipstack.endpoint import Endpoint
from sipstack.endpoint_events import ResponseEvent
from sipstack.events import Address
from softswitch.config import Trunk
from softswitch.trunks.registration import TrunkRegistration
from softswitch.trunks.status import RegistrationState, TrunkStatus
from softswitch.trunks.timing import RetryPolicy

__all__ = ["TrunkRegistrations"]

ContactFor = Callable[[Trunk], str]
DestinationFor = Callable[[Trunk], Address | None]


class TrunkRegistrations:
    """One registration per registering trunk, keyed by trunk name.

    ``contact`` is the Contact URI for every trunk, or a function choosing one
    per trunk (say, by its transport); ``destination`` may name where each
    trunk's requests go (None: the endpoint resolves the registrar URI).
    """

    def __init__(self, trunks: Iterable[Trunk], endpoint: Endpoint,
                 contact: str | ContactFor, *, policy: RetryPolicy | None = None,
                 jitter: Callable[[], float] | None = None,
                 destination: DestinationFor | None = None) -> None:
        self._by_name: dict[str, TrunkRegistration] = {}
        for trunk in trunks:
            if not trunk.registers:
                continue
            uri = contact if isinstance(contact, str) else contact(trunk)
            where = destination(trunk) if destination is not None else None
            self._by_name[trunk.name] = TrunkRegistration(
                trunk, endpoint, uri, policy=policy, jitter=jitter, destination=where)

    def __iter__(self) -> Iterator[TrunkRegistration]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __getitem__(self, name: str) -> TrunkRegistration:
        return self._by_name[name]

    def get(self, name: str) -> TrunkRegistration | None:
        return self._by_name.get(name)

    def start(self, now: float) -> None:
        """Send every trunk's first REGISTER."""
        for registration in self:
            registration.start(now)

    def stop(self, now: float) -> None:
        """Unregister every trunk (``Expires: 0``); keep routing responses to
        them until :attr:`stopped` is true (or a shutdown grace time passes)."""
        for registration in self:
            registration.stop(now)

    @property
    def stopped(self) -> bool:
        """True once no trunk holds or is removing a binding."""
        return all(r.state is RegistrationState.UNREGISTERED for r in self)

    def owner(self, key: str) -> TrunkRegistration | None:
        """The registration whose REGISTER has transaction ``key``."""
        for registration in self:
            if registration.owns(key):
                return registration
        return None

    def owns(self, key: str) -> bool:
        return self.owner(key) is not None

    def on_response(self, event: ResponseEvent, now: float) -> bool:
        """Hand ``event`` to the registration that sent the request; False when
        it is nobody's here."""
        registration = self.owner(event.key)
        if registration is None:
            return False
        registration.on_response(event, now)
        return True

    def get_timer(self) -> float | None:
        """The earliest deadline of any registration."""
        deadlines = [t for r in self if (t := r.get_timer()) is not None]
        return min(deadlines, default=None)

    def handle_timer(self, now: float) -> None:
        """Let every registration whose deadline has come act."""
        for registration in self:
            due = registration.get_timer()
            if due is not None and due <= now:
                registration.handle_timer(now)

    def statuses(self) -> list[TrunkStatus]:
        """A status snapshot of every registering trunk, in configuration order."""
        return [r.status for r in self]
