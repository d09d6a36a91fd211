"""The one adapter between a sans-IO core and asyncio (DESIGN.md).

A :class:`Runner` owns the sockets, feeds received bytes to the core with the
loop's monotonic clock as ``now``, sends what the core queued, hands events to
the application callback and keeps exactly one loop timer armed at the
core's next deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from sipstack.events import Address, Datagram
from sipstack.transport.tcp import TcpTransport
from sipstack.transport.udp import UdpTransport

log = logging.getLogger(__name__)


class SansIO(Protocol):
    """What a core offers its adapter (the endpoint, or any layer alone)."""

    def receive_data(self, data: bytes, source: Address, now: float) -> None: ...
    def next_event(self) -> Any: ...
    def datagrams_to_send(self) -> list[Datagram]: ...
    def get_timer(self) -> float | None: ...
    def handle_timer(self, now: float) -> None: ...
    def transport_error(self, key: str, now: float) -> None: ...


class Runner:
    """Drives ``core`` from an asyncio loop; ``on_event`` gets every event."""

    def __init__(self, core: SansIO, on_event: Callable[[Any], None],
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.core = core
        self.on_event = on_event
        self.loop = loop or asyncio.get_running_loop()
        self.udp: dict[int, UdpTransport] = {}  # by address family (4 or 6)
        self.tcp = TcpTransport(self.loop, self._received, self._send_failed)
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._pumping = False

    def now(self) -> float:
        return self.loop.time()

    async def listen_udp(self, host: str, port: int) -> Address:
        """Bind a UDP socket; returns the bound address (port 0 picks one)."""
        transport = await UdpTransport.bind(self.loop, host, port, self._received)
        self.udp[6 if ":" in host else 4] = transport
        return transport.local

    async def listen_tcp(self, host: str, port: int) -> Address:
        """Listen for TCP connections; returns the bound address."""
        return await self.tcp.listen(host, port)

    def _received(self, data: bytes, source: Address) -> None:
        try:
            self.core.receive_data(data, source, self.loop.time())
        except Exception:  # the process must outlive any single bad message
            log.exception("core failed on %d bytes from %s", len(data), source)
        self.pump()

    def _send_failed(self, key: str | None, address: Address) -> None:
        log.info("could not send to %s", address)
        if key is not None:
            self.core.transport_error(key, self.loop.time())
            self.pump()

    def pump(self) -> None:
        """Deliver events, send queued bytes and re-arm the timer. Call it
        after driving the core from outside a callback of this runner."""
        if self._pumping:  # re-entered from on_event: the outer loop finishes
            return
        self._pumping = True
        try:
            core = self.core
            while True:
                event = core.next_event()
                if event is None:
                    self._flush()
                    if (event := core.next_event()) is None:
                        break
                try:
                    self.on_event(event)
                except Exception:
                    log.exception("event handler failed on %r", event)
            self._arm()
        finally:
            self._pumping = False

    def _flush(self) -> None:
        for datagram in self.core.datagrams_to_send():
            address = datagram.address
            if address.transport == "udp":
                udp = self.udp.get(6 if ":" in address.host else 4)
                if udp is None:
                    self._send_failed(datagram.key, address)
                else:
                    udp.send(datagram.data, address)
            elif address.transport == "tcp":
                self.tcp.send(datagram.data, address, datagram.key)
            else:
                self._send_failed(datagram.key, address)

    def _arm(self) -> None:
        deadline = self.core.get_timer()
        if deadline == self._deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadline = deadline
        if deadline is not None:
            self._timer = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._deadline = None
        try:
            self.core.handle_timer(self.loop.time())
        except Exception:
            log.exception("core failed in handle_timer")
        self.pump()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for udp in self.udp.values():
            udp.close()
        await self.tcp.close()
