"""A media worker process: the RTP of the calls given to it, on its own core.

Started by :class:`media.transport.engine.MediaEngine` as
``python -m media.transport.worker --control-fd N --prompts DIR``. It runs a
uvloop event loop, adopts the RTP/RTCP sockets the main process binds, relays
and plays through :class:`media.session.CallMedia`, writes recordings on a
thread, and reports digits, timeouts and finished prompts back. It exits
when the control socket closes (the main process is gone).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import socket
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from media.session import CallMedia, Digit, LegConfig, MediaTimeout, PlaybackDone
from media.transport import protocol as P
from media.transport.recording import RecordingPool
from media.transport.rtp_socket import RtpEndpoint

log = logging.getLogger("media.worker")
TICK = 0.02
RECORD_EVERY = 5  # ticks between rounds for calls that only record (100 ms)
TIMEOUT_CHECK = 1.0
RTCP_INTERVAL = 5.0  # RFC 3550 §6.2's minimum for a two-party session


class Worker:
    """All calls of one worker process."""

    def __init__(self, control: socket.socket, prompts: Path | None) -> None:
        self.control = control
        self.loop = asyncio.get_running_loop()
        self.calls: dict[str, CallMedia] = {}
        self.endpoints: dict[tuple[str, str], RtpEndpoint] = {}
        self.playing: set[str] = set()  # calls that need the 20 ms tick
        self.recordings = RecordingPool()
        self.prompt_root = prompts
        self._prompt_store: Any = None
        self.done = asyncio.Event()
        self._ticks = 0

    # -- control ------------------------------------------------------------

    def start(self) -> None:
        self.control.setblocking(False)
        self.loop.add_reader(self.control.fileno(), self._on_control)
        self.loop.call_later(TICK, self._tick)
        self.loop.call_later(TIMEOUT_CHECK, self._check)
        self.loop.call_later(RTCP_INTERVAL, self._report)

    def _on_control(self) -> None:
        while True:
            fds: list[int] = []
            try:
                message, fds = P.receive(self.control)
                if message is None:
                    self.done.set()
                    return
                commands = (P.unbatch(message[2] if len(message) == 3 else None, fds)
                            if message[0] == P.BATCH else [(message, fds)])
            except BlockingIOError:
                return
            except P.ControlError as exc:  # the packet is dropped, the worker goes on
                log.error("media control packet refused: %s", exc)
                P.close_fds(fds)
                self._emit(P.ERROR, "", str(exc))
                continue
            except OSError:
                self.done.set()
                return
            for command, own in commands:
                self._run(command, own)

    def _run(self, message: tuple[Any, ...], fds: list[int]) -> None:
        if fds and message[0] != P.LEG:  # only a leg adopts descriptors
            P.close_fds(fds)
            fds = []
        try:
            self._handle(message, fds)
        except Exception as exc:  # one bad command must not stop the worker
            log.exception("media command %r failed", message[:3])
            self._emit(P.ERROR, str(message[1]), f"{type(exc).__name__}: {exc}")

    def _handle(self, message: tuple[Any, ...], fds: list[int]) -> None:
        name, call_id, *args = message
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            raise ValueError(f"unknown media command {name!r}")
        handler(call_id, *args, fds=fds)

    def _emit(self, *event: Any) -> None:
        try:
            P.send(self.control, tuple(event))
        except OSError:
            self.done.set()

    def _cmd_open(self, call_id: str, rtp_timeout: float, fds: list[int]) -> None:
        self.calls[call_id] = CallMedia(call_id, lambda: secrets.randbits(32),
                                        rtp_timeout=rtp_timeout)

    def _cmd_leg(self, call_id: str, leg: str, fds: list[int]) -> None:
        sockets = [socket.socket(fileno=fd) for fd in fds]  # closed on any failure
        try:
            if not sockets:
                raise ValueError(f"leg {leg!r} came without its RTP socket")
            self.calls[call_id].add_leg(leg)
            endpoint = RtpEndpoint(self.loop, sockets[0], sockets[1] if len(sockets) > 1 else None,
                                   lambda data, addr: self._on_rtp(call_id, leg, data, addr),
                                   lambda data, addr: self._on_rtcp(call_id, leg, data))
        except Exception:
            for sock in sockets:
                sock.close()
            raise
        self.endpoints[(call_id, leg)] = endpoint

    def _cmd_configure(self, call_id: str, leg: str, config: LegConfig,
                       fds: list[int]) -> None:
        self.calls[call_id].configure(leg, config, self.loop.time())

    def _cmd_play(self, call_id: str, leg: str, prompt: str, language: str, loop: bool,
                  fds: list[int]) -> None:
        media = self.calls[call_id]
        media.play(leg, prompt, self._prompt(prompt, language, media, leg), loop)
        self.playing.add(call_id)

    def _cmd_stop_play(self, call_id: str, leg: str, fds: list[int]) -> None:
        self.calls[call_id].stop_play(leg)

    def _cmd_hold(self, call_id: str, leg: str, on: bool, language: str,
                  fds: list[int]) -> None:
        media = self.calls[call_id]
        media.hold(leg, self._prompt("hold_music", language, media, leg) if on else None)
        if on:
            self.playing.add(call_id)

    def _cmd_inband(self, call_id: str, leg: str, on: bool, fds: list[int]) -> None:
        self.calls[call_id].detect_inband(leg, on)

    def _cmd_bridge(self, call_id: str, on: bool, fds: list[int]) -> None:
        self.calls[call_id].bridged = on

    def _cmd_record(self, call_id: str, path: str, fds: list[int]) -> None:
        media = self.calls[call_id]
        previous = media.stop_recording(self.loop.time())
        if previous is not None:  # a new file: the one before is finished, not abandoned
            self._finish_recording(call_id, previous)
        media.start_recording(self.recordings.open(Path(path)))
        self.playing.add(call_id)

    def _cmd_stop_record(self, call_id: str, fds: list[int]) -> None:
        recorder = self.calls[call_id].stop_recording(self.loop.time())
        if recorder is not None:
            self._finish_recording(call_id, recorder)

    def _finish_recording(self, call_id: str, recorder: Any) -> None:
        future = self.recordings.finish(recorder)
        path = str(recorder.path)

        def done(result: Future[float]) -> None:
            error = result.exception()
            if error is not None:
                self.loop.call_soon_threadsafe(self._emit, P.ERROR, call_id, str(error))
            else:
                self.loop.call_soon_threadsafe(self._emit, P.RECORDED, call_id, path,
                                               result.result())

        future.add_done_callback(done)

    def _cmd_close(self, call_id: str, fds: list[int]) -> None:
        media = self.calls.pop(call_id, None)
        self.playing.discard(call_id)
        if media is None:
            return
        recorder = media.stop_recording(self.loop.time())
        if recorder is not None:
            self._finish_recording(call_id, recorder)
        for leg in media.legs:
            endpoint = self.endpoints.pop((call_id, leg), None)
            if endpoint is not None:
                endpoint.close()

    def _cmd_stats(self, call_id: str, fds: list[int]) -> None:
        packets = sum(leg.packets_in for m in self.calls.values() for leg in m.legs.values())
        self._emit(P.STATS, call_id, {"calls": len(self.calls), "packets_in": packets})

    def _cmd_quit(self, call_id: str, fds: list[int]) -> None:
        self.done.set()

    # -- prompts ----------------------------------------------------------------

    def _prompt(self, name: str, language: str, media: CallMedia, leg: str
                ) -> tuple[bytes, ...]:
        config = media.legs[leg].config
        codec = config.codec if config is not None else "PCMU"
        # The store caches decoded frames and notices uploads made meanwhile.
        frames: tuple[bytes, ...] = self._store().frames(name, language, codec)
        return frames

    def preload(self, language: str) -> None:
        """Decode the prompts off the loop (a first use inside it stalls every
        call of this worker for tens of milliseconds)."""
        try:
            self._store().preload((language,))
        except Exception as exc:  # missing espeak-ng: prompts fail later, calls go on
            log.warning("prompts not preloaded: %s", exc)

    def _store(self) -> Any:
        if self._prompt_store is None:
            from media.prompts import PromptStore

            if self.prompt_root is None:
                raise RuntimeError("no prompt directory configured")
            self._prompt_store = PromptStore(self.prompt_root)
        return self._prompt_store

    # -- packets and clocks ---------------------------------------------------------

    def _on_rtp(self, call_id: str, leg: str, data: bytes, addr: tuple[str, int]) -> None:
        media = self.calls.get(call_id)
        if media is None:
            return
        out = media.receive(leg, data, addr, self.loop.time())
        if out is not None:
            peer = "b" if leg == "a" else "a"
            endpoint = self.endpoints.get((call_id, peer))
            if endpoint is not None:
                endpoint.send(out[0], out[1])
        if media.has_events:  # rare: a digit, most packets carry none
            self._drain(media)

    def _on_rtcp(self, call_id: str, leg: str, data: bytes) -> None:
        media = self.calls.get(call_id)
        if media is not None and leg in media.legs:
            media.receive_rtcp(leg, data, self.loop.time())

    def _report(self) -> None:
        """RTCP reports of every call, every RTCP_INTERVAL (RFC 3550 §6.2)."""
        now = self.loop.time()
        self.loop.call_later(RTCP_INTERVAL, self._report)
        wall = time.time()
        for call_id, media in list(self.calls.items()):
            for leg, data, target in media.rtcp_reports(now, wall):
                endpoint = self.endpoints.get((call_id, leg))
                if endpoint is not None:
                    endpoint.send_rtcp(data, target)

    def _drain(self, media: CallMedia) -> None:
        while (event := media.next_event()) is not None:
            if isinstance(event, Digit):
                self._emit(P.DIGIT, media.call_id, event.leg, event.digit, event.source)
            elif isinstance(event, MediaTimeout):
                self._emit(P.TIMEOUT, media.call_id, event.leg, event.silent_for)
            elif isinstance(event, PlaybackDone):
                self._emit(P.PLAYED, media.call_id, event.leg, event.prompt)

    def _tick(self) -> None:
        now = self.loop.time()
        self.loop.call_at(now + TICK, self._tick)
        self._ticks += 1
        slot = self._ticks % RECORD_EVERY
        for call_id in list(self.playing):
            media = self.calls.get(call_id)
            if media is None:
                self.playing.discard(call_id)
                continue
            playing = any(leg.player for leg in media.legs.values())
            if not playing and hash(call_id) % RECORD_EVERY != slot:
                # Only recording: it keeps its own timeline, so every 100 ms is
                # enough, each call in its own slot so the work is spread out.
                continue
            for leg, data, target in media.tick(now):
                endpoint = self.endpoints.get((call_id, leg))
                if endpoint is not None:
                    endpoint.send(data, target)
            self._drain(media)
            if media.recorder is None and not any(leg.player for leg in media.legs.values()):
                self.playing.discard(call_id)

    def _check(self) -> None:
        now = self.loop.time()
        self.loop.call_later(TIMEOUT_CHECK, self._check)
        for call_id, media in list(self.calls.items()):
            if call_id not in self.playing:
                media.tick(now)  # timeouts only: no player, no recorder
                self._drain(media)


async def _main(control_fd: int, prompts: Path | None, language: str = "en") -> None:
    control = socket.socket(fileno=control_fd)
    worker = Worker(control, prompts)
    worker.start()
    if prompts is not None:
        worker.loop.run_in_executor(None, worker.preload, language)
    await worker.done.wait()
    for call_id in list(worker.calls):
        worker._cmd_close(call_id, fds=[])
    worker.recordings.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--prompts", type=Path)
    parser.add_argument("--language", default="en",
                        help="prompts decoded at start, so no call waits for them")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format=f"%(asctime)s %(levelname)s media[{os.getpid()}]: %(message)s")
    try:
        import uvloop
    except ImportError:
        asyncio.run(_main(args.control_fd, args.prompts, args.language))
    else:
        uvloop.run(_main(args.control_fd, args.prompts, args.language))
    return 0


if __name__ == "__main__":
    sys.exit(main())
