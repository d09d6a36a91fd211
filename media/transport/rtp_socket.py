"""An RTP/RTCP socket pair of one leg, adopted from the main process."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

log = logging.getLogger("media.worker")

Receiver = Callable[[bytes, tuple[str, int]], None]


class _Rtp(asyncio.DatagramProtocol):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.receiver(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)


class _Rtcp(asyncio.DatagramProtocol):
    """The leg's RTCP: handed to ``receiver`` (the worker notes sender reports
    for LSR/DLSR); our own reports go out through :meth:`RtpEndpoint.send_rtcp`."""

    def __init__(self, receiver: Receiver | None) -> None:
        self.received = 0
        self.receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.received += 1
        if self.receiver is not None:
            self.receiver(data, (str(addr[0]), int(addr[1])))


class RtpEndpoint:
    """Sends and receives one leg's RTP (and absorbs its RTCP)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, rtp: socket.socket,
                 rtcp: socket.socket | None, receiver: Receiver,
                 rtcp_receiver: Receiver | None = None) -> None:
        self.rtcp_receiver = rtcp_receiver
        self.transport: asyncio.DatagramTransport | None = None
        self.rtcp_transport: asyncio.DatagramTransport | None = None
        self._pending: list[tuple[bytes, tuple[str, int]]] = []
        self.closed = False
        rtp.setblocking(False)
        # kept: the loop holds only a weak reference to a task
        self._opening = loop.create_task(self._open(loop, rtp, rtcp, receiver))

    async def _open(self, loop: asyncio.AbstractEventLoop, rtp: socket.socket,
                    rtcp: socket.socket | None, receiver: Receiver) -> None:
        # A call can end before this task first runs (a CANCEL right after the
        # INVITE): then the sockets are closed here, or their ports stay taken.
        if self.closed:
            rtp.close()
            if rtcp is not None:
                rtcp.close()
            return
        transport, _ = await loop.create_datagram_endpoint(lambda: _Rtp(receiver), sock=rtp)
        self.transport = transport
        for data, addr in self._pending:
            self.transport.sendto(data, addr)
        self._pending.clear()
        if rtcp is not None:
            if self.closed:
                transport.close()
                rtcp.close()
                return
            rtcp.setblocking(False)
            rtcp_transport, _ = await loop.create_datagram_endpoint(
                lambda: _Rtcp(self.rtcp_receiver), sock=rtcp)
            self.rtcp_transport = rtcp_transport
        if self.closed:
            self.close()

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.closed:
            return
        if self.transport is None:
            self._pending.append((data, addr))
        else:
            self.transport.sendto(data, addr)

    def send_rtcp(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.closed and self.rtcp_transport is not None:
            self.rtcp_transport.sendto(data, addr)

    def close(self) -> None:
        self.closed = True
        self._pending.clear()
        for transport in (self.transport, self.rtcp_transport):
            if transport is not None:
                transport.close()
