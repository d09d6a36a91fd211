"""The switch's side of its trunks at run time: where each operator is, which
trunk an INVITE's source belongs to, and the registrations kept to operators
(RFC 3261 §10.2, through :class:`~softswitch.trunks.TrunkRegistrations`) on
one loop timer.

Host names are resolved once at start-up; RFC 3263 look-ups are not done.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable, Sequence

from sipstack.endpoint import Endpoint
from sipstack.endpoint_events import ResponseEvent
from sipstack.events import Address
from softswitch.config.trunks import Trunk
from softswitch.trunks.collection import TrunkRegistrations

__all__ = ["TrunkLinks"]

log = logging.getLogger("softswitch.trunks")


class TrunkLinks:
    """Every trunk's operator address and registration (see the module doc).

    ``now`` is the endpoint's monotonic clock; ``pump`` lets the runner send
    what a timer produced.
    """

    def __init__(self, trunks: Sequence[Trunk], endpoint: Endpoint) -> None:
        self.trunks = tuple(trunks)
        self.endpoint = endpoint
        self._addresses: dict[str, Address] = {}
        # Rebuilt by start, once the operators' host names are resolved.
        self.registrations = TrunkRegistrations((), endpoint, endpoint.config.contact)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._now: Callable[[], float] = lambda: 0.0
        self._pump: Callable[[], None] = lambda: None

    async def resolve(self) -> None:
        """Look up each operator's host once; a trunk that cannot be resolved is logged."""
        loop = asyncio.get_running_loop()
        for trunk in self.trunks:
            try:
                infos = await loop.getaddrinfo(trunk.host, trunk.port, type=socket.SOCK_DGRAM)
            except OSError as exc:
                log.error("trunk %s: cannot resolve %s: %s", trunk.name, trunk.host, exc)
                continue
            host = str(infos[0][4][0])
            self._addresses[trunk.name] = Address(trunk.transport, host, trunk.port)

    def start(self, loop: asyncio.AbstractEventLoop, now: Callable[[], float],
              pump: Callable[[], None]) -> None:
        """Begin registering the trunks that register."""
        self._loop, self._now, self._pump = loop, now, pump
        self.registrations = TrunkRegistrations(
            self.trunks, self.endpoint, self.endpoint.config.contact,
            jitter=random.random, destination=self.address)
        self.registrations.start(now())
        pump()
        self._arm()

    def stop(self) -> None:
        """Unregister (the caller lets the requests leave) and drop the timer."""
        self.registrations.stop(self._now())
        self.cancel_timer()

    def cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def stopped(self) -> bool:
        return self.registrations.stopped

    def address(self, trunk: Trunk) -> Address | None:
        """Where ``trunk``'s operator is (None when its host did not resolve)."""
        return self._addresses.get(trunk.name)

    def for_source(self, host: str) -> Trunk | None:
        """The trunk an INVITE from ``host`` belongs to, if it may send calls:
        an allowed address, or the registrar a registering trunk uses."""
        for trunk in self.trunks:
            if trunk.accepts_source(host):
                return trunk
            address = self._addresses.get(trunk.name)
            if trunk.registers and address is not None and address.host == host:
                return trunk
        return None

    def on_response(self, event: ResponseEvent) -> bool:
        """A response to one of the registrations (True), or not ours."""
        if not self.registrations.on_response(event, self._now()):
            return False
        self._arm()
        return True

    def _arm(self) -> None:
        """Keep one loop timer on the registrations' next deadline."""
        deadline = self.registrations.get_timer()
        if deadline == self._deadline or self._loop is None:
            return
        self.cancel_timer()
        self._deadline = deadline
        if deadline is not None:
            self._timer = self._loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._deadline = None
        self.registrations.handle_timer(self._now())
        self._pump()
        self._arm()
