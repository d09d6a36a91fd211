"""SIPp runs for the benchmarks: command lines, outcomes, setup-time samples.

Each run has its own work directory with the ``-trace_stat`` CSV (one row a
second), the ``-trace_err`` log and, for scenarios that time a response
(``start_rtd``/``rtd``), the ``-trace_rtt`` file: one line per call with the
measured time in whole milliseconds (SIPp's clock). Percentiles come from those per-call samples,
not from the stat CSV's averages, so p95 is the 95th of the real setup times.
"""

from __future__ import annotations

import csv
import math
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import LOOPBACK, free_port, stop_process, version_line

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
SCENARIOS = Path(__file__).resolve().parent / "sipp"


class SippError(Exception):
    """SIPp could not run, or a background SIPp died."""


def sipp_version() -> str:
    return version_line([SIPP, "-v"], "SIPp")


@dataclass(frozen=True, slots=True)
class SippOutcome:
    """What one SIPp run to its end did."""

    returncode: int
    created: int
    successful: int
    failed: int
    seconds: float
    rtts: tuple[tuple[float, float], ...]
    workdir: Path

    @property
    def rtts_ms(self) -> tuple[float, ...]:
        return tuple(rtt for _, rtt in self.rtts)

    def completion_rate(self) -> float:
        """Timed responses per second between the first and the last one."""
        if len(self.rtts) < 2:
            return 0.0
        span = (self.rtts[-1][0] - self.rtts[0][0]) / 1000
        return round((len(self.rtts) - 1) / span, 1) if span > 0 else 0.0

    def percentile(self, fraction: float) -> float | None:
        """The ``fraction`` quantile of the timed responses (nearest rank), in ms."""
        if not self.rtts_ms:
            return None
        ordered = sorted(self.rtts_ms)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return round(ordered[rank - 1], 2)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        rows = [row for row in csv.reader(f, delimiter=";") if row]
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def _int(row: Mapping[str, str], column: str) -> int:
    value = row.get(column, "").strip()
    return int(value) if value.isdigit() else 0


def read_rtts(folder: Path) -> tuple[tuple[float, float], ...]:
    """Every timed response of a run as (when, how long) in ms, from
    ``*_rtt.csv`` (date_ms;response_time_ms;rtd_no)."""
    samples: list[tuple[float, float]] = []
    for path in folder.glob("*_rtt.csv"):
        for line in path.read_text(errors="replace").splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 2:
                try:
                    samples.append((float(parts[0]), float(parts[1])))
                except ValueError:
                    continue
    return tuple(sorted(samples))


@dataclass(slots=True)
class Sipp:
    """Options of one SIPp run from 127.0.0.1 (``target`` is none for a UAS)."""

    scenario: str
    workdir: Path
    target: str | None = None
    calls: int | None = None
    rate: float | None = None
    limit: int | None = None
    service: str | None = None
    inf: Path | None = None
    hold_ms: int | None = None
    port: int = 0
    extra: Sequence[str] = field(default_factory=tuple)

    def argv(self) -> list[str]:
        if self.port == 0:
            self.port = free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [SIPP, "-sf", str(SCENARIOS / self.scenario), "-i", LOOPBACK,
                "-p", str(self.port), "-t", "u1", "-cp", str(free_port()), "-nostdin",
                "-trace_stat", "-stf", str(self.workdir / "stat.csv"), "-fd", "1",
                "-trace_err", "-error_file", str(self.workdir / "errors.log"),
                "-trace_rtt", "-rtt_freq", "1", "-recv_timeout", "8000",
                "-max_recv_loops", "5000", "-max_sched_loops", "5000"]
        options: list[tuple[str, object | None]] = [
            ("-m", self.calls), ("-r", self.rate), ("-l", self.limit), ("-s", self.service),
            ("-inf", self.inf), ("-d", self.hold_ms)]
        args += [item for flag, value in options if value is not None
                 for item in (flag, str(value))]
        if self.rate is not None:
            args += ["-rp", "1000"]
        args += list(self.extra)
        if self.target:
            args.append(self.target)
        return args

    def start(self) -> subprocess.Popen[bytes]:
        argv = self.argv()
        (self.workdir / "command.txt").write_text(" ".join(argv) + "\n")
        with (self.workdir / "stdout.log").open("wb") as out, \
                (self.workdir / "stderr.log").open("wb") as err:
            try:
                return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=err, cwd=self.workdir)
            except OSError as exc:
                raise SippError(f"cannot run {argv[0]}: {exc}") from exc

    def run(self, timeout: float) -> SippOutcome:
        """Run to the end; after ``timeout`` s stop SIPp softly, then kill it."""
        began = time.monotonic()
        return self.finish(self.start(), began, timeout)

    def finish(self, process: subprocess.Popen[bytes], began: float,
               timeout: float) -> SippOutcome:
        """Wait for a started run (``began`` on the monotonic clock) until
        ``timeout`` s after it began, then stop it softly or kill it."""
        timeout = max(timeout - (time.monotonic() - began), 0.1)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGUSR1)  # SIPp's soft stop ("q")
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        return self.outcome(process.returncode, time.monotonic() - began)

    def outcome(self, returncode: int, seconds: float) -> SippOutcome:
        rows = _rows(self.workdir / "stat.csv")
        last = rows[-1] if rows else {}
        created = _int(last, "TotalCallCreated") or _int(last, "IncomingCall(C)")
        successful = _int(last, "SuccessfulCall(C)")
        attempted = self.calls if self.calls is not None else created
        return SippOutcome(returncode, created, successful, max(attempted - successful, 0),
                           round(seconds, 2), read_rtts(self.workdir), self.workdir)

    def errors(self) -> str:
        path = self.workdir / "errors.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


class Background:
    """A SIPp started for the length of a suite (a UAS); stopped on exit."""

    def __init__(self, sipp: Sipp) -> None:
        self.sipp = sipp
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Background:
        self.process = self.sipp.start()
        time.sleep(0.3)
        if self.process.poll() is not None:
            raise SippError(f"sipp exited early: {self.sipp.errors()}"
                            f"{(self.sipp.workdir / 'stderr.log').read_text()[-1000:]}")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                stop_process(self.process, 2)
