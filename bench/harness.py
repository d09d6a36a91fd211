"""Systems under test and the measurement of one load step against them.

A *system* is what SIPp's calls go through: the softswitch (B2BUA) with a
SIPp UAS registered as the called extensions, or a peer (the SIPp UAS alone,
Kamailio as a stateful proxy in front of it). Each is a context manager
giving the ``target`` address for the SIPp UAC and the ``pid`` whose process
tree is measured for CPU.
"""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench import config
from bench.procs import (
    LOOPBACK,
    CpuMeter,
    ProcessError,
    Switch,
    free_port,
    offered_cpu,
    rss_mib,
    settle,
    stop_process,
)
from bench.sippctl import Background, Sipp, SippOutcome
from bench.stepping import Step, failure_ratio, passes

_RUNS = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Context:
    """Where a run writes and how large it is."""

    workdir: Path
    quick: bool

    def folder(self, name: str) -> Path:
        path = self.workdir / f"{next(_RUNS):03d}-{name}"
        path.mkdir(parents=True, exist_ok=True)
        return path


class System:
    """Base of the systems under test: ``target`` for the UAC, ``pid`` to measure."""

    name = "system"
    target = ""
    pid = 0

    def __enter__(self) -> System:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def healthy(self) -> bool:
        return True


class SoftswitchSystem(System):
    """``softswitch run`` with ``extensions`` extensions; the first ``callees``
    of them registered to one SIPp UAS (``uas_answer.xml``). With ``anchor``
    false the switch relays signalling only (``[media] anchor = false``)."""

    name = "softswitch"

    def __init__(self, ctx: Context, extensions: int, callees: int = 0, *,
                 anchor: bool = True, name: str = "softswitch") -> None:
        self.name = name
        self.folder = ctx.folder(name)
        self.port = free_port()
        self.switch = Switch(self.folder, config.switch_config(
            self.port, self.folder / "var", max(extensions, callees, 1), anchor=anchor))
        self.callees = callees
        self.uas: Background | None = None
        self.target = f"{LOOPBACK}:{self.port}"

    def __enter__(self) -> SoftswitchSystem:
        self.switch.start()
        self.pid = self.switch.pid
        if self.callees:
            try:
                self.uas = start_callee_uas(self.folder, self.target, self.callees)
            except Exception:
                self.switch.stop()
                raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.uas is not None:
            self.uas.__exit__(kind, exc, tb)
        self.switch.stop()

    def healthy(self) -> bool:
        return self.switch.alive()


def start_callee_uas(folder: Path, registrar: str, callees: int,
                     scenario: str = "uas_answer.xml", *, inf: Path | None = None,
                     extra: Sequence[str] = ("-aa",)) -> Background:
    """Register extensions 0..callees-1 from one port, then answer calls
    there with ``scenario`` (its injection file ``inf``, more options ``extra``)."""
    port = free_port()
    users = config.users_csv(folder / "callees.csv", callees)
    done = Sipp("register_storm.xml", folder / "register-callees", target=registrar,
                calls=callees, rate=min(200, callees * 10), inf=users, port=port).run(60)
    if done.successful != callees:
        raise ProcessError(f"registered {done.successful} of {callees} callees "
                           f"(see {done.workdir})")
    return Background(Sipp(scenario, folder / "uas", port=port, inf=inf,
                           extra=list(extra))).__enter__()


class SippOnlySystem(System):
    """The load generator alone: the SIPp UAC straight to the SIPp UAS."""

    name = "sipp-only"

    def __init__(self, ctx: Context) -> None:
        self.port = free_port()
        self.uas = Background(Sipp("uas_answer.xml", ctx.folder("sipp-only-uas"),
                                   port=self.port, extra=["-aa"]))
        self.target = f"{LOOPBACK}:{self.port}"

    def __enter__(self) -> SippOnlySystem:
        self.uas.__enter__()
        self.pid = self.uas.pid
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.uas.__exit__(kind, exc, tb)


def rate_step(system: System, ctx: Context, scenario: str, rate: float, calls: int, *,
              service: str | None = None, inf: Path | None = None) -> Step:
    """Offer ``calls`` calls at ``rate``/s to ``system`` and measure."""
    sipp = Sipp(scenario, ctx.folder(f"{system.name}-{scenario[:-4]}-{rate:g}"),
                target=system.target, calls=calls, rate=rate,
                limit=max(2000, int(rate * 20)), service=service, inf=inf)
    offering = calls / rate
    busy = settle(system.pid)
    began = time.monotonic()
    process = sipp.start()
    cpu = offered_cpu(system.pid, offering)
    outcome = sipp.finish(process, began, timeout=offering + 60)
    note = "" if busy is None else f"the system was still busy ({busy:g} % CPU) when it began"
    return _step(system, rate, calls, outcome, cpu, note=note, offered_rate=rate)


def _step(system: System, load: float, attempted: int, outcome: SippOutcome,
          cpu: float, note: str = "", offered_rate: float | None = None) -> Step:
    if not system.healthy():
        note = (note + "; " if note else "") + "process under test died"
    failed = max(attempted - outcome.successful, 0)
    return Step(load=load, attempted=attempted, successful=outcome.successful, failed=failed,
                failure_ratio=failure_ratio(attempted, failed), cpu_percent=cpu,
                p50_ms=outcome.percentile(0.5), p95_ms=outcome.percentile(0.95),
                achieved_rate=outcome.completion_rate(), seconds=outcome.seconds,
                rss_mib=rss_mib(system.pid),
                passed=passes(attempted, failed, cpu, offered_rate=offered_rate,
                              achieved_rate=outcome.completion_rate()) and system.healthy(),
                note=note)


def held_step(system: System, ctx: Context, count: int, setup_rate: float,
              settle: float) -> Step:
    """Set up ``count`` calls at ``setup_rate``/s and hold them all for
    ``settle`` seconds; CPU and memory are measured while all are up."""
    ramp = count / setup_rate
    hold_ms = int((ramp + settle + 2) * 1000)
    sipp = Sipp("trunk_call.xml", ctx.folder(f"{system.name}-held-{count}"),
                target=system.target, calls=count, rate=setup_rate, limit=count + 10,
                service=config.DID, hold_ms=hold_ms)
    began = time.monotonic()
    process = sipp.start()
    meter = CpuMeter(system.pid)
    time.sleep(ramp + 1)
    meter.start()
    time.sleep(settle)
    cpu = meter.stop()
    memory = rss_mib(system.pid)
    try:
        process.wait(hold_ms / 1000 + 60)
    except subprocess.TimeoutExpired:
        stop_process(process)
    outcome = sipp.outcome(process.returncode, time.monotonic() - began)
    step = _step(system, count, count, outcome, cpu,
                 note=f"CPU while all {count} calls were up ({settle:g} s)")
    return Step(**{**step.as_json(), "rss_mib": memory})
