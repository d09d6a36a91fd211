"""UDP transport (RFC 3261 §18): one socket per address family."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sipstack.events import Address

log = logging.getLogger(__name__)

Receiver = Callable[[bytes, Address], None]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        # Keep-alive CRLFs (RFC 5626 §3.5.1) and stray empties are not messages.
        if len(data) < 4 and not data.strip():
            return
        self.receiver(data, Address("udp", str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        # ICMP errors arrive without the datagram that caused them; the
        # transactions' own timers cover the loss.
        log.debug("UDP error: %s", exc)


class UdpTransport:
    """A bound UDP socket that hands datagrams to ``receiver``."""

    def __init__(self, transport: asyncio.DatagramTransport, local: Address) -> None:
        self.transport = transport
        self.local = local

    @classmethod
    async def bind(cls, loop: asyncio.AbstractEventLoop, host: str, port: int,
                   receiver: Receiver) -> UdpTransport:
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(receiver), local_addr=(host, port))
        sockname = transport.get_extra_info("sockname")
        return cls(transport, Address("udp", str(sockname[0]), int(sockname[1])))

    def send(self, data: bytes, address: Address) -> None:
        self.transport.sendto(data, (address.host, address.port))

    def close(self) -> None:
        self.transport.close()
