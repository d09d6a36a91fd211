"""The main process's handle on the media workers.

:class:`MediaEngine` starts one worker process per core (by default), binds
each leg's RTP/RTCP port pair itself (so the port is known at once for the
SDP) and hands the sockets to the worker that owns the call. Everything a
call asks of its media goes through a :class:`MediaCall`; what the workers
report (digits, timeouts, finished prompts, recordings) comes back through
the ``on_event`` callback on the main event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media.errors import PortsExhausted
from media.session import LegConfig
from media.transport import protocol as P

log = logging.getLogger("media.engine")

# Posted commands wait this long so the calls set up meanwhile share a packet
# (and a worker wake-up); RTP that arrives first waits in the leg's socket.
FLUSH_DELAY = 0.002

EventHandler = Callable[[tuple[Any, ...]], None]


@dataclass
class _WorkerProcess:
    index: int
    process: subprocess.Popen[bytes]
    control: socket.socket
    calls: int = 0
    # commands posted and not sent yet, with the sockets that travel with them
    outbox: list[tuple[tuple[Any, ...], tuple[socket.socket, ...]]] = field(
        default_factory=list)


class PortPool:
    """Even RTP ports (RTCP on the next odd one) in [low, high)."""

    def __init__(self, host: str, low: int, high: int) -> None:
        self.host = host
        self.low, self.high = low + (low % 2), high
        self._next = itertools.cycle(range(self.low, self.high - 1, 2))
        self.span = (self.high - self.low) // 2

    def bind(self) -> tuple[socket.socket, socket.socket, int]:
        """A bound (RTP, RTCP) socket pair and the RTP port."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(self.span):
            port = next(self._next)
            rtp = socket.socket(family, socket.SOCK_DGRAM)
            rtcp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtp.bind((self.host, port))
                rtcp.bind((self.host, port + 1))
            except OSError:
                rtp.close()
                rtcp.close()
                continue
            return rtp, rtcp, port
        raise PortsExhausted(f"no free RTP port pair in {self.low}-{self.high} on {self.host}")


@dataclass
class MediaCall:
    """The media of one call, as the main process drives it."""

    engine: MediaEngine
    call_id: str
    worker: _WorkerProcess
    ports: dict[str, int] = field(default_factory=dict)
    closed: bool = False

    def _send(self, *message: Any, sockets: tuple[socket.socket, ...] = ()) -> None:
        if not self.closed:
            self.engine.post(self.worker, message, sockets)

    def add_leg(self, leg: str) -> int:
        """Bind the leg's ports; returns the RTP port for its SDP."""
        rtp, rtcp, port = self.engine.ports.bind()
        self._send(P.LEG, self.call_id, leg, sockets=(rtp, rtcp))
        self.ports[leg] = port
        return port

    @property
    def address(self) -> str:
        return self.engine.ports.host

    def configure(self, leg: str, config: LegConfig) -> None:
        self._send(P.CONFIGURE, self.call_id, leg, config)

    def play(self, leg: str, prompt: str, language: str = "en", loop: bool = False) -> None:
        self._send(P.PLAY, self.call_id, leg, prompt, language, loop)

    def stop_play(self, leg: str) -> None:
        self._send(P.STOP_PLAY, self.call_id, leg)

    def hold(self, leg: str, on: bool, language: str = "en") -> None:
        self._send(P.HOLD, self.call_id, leg, on, language)

    def detect_inband(self, leg: str, on: bool = True) -> None:
        self._send(P.INBAND, self.call_id, leg, on)

    def bridge(self, on: bool) -> None:
        self._send(P.BRIDGE, self.call_id, on)

    def record(self, path: Path) -> None:
        self._send(P.RECORD, self.call_id, str(path))

    def stop_record(self) -> None:
        self._send(P.STOP_RECORD, self.call_id)

    def close(self) -> None:
        if not self.closed:
            self._send(P.CLOSE, self.call_id)
            self.closed = True
            self.worker.calls -= 1
            self.engine.calls.pop(self.call_id, None)


class MediaEngine:
    """Media worker processes and the RTP port pool they share."""

    def __init__(self, on_event: EventHandler, *, host: str = "127.0.0.1",
                 ports: tuple[int, int] = (20000, 40000), workers: int | None = None,
                 prompts: Path | None = None, rtp_timeout: float = 60.0,
                 language: str = "en") -> None:
        self.on_event = on_event
        self.ports = PortPool(host, *ports)
        self.count = workers or os.cpu_count() or 1
        self.prompts = prompts
        self.rtp_timeout = rtp_timeout
        self.language = language
        self.workers: list[_WorkerProcess] = []
        self.calls: dict[str, MediaCall] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._flush_handle: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for index in range(self.count):
            self.workers.append(self._spawn(index))

    def _spawn(self, index: int) -> _WorkerProcess:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        args = [sys.executable, "-m", "media.transport.worker",
                "--control-fd", str(theirs.fileno())]
        if self.prompts is not None:
            args += ["--prompts", str(self.prompts), "--language", self.language]
        process = subprocess.Popen(args, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                   cwd=Path(__file__).resolve().parents[2])
        theirs.close()
        # Blocking for sends (a worker slow to read holds the loop, as a full
        # pipe would); reads never block (MSG_DONTWAIT).
        worker = _WorkerProcess(index, process, ours)
        assert self._loop is not None
        self._loop.add_reader(ours.fileno(), self._on_worker, worker)
        log.info("media worker %d started (pid %d)", index, process.pid)
        return worker

    def open(self, call_id: str) -> MediaCall:
        """A media context for a new call on the least busy worker."""
        worker = min(self.workers, key=lambda w: w.calls)
        worker.calls += 1
        call = MediaCall(self, call_id, worker)
        self.calls[call_id] = call
        self.post(worker, (P.OPEN, call_id, self.rtp_timeout))
        return call

    def post(self, worker: _WorkerProcess, message: tuple[Any, ...],
             sockets: tuple[socket.socket, ...] = ()) -> None:
        """Queue ``message`` (and ``sockets``, handed over and closed here) for
        ``worker``. What is posted within :data:`FLUSH_DELAY` goes in one
        packet: a call's commands come in bursts (open, two legs, configure
        each), and under load several calls' bursts share it."""
        if self._flush_handle is None:
            assert self._loop is not None
            self._flush_handle = self._loop.call_later(FLUSH_DELAY, self._flush)
        worker.outbox.append((message, sockets))

    def send(self, worker: _WorkerProcess, message: tuple[Any, ...],
             fds: list[int] | None) -> None:
        """Send ``message`` now, after anything posted to ``worker`` before."""
        self._flush_worker(worker)
        P.send(worker.control, message, fds)

    def _flush(self) -> None:
        self._flush_handle = None
        for worker in self.workers:
            if worker.outbox:
                try:
                    self._flush_worker(worker)
                except OSError as exc:  # the worker is gone: _on_worker reports it
                    log.debug("media worker %d: %s", worker.index, exc)

    def _flush_worker(self, worker: _WorkerProcess) -> None:
        outbox, worker.outbox = worker.outbox, []
        try:
            for chunk in P.batches(outbox):
                for (message, _), error in P.send_batch(worker.control, chunk):
                    log.error("media command for call %r not sent: %s", message[1], error)
        finally:
            for _, sockets in outbox:
                for sock in sockets:
                    sock.close()

    def _on_worker(self, worker: _WorkerProcess) -> None:
        while True:
            try:
                message, _ = P.receive(worker.control, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except P.ControlError as exc:
                log.error("media worker %d: %s", worker.index, exc)
                continue
            except OSError:
                message = None
            if message is None:
                self._lost(worker)
                return
            try:
                self.on_event(message)
            except Exception:
                log.exception("media event handler failed on %r", message[:2])

    def _lost(self, worker: _WorkerProcess) -> None:
        assert self._loop is not None
        self._loop.remove_reader(worker.control.fileno())
        # The socket closes while the process exits: poll() may not know yet.
        if worker in self.workers and not self._stopping:
            log.error("media worker %d died (exit %s)", worker.index, worker.process.poll())

    async def stop(self) -> None:
        self._stopping = True
        for worker in self.workers:
            with contextlib.suppress(OSError):
                self.send(worker, (P.QUIT, ""), None)
        for worker in self.workers:
            try:
                await asyncio.wait_for(asyncio.to_thread(worker.process.wait), 5)
            except TimeoutError:
                worker.process.kill()
            if self._loop is not None:
                with contextlib.suppress(ValueError, OSError):
                    self._loop.remove_reader(worker.control.fileno())
            worker.control.close()
        self.workers.clear()
