"""Processes under test: loopback ports, CPU and memory from /proc, and a
real ``softswitch run`` on a generated configuration.

CPU is read from ``/proc/<pid>/stat`` (fields 14 and 15, utime and stime, in
clock ticks, summed over every thread) for the process and its descendants;
``CpuMeter`` turns two readings into per cent of one core over the wall time
between them, so 100 % is one core fully busy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port on 127.0.0.1 that is free right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc/<pid>/task/*/children."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def cpu_ticks(pid: int) -> int:
    """utime + stime of one process (all its threads), in clock ticks."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces
    return int(fields[11]) + int(fields[12])


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MiB."""
    total = 0
    for each in descendants(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


class CpuMeter:
    """CPU per cent of one core used by a process tree between ``start`` and ``stop``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._ticks = 0
        self._wall = 0.0

    def _read(self) -> int:
        return sum(cpu_ticks(p) for p in descendants(self.pid))

    def start(self) -> None:
        self._ticks = self._read()
        self._wall = time.monotonic()

    def stop(self) -> float:
        """Per cent of one core since ``start``."""
        ticks = self._read() - self._ticks
        wall = max(time.monotonic() - self._wall, 1e-6)
        return round(100.0 * ticks / TICKS / wall, 1)


def version_line(argv: list[str], marker: str = "") -> str:
    """The first line ``argv`` prints (stdout, then stderr) that holds
    ``marker``: how the report names a program's version."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    lines = [line.strip() for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    return next((line for line in lines if marker in line), "unavailable")


QUIET_PERCENT = 5.0


def settle(pid: int, *, limit: float = 20.0, window: float = 0.25) -> float | None:
    """Wait until ``pid``'s tree uses under 5 % of a core over ``window`` s,
    for at most ``limit`` s: a step must not start while the last one's calls
    (or its overload: retransmissions, a queue of records, a collection) are
    still being worked off. None once quiet, else the last CPU per cent."""
    deadline = time.monotonic() + limit
    while True:
        meter = CpuMeter(pid)
        meter.start()
        time.sleep(window)
        cpu = meter.stop()
        if cpu < QUIET_PERCENT:
            return None
        if time.monotonic() >= deadline:
            return cpu


def offered_cpu(pid: int, offering: float) -> float:
    """CPU of ``pid``'s tree while a load generator offers load for
    ``offering`` s from now.

    The first tenth (at most a second: the generator starting, the first
    calls not yet at their steady mix of set-ups and tear-downs) and as much
    at the end are left out. After the offering come only calls ending, or
    failed ones waiting out SIPp's 8 s timeout: an idle tail measured with
    the rest would dilute a busy window into a passing figure.
    """
    margin = min(offering / 10, 1.0)
    time.sleep(margin)
    meter = CpuMeter(pid)
    meter.start()
    time.sleep(max(offering - 2 * margin, 0.05))
    return meter.stop()


class ProcessError(Exception):
    """A process under test did not start or died."""


class Switch:
    """``python -m softswitch run --config FILE`` in a child process.

    Logging is at INFO, the production default: at DEBUG the switch writes
    every message, which would measure the logger, not the switch.
    """

    def __init__(self, workdir: Path, config: str, log_level: str = "INFO") -> None:
        self.workdir = workdir
        self.config_path = workdir / "softswitch.toml"
        self.config_path.write_text(config)
        self.log_path = workdir / "softswitch.log"
        self.log_level = log_level
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ProcessError("softswitch not started")
        return self.process.pid

    def start(self, timeout: float = 20.0) -> Switch:
        """Start and wait for the ``softswitch ready`` line."""
        argv = [sys.executable, "-m", "softswitch", "run", "--config", str(self.config_path),
                "--log-level", self.log_level]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "softswitch ready" in self.log():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise ProcessError(f"softswitch did not start:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.process, timeout)


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
