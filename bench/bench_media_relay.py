"""RTP relay throughput of one media worker (F-MEDIA-1), no phones.

A :class:`media.transport.engine.MediaEngine` with one worker process anchors
N bridged G.711 calls; a small RTP generator on uvloop in this process plays
both phones of every call (a few UDP sockets stand for all the A phones and
all the B phones) and sends one 20 ms packet per direction per call, paced by
the loop clock. What the worker relays back is counted. Each step reports the
packets relayed per second, the loss (a packet relayed more than 100 ms
after it was sent counts as lost: the worker queues what it cannot keep up
with in its sockets, so overload shows as delay before it shows as drops),
and the CPU the worker and the generator used (from /proc), so a step where
the generator, not the worker, ran out of CPU is visible.

Run: ``python -m bench.bench_media_relay [--steps 200,400,...] [--seconds 5]
[--record DIR] [--out FILE]``. With ``--record`` every call is also recorded
(the worker decodes both sides and writes stereo WAV files on its thread).
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
LATE = 0.1  # a packet relayed this much later than sent is lost to a phone's jitter buffer
_CLK_TCK = os.sysconf("SC_CLK_TCK")


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
        for side, port in (("a", port_a), ("b", port_b)):
            sockets = self.a_side if side == "a" else self.b_side
            ssrc = (index << 1 | (side == "b")) + 0x10000
            packet = bytearray(struct.pack("!BBHII", 0x80, 0, 0, 0, ssrc) + b"\xd5" * 160)
            self.streams.append((sockets[index % SOCKETS_PER_SIDE], port, packet))

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
        self._next += PTIME
        now = self.loop.time()
        if now > self._next + PTIME:
            self.late += 1
            self._next = now
        self._handle = self.loop.call_at(self._next, self._round)

    def _drain(self, sock: socket.socket) -> None:
        buffer = self._buffer
        unpack = _SENT_AT.unpack_from
        count = on_time = 0
        now = time.monotonic()
        worst = self.worst
        while True:
            try:
                sock.recv_into(buffer)
            except BlockingIOError:
                break
            count += 1
            delay = now - unpack(buffer, 12)[0]
            if delay < LATE:
                on_time += 1
            elif delay > worst:
                worst = delay
        self.received += count
        self.on_time += on_time
        self.worst = worst


async def step(engine: MediaEngine, generator: Generator, calls: int, seconds: float,
               record: Path | None) -> dict[str, Any]:
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
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    cpu_w, cpu_g = cpu_seconds(worker) - cpu_w, time.process_time() - cpu_g
    relayed = generator.received - received0
    sent = generator.sent - sent0
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
    }


async def run(steps: list[int], seconds: float, record: Path | None) -> list[dict[str, Any]]:
    engine = MediaEngine(lambda message: None, host=HOST, ports=(40000, 60000), workers=1,
                         rtp_timeout=0)
    await engine.start()
    generator = Generator(asyncio.get_running_loop())
    results = []
    try:
        for calls in steps:
            result = await step(engine, generator, calls, seconds, record)
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        await engine.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="100,200,400,600,800,1000,1200")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--record", type=Path, help="record every call into this folder")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    try:
        import uvloop
    except ImportError:
        results = asyncio.run(run(steps, args.seconds, args.record))
    else:
        results = uvloop.run(run(steps, args.seconds, args.record))
    if args.out is not None:
        args.out.write_text(json.dumps({"benchmark": "media_relay", "workers": 1,
                                        "steps": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
