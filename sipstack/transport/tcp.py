"""TCP transport (RFC 3261 §18): framing by Content-Length, connection reuse.

Connections are keyed by the peer's address: a request that came in over a
connection gets its responses over the same one (§18.2.2), and a message for a
TCP address with no connection opens one. A framing error closes the
connection (RFC 4475 §3.1.2.3: the stream cannot be resynchronised).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from sipstack.errors import SipError
from sipstack.events import Address
from sipstack.framing import StreamFramer

log = logging.getLogger(__name__)

Receiver = Callable[[bytes, Address], None]
Failure = Callable[[str | None, Address], None]
# A connection that carried nothing for this long is closed (RFC 5626 keeps
# wanted flows alive with CRLF pings well inside this).
IDLE_TIMEOUT = 600.0


class _Connection(asyncio.Protocol):
    def __init__(self, owner: TcpTransport) -> None:
        self.owner = owner
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Address | None = None
        self.last_used = owner.loop.time()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: duck-type.
        self.transport = cast(asyncio.Transport, transport)
        host, port = self.transport.get_extra_info("peername")[:2]
        self.peer = Address("tcp", str(host), int(port))
        self.owner.connections[self.peer] = self

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None and self.transport is not None
        self.last_used = self.owner.loop.time()
        try:
            self.framer.feed(data)
            while (message := self.framer.next_message()) is not None:
                self.owner.receiver(message, self.peer)
            for _ in range(self.framer.take_pings()):
                self.transport.write(b"\r\n")  # RFC 5626 §4.4.1 pong
        except SipError as exc:
            log.info("closing TCP connection from %s: %s", self.peer, exc)
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.owner.connections.get(self.peer) is self:
            del self.owner.connections[self.peer]

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.last_used = self.owner.loop.time()
        self.transport.write(data)


class TcpTransport:
    """All TCP listeners and connections of one runner."""

    def __init__(self, loop: asyncio.AbstractEventLoop, receiver: Receiver,
                 on_failure: Failure) -> None:
        self.loop = loop
        self.receiver = receiver
        self.on_failure = on_failure
        self.connections: dict[Address, _Connection] = {}
        self.servers: list[asyncio.Server] = []
        self._pending: dict[Address, list[tuple[bytes, str | None]]] = {}
        self._reaper: asyncio.TimerHandle | None = None

    async def listen(self, host: str, port: int) -> Address:
        server = await self.loop.create_server(lambda: _Connection(self), host, port)
        self.servers.append(server)
        sockname = server.sockets[0].getsockname()
        self._schedule_reaper()
        return Address("tcp", str(sockname[0]), int(sockname[1]))

    def send(self, data: bytes, address: Address, key: str | None) -> None:
        conn = self.connections.get(address)
        if conn is not None:
            conn.write(data)
            return
        pending = self._pending.get(address)
        if pending is not None:  # a connect is already under way
            pending.append((data, key))
            return
        self._pending[address] = [(data, key)]
        self.loop.create_task(self._connect(address))

    async def _connect(self, address: Address) -> None:
        try:
            _, conn = await asyncio.wait_for(self.loop.create_connection(
                lambda: _Connection(self), address.host, address.port), timeout=10)
        except (TimeoutError, OSError) as exc:
            log.info("TCP connect to %s failed: %s", address, exc)
            for _, key in self._pending.pop(address, []):
                self.on_failure(key, address)
            return
        # Our own outgoing connection is also reachable under the address we
        # dialled (the peer's listening port), which is where requests go.
        self.connections[address] = conn
        for data, _ in self._pending.pop(address, []):
            conn.write(data)

    def _schedule_reaper(self) -> None:
        self._reaper = self.loop.call_later(IDLE_TIMEOUT / 4, self._reap)

    def _reap(self) -> None:
        limit = self.loop.time() - IDLE_TIMEOUT
        for conn in list(self.connections.values()):
            if conn.last_used < limit and conn.transport is not None:
                conn.transport.close()
        self._schedule_reaper()

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        for conn in list(self.connections.values()):
            if conn.transport is not None:
                conn.transport.close()
        for server in self.servers:
            server.close()
            await server.wait_closed()
