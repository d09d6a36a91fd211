"""RTP calls placed through a running ``softswitch run`` (F-MEDIA-1, F-MEDIA-3).

The switch runs with one media worker process (the figure is per worker)
and anchors every call's RTP. A step of N calls:

- the operator (SIPp, ``trunk_call_rtp.xml``) sets up N calls through the
  trunk to a DID whose extension is registered to a second SIPp
  (``uas_rtp.xml``), and holds them;
- both phones' RTP is :class:`bench.media_load.Generator`'s: each SDP names
  one of its sockets (an ``-inf`` line per call on each side), and the
  callee writes one log line per call with the port the switch offered it,
  so the generator sends one 20 ms G.711 packet per call every 20 ms there
  from the callee's socket; the caller's sockets send back whatever reaches
  them;
- each packet travels callee → switch → caller (echoed) → switch → callee:
  relayed twice, once each way, as a two-party call is. Its send time rides
  in the payload, so the generator measures the round trip; a packet back
  more than 100 ms after it was sent, or never, is lost. (The generator's
  sockets have 8 MiB buffers: a loss is the switch's, not the bench's.)

Once every call is up and a 1 s warm-up has passed, a measuring window of
``seconds`` opens: the packets sent in it are marked, and those are the
step's ``packets_sent``/``packets_lost``; CPU of the media worker, of the
switch's main process and of the generator is read over the window. The
calls then end (BYE at the end of their hold) and every call must have
completed; with recording on, each must have left its WAV file.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import wave
from pathlib import Path
from types import TracebackType
from typing import Any

from bench import config
from bench.harness import Context, start_callee_uas
from bench.media_load import DELAY_CAP_MS, SOCKETS_PER_SIDE, Generator, cpu_seconds, new_loop
from bench.procs import LOOPBACK, Switch, descendants, free_port
from bench.sippctl import Background, Sipp

WARM_UP = 1.0
DRAIN = 0.5  # after the window closes: what is still in flight comes back


class MediaCalls:
    """The switch, its registered callee and the RTP generator, for
    synchronous callers: ``with MediaCalls(ctx, record) as m: m.measure(n, s)``."""

    def __init__(self, ctx: Context, record: bool, setup_rate: float) -> None:
        self.ctx = ctx
        self.record = record
        self.setup_rate = setup_rate
        self.folder = ctx.folder("softswitch-media")
        self.port = free_port()
        self.switch = Switch(self.folder, config.switch_config(
            self.port, self.folder / "var", 1, media_workers=1, record=record))
        self.calls_log = self.folder / "callee-calls.log"
        self.loop = new_loop()
        self.generator: Generator | None = None
        self.uas: Background | None = None

    @property
    def target(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def __enter__(self) -> MediaCalls:
        self.switch.start()
        try:
            self.generator = Generator(self.loop)
            self.generator.echo_on_a()
            self.uas = self._start_callee()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.uas is not None:
            self.uas.__exit__(kind, exc, tb)
        if self.generator is not None:
            self.generator.close()
        self.loop.close()
        self.switch.stop()

    def _start_callee(self) -> Background:
        """Register the DID's extension from one port, then answer there
        with SDP naming the generator's B sockets in turn."""
        assert self.generator is not None
        return start_callee_uas(self.folder, self.target, 1, "uas_rtp.xml",
                                inf=self._rtp_csv("b"),
                                extra=["-trace_logs", "-log_file", str(self.calls_log)])

    def _rtp_csv(self, side: str) -> Path:
        """An injection file of the generator's ``side`` sockets, one a line."""
        assert self.generator is not None
        path = self.folder / f"rtp-{side}.csv"
        rows = ["SEQUENTIAL"] + ["{1};{0};".format(*self.generator.address(side, i))
                                 for i in range(SOCKETS_PER_SIDE)]
        path.write_text("\n".join(rows) + "\n")
        return path

    def worker_pids(self) -> list[int]:
        return [pid for pid in descendants(self.switch.pid) if pid != self.switch.pid]

    def recordings(self) -> list[Path]:
        return sorted((self.folder / "var" / "recordings").rglob("*.wav"))

    def measure(self, calls: int, seconds: float) -> dict[str, Any]:
        """One step of ``calls`` concurrent calls, ``seconds`` measured; the
        recordings of a recorded step are counted, then removed."""
        before = set(self.recordings())
        result = self.loop.run_until_complete(self._step(calls, seconds))
        if self.record:
            made = [path for path in self.recordings() if path not in before]
            result.update(_recorded(made))
            for path in made:
                path.unlink(missing_ok=True)
        return result

    async def _step(self, calls: int, seconds: float) -> dict[str, Any]:
        generator = self.generator
        assert generator is not None, "MediaCalls used outside its with block"
        ramp = calls / self.setup_rate
        hold = 2 * ramp + WARM_UP + seconds + 4
        uac = Sipp("trunk_call_rtp.xml", self.ctx.folder(f"media-{calls}"), target=self.target,
                   calls=calls, rate=self.setup_rate, limit=calls + 10, service=config.DID,
                   hold_ms=int(hold * 1000), inf=self._rtp_csv("a"))
        offset = self.calls_log.stat().st_size if self.calls_log.exists() else 0
        process = uac.start()
        began = time.monotonic()
        generator.start()
        up = await self._collect(offset, calls, deadline=began + 2 * ramp + 5)
        await asyncio.sleep(WARM_UP)
        if up == calls:
            figures = await self._window(seconds)
            if time.monotonic() - began > hold - 1:
                figures["note"] = "the window ran past the calls' hold"
        else:  # the step failed before measuring: no packet was counted
            figures = {"packets_sent": 0, "packets_lost": 0, "seconds": 0.0,
                       "note": f"only {up} of {calls} calls reached the callee"}
        generator.clear()
        try:
            await asyncio.to_thread(process.wait, hold + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 10)
        outcome = uac.outcome(process.returncode, time.monotonic() - began)
        return {"calls": calls, "calls_up": up, "calls_completed": outcome.successful,
                "setup_p95_ms": outcome.percentile(0.95), **figures}

    async def _collect(self, offset: int, calls: int, deadline: float) -> int:
        """Add a generator stream for each call the callee logs, until
        ``calls`` are in or ``deadline`` passes; the count in."""
        assert self.generator is not None
        sockets = {self.generator.address("b", i)[1]: i for i in range(SOCKETS_PER_SIDE)}
        up = 0
        while up < calls and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if not self.calls_log.exists():
                continue
            with self.calls_log.open("rb") as log:
                log.seek(offset)
                chunk = log.read()
            complete = chunk[:chunk.rfind(b"\n") + 1]
            offset += len(complete)
            for line in complete.decode(errors="replace").splitlines():
                fields = line.split()  # "<our port> m=audio <switch port>"
                if len(fields) >= 3 and fields[0].isdigit() and fields[-1].isdigit():
                    self.generator.add_stream(sockets.get(int(fields[0]), 0), int(fields[-1]))
                    up += 1
        return up

    async def _window(self, seconds: float) -> dict[str, Any]:
        generator = self.generator
        assert generator is not None
        workers = self.worker_pids()
        pids = [self.switch.pid, *workers]
        cpu0 = [cpu_seconds(pid) for pid in pids]
        own0 = time.process_time()
        late0, received0, generator.worst = generator.late, generator.received, 0.0
        generator.delays = [0] * (DELAY_CAP_MS + 1)
        generator.open_window()
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        generator.open_window(False)
        elapsed = time.monotonic() - t0
        cpu = [round(100 * (cpu_seconds(pid) - was) / elapsed, 1)
               for pid, was in zip(pids, cpu0, strict=True)]
        own = round(100 * (time.process_time() - own0) / elapsed, 1)
        returned = generator.received - received0
        await asyncio.sleep(DRAIN)
        sent, on_time = generator.window_sent, generator.window_on_time
        return {
            "packets_sent": sent,
            "packets_lost": max(0, sent - on_time),
            "relayed_pps": round(2 * returned / elapsed),
            "worker_cpu_percent": max(cpu[1:], default=0.0),
            "main_cpu_percent": cpu[0],
            "generator_cpu_percent": own,
            "late_rounds": generator.late - late0,
            "worst_late_ms": round(1000 * generator.worst),
            "p50_delay_ms": generator.delay_percentile(0.5),
            "p95_delay_ms": generator.delay_percentile(0.95),
            "seconds": round(elapsed, 2),
        }


def _recorded(files: list[Path]) -> dict[str, Any]:
    """How many WAV files a step left, their size and the shortest one's length."""
    shortest: float | None = None
    for path in files:
        try:
            with wave.open(str(path)) as wav:
                length = wav.getnframes() / wav.getframerate()
        except (OSError, EOFError, wave.Error):
            length = 0.0
        shortest = length if shortest is None else min(shortest, length)
    return {"recorded_files": len(files),
            "recorded_mib": round(sum(os.path.getsize(f) for f in files) / 2**20, 1),
            "shortest_recording_s": round(shortest, 1) if shortest is not None else None}
