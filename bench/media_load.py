"""RTP load on one media worker (F-MEDIA-1): the engine and the phones.

A :class:`media.transport.engine.MediaEngine` with one worker process anchors
N bridged G.711 calls; :class:`Generator`, in this process on the running
event loop, plays both phones of every call (a few UDP sockets stand for all
the A phones and all the B phones), sends one 20 ms packet per direction per
call paced by the loop clock, and counts what the worker relays back, with
the send-to-relay delay of each packet in 1 ms buckets. A packet relayed
more than 100 ms after it was sent counts as lost (a phone's jitter buffer
would drop it): the worker queues what it cannot keep up with in its
sockets, so overload shows as delay before it shows as drops.

:func:`step` measures one concurrent-call count on an engine of its own
(``bench.bench_media_relay``, the worker alone, without SIP). The
``rtp-relayed`` and ``rtp-recorded`` suites use the same generator for calls
placed through ``softswitch run`` (``bench.media_calls``): there it plays the
callee's side with :meth:`Generator.add_stream` and echoes as the caller's
(:meth:`Generator.echo_on_a`), counting packets in a measuring window.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from pathlib import Path
from typing import Any

from media.session import LegConfig
from media.transport.engine import MediaCall, MediaEngine

HOST = "127.0.0.1"
PTIME = 0.02
SOCKETS_PER_SIDE = 8
_SEQ_TS = struct.Struct("!HI")
_SENT_AT = struct.Struct("!d")  # send time, in the payload (the relay keeps payloads)
_MARK = 20  # packet byte after the send time: 1 when sent in the measuring window
LATE = 0.1  # a packet relayed this much later than sent is lost to a phone's jitter buffer
_CLK_TCK = os.sysconf("SC_CLK_TCK")
DELAY_CAP_MS = 1000  # the last delay bucket holds everything this late or later


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


class Generator:
    """Both phones of every call: sends every 20 ms, counts what comes back."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.a_side = [self._socket() for _ in range(SOCKETS_PER_SIDE)]
        self.b_side = [self._socket() for _ in range(SOCKETS_PER_SIDE)]
        # (socket, leg port, packet buffer) per stream
        self.streams: list[tuple[socket.socket, int, bytearray]] = []
        self.sent = 0
        self.received = 0
        self.on_time = 0  # received within LATE of being sent
        self.worst = 0.0  # longest send-to-receive time seen
        self.late = 0  # 20 ms rounds started late by more than one period
        self.delays = [0] * (DELAY_CAP_MS + 1)  # packets by send-to-relay delay, in ms
        # the measuring window: packets sent while it is open carry a mark
        # (payload byte 8, after the send time) and are counted on return
        self.window = False
        self.window_sent = 0
        self.window_on_time = 0
        self._seq = 0
        self._handle: asyncio.TimerHandle | None = None
        self._buffer = bytearray(2048)
        for sock in self.a_side + self.b_side:
            loop.add_reader(sock.fileno(), self._drain, sock)

    @staticmethod
    def _socket() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        sock.bind((HOST, 0))
        sock.setblocking(False)
        return sock

    def address(self, side: str, index: int) -> tuple[str, int]:
        sockets = self.a_side if side == "a" else self.b_side
        host, port = sockets[index % SOCKETS_PER_SIDE].getsockname()
        return str(host), int(port)

    def add_call(self, index: int, port_a: int, port_b: int) -> None:
        """Both phones of call ``index``, sending to the legs' ports."""
        self._add(self.a_side[index % SOCKETS_PER_SIDE], port_a, (index << 1) + 0x10000)
        self._add(self.b_side[index % SOCKETS_PER_SIDE], port_b, (index << 1 | 1) + 0x10000)

    def add_stream(self, index: int, port: int) -> None:
        """One B phone only, sending from its socket to the switch's ``port``;
        what comes back has been relayed twice (to the A phone, which
        echoes it, and back)."""
        self._add(self.b_side[index % SOCKETS_PER_SIDE], port, index + 0x10000)

    def _add(self, sock: socket.socket, port: int, ssrc: int) -> None:
        packet = bytearray(struct.pack("!BBHII", 0x80, 0, 0, 0, ssrc) + b"\xd5" * 160)
        packet[_MARK] = self.window
        self.streams.append((sock, port, packet))

    def echo_on_a(self) -> None:
        """Make the A sockets phones that send back whatever reaches them
        (the far end of calls whose near end is the B side)."""
        for sock in self.a_side:
            self.loop.remove_reader(sock.fileno())
            self.loop.add_reader(sock.fileno(), self._echo, sock)

    def _echo(self, sock: socket.socket) -> None:
        buffer = self._buffer
        view = memoryview(buffer)
        while True:
            try:
                size, source = sock.recvfrom_into(buffer)
            except BlockingIOError:
                break
            try:
                sock.sendto(view[:size], source)
            except BlockingIOError:
                continue  # the echo's own send queue full: the packet is lost

    def open_window(self, is_open: bool = True) -> None:
        """Start (or end) the measuring window: what is sent from now on is
        marked, and ``window_sent``/``window_on_time`` count the marked."""
        self.window = is_open
        if is_open:
            self.window_sent = self.window_on_time = 0
        for _, _, packet in self.streams:
            packet[_MARK] = is_open

    def close(self) -> None:
        """Stop sending and release every socket."""
        self.clear()
        for sock in self.a_side + self.b_side:
            self.loop.remove_reader(sock.fileno())
            sock.close()

    def clear(self) -> None:
        self.stop()
        self.streams.clear()

    def start(self) -> None:
        self._next = self.loop.time()
        self._round()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _round(self) -> None:
        self._seq += 1
        seq, ts = self._seq & 0xFFFF, (self._seq * 160) & 0xFFFFFFFF
        pack, stamp = _SEQ_TS.pack_into, _SENT_AT.pack_into
        sent_at = time.monotonic()
        for sock, port, packet in self.streams:
            pack(packet, 2, seq, ts)
            stamp(packet, 12, sent_at)
            try:
                sock.sendto(packet, (HOST, port))
            except BlockingIOError:
                continue
            self.sent += 1
        if self.window:
            self.window_sent += len(self.streams)
        self._next += PTIME
        now = self.loop.time()
        if now > self._next + PTIME:
            self.late += 1
            self._next = now
        self._handle = self.loop.call_at(self._next, self._round)

    def delay_percentile(self, fraction: float) -> float | None:
        """The delay (ms, bucket's upper edge) under which ``fraction`` of
        the packets counted since the last reset came back."""
        total = sum(self.delays)
        if not total:
            return None
        seen = 0
        for ms, count in enumerate(self.delays):
            seen += count
            if seen >= fraction * total:
                return float(ms + 1)
        return float(DELAY_CAP_MS)

    def _drain(self, sock: socket.socket) -> None:
        buffer = self._buffer
        unpack = _SENT_AT.unpack_from
        count = on_time = marked = 0
        now = time.monotonic()
        worst = self.worst
        delays, cap = self.delays, DELAY_CAP_MS
        while True:
            try:
                sock.recv_into(buffer)
            except BlockingIOError:
                break
            count += 1
            delay = now - unpack(buffer, 12)[0]
            delays[min(int(delay * 1000), cap)] += 1
            if delay < LATE:
                on_time += 1
                marked += buffer[_MARK]
            elif delay > worst:
                worst = delay
        self.received += count
        self.on_time += on_time
        self.window_on_time += marked
        self.worst = worst


async def step(engine: MediaEngine, generator: Generator, calls: int, seconds: float,
               record: Path | None) -> dict[str, Any]:
    """Open ``calls`` bridged calls (each recorded into ``record`` when
    given), play them for a 1 s warm-up and ``seconds`` measured, close them."""
    opened: list[MediaCall] = []
    for i in range(calls):
        call = engine.open(f"bench-{calls}-{i}")
        port_a, port_b = call.add_leg("a"), call.add_leg("b")
        call.configure("a", LegConfig(generator.address("a", i), "PCMU", 0, 0))
        call.configure("b", LegConfig(generator.address("b", i), "PCMU", 0, 0))
        if record is not None:
            call.record(record / f"{calls}-{i}.wav")
        generator.add_call(i, port_a, port_b)
        opened.append(call)
    generator.start()
    await asyncio.sleep(1.0)  # warm-up: every leg latched, caches warm
    worker = engine.workers[0].process.pid
    cpu_w, cpu_g, t0 = cpu_seconds(worker), time.process_time(), time.monotonic()
    sent0, received0, generator.late = generator.sent, generator.received, 0
    generator.worst = 0.0
    generator.delays = [0] * (DELAY_CAP_MS + 1)
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    cpu_w, cpu_g = cpu_seconds(worker) - cpu_w, time.process_time() - cpu_g
    relayed = generator.received - received0
    sent = generator.sent - sent0
    p50, p95 = generator.delay_percentile(0.5), generator.delay_percentile(0.95)
    generator.stop()
    await asyncio.sleep(0.5)  # what is still queued or in flight
    # loss over the whole step, warm-up included: nothing is in flight any
    # more; a packet relayed too late to be played counts as lost
    lost = max(0, generator.sent - generator.on_time)
    total = generator.sent
    generator.sent = generator.received = generator.on_time = 0
    for call in opened:
        call.close()
    generator.clear()
    await asyncio.sleep(0.5)
    return {
        "calls": calls,
        "sent_pps": round(sent / elapsed),
        "relayed_pps": round(relayed / elapsed),
        "loss_percent": round(100 * lost / max(total, 1), 3),
        "worst_late_ms": round(1000 * generator.worst),
        "worker_cpu_percent": round(100 * cpu_w / elapsed, 1),
        "generator_cpu_percent": round(100 * cpu_g / elapsed, 1),
        "late_rounds": generator.late,
        "packets_sent": total,
        "packets_lost": lost,
        "p50_delay_ms": p50,
        "p95_delay_ms": p95,
        "seconds": round(elapsed, 2),
    }


def new_engine() -> MediaEngine:
    """One worker process, no RTP timeout (the generator never pauses)."""
    return MediaEngine(lambda message: None, host=HOST, ports=(40000, 60000), workers=1,
                       rtp_timeout=0)


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (the generator's sends are its cost), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
