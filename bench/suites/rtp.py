"""Suites ``rtp-relayed`` and ``rtp-recorded``: concurrent bridged G.711
calls whose RTP one media worker relays (F-MEDIA-1), and the same with every
call recorded (F-MEDIA-3).

The media engine of ``softswitch run`` is started on its own with one worker
process (the switch gives media one worker per core; the figure is per
worker) and ``bench.media_load``'s generator plays both phones of every call:
one 20 ms packet per direction per call. A step of N calls sends 100·N
packets a second. Each step's record: ``attempted`` packets sent,
``successful`` relayed in time, ``failed`` lost (dropped, or relayed more
than 100 ms late), ``cpu_percent`` the worker's CPU, ``p50_ms``/``p95_ms``
the send-to-relay delay. A step passes with < 0.1 % of its packets lost and
the worker under 80 % of one core. Counts double until a step fails, then
three bisections find the ceiling; ``--quick`` runs two small steps. One
small unmeasured step first starts the worker up (its first call loses a
few packets once, which is not a matter of load).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.harness import Context
from bench.media_load import Bench
from bench.procs import rss_mib
from bench.stepping import Step, doubling, failure_ratio, passes, run_steps, system_result

QUICK = ((20.0, 50.0), 2.0)
FULL = (tuple(doubling(100.0, 3200.0)), 5.0)


def _step(result: dict[str, Any], pid: int) -> Step:
    sent, lost = int(result["packets_sent"]), int(result["packets_lost"])
    cpu = float(result["worker_cpu_percent"])
    note = (f"{result['relayed_pps']} packets/s relayed; generator CPU "
            f"{result['generator_cpu_percent']} %; worst late {result['worst_late_ms']} ms")
    if "recorded_files" in result:
        note += f"; {result['recorded_files']} WAV files, {result['recorded_mib']} MiB"
    return Step(load=float(result["calls"]), attempted=sent, successful=sent - lost,
                failed=lost, failure_ratio=failure_ratio(sent, lost), cpu_percent=cpu,
                p50_ms=result["p50_delay_ms"], p95_ms=result["p95_delay_ms"],
                achieved_rate=float(result["relayed_pps"]), seconds=float(result["seconds"]),
                rss_mib=rss_mib(pid), passed=passes(sent, lost, cpu), note=note)


def _run(ctx: Context, record: bool) -> dict[str, Any]:
    counts, seconds = QUICK if ctx.quick else FULL
    folder: Path | None = ctx.folder("recordings") if record else None
    with Bench() as bench:
        # a fresh worker drops the first few rounds of its very first call;
        # one small unmeasured step keeps that start-up out of every figure
        bench.measure(10, 1.0, folder / "warm-up" if folder is not None else None)

        def measure(calls: float) -> Step:
            where = folder / f"{calls:g}" if folder is not None else None
            return _step(bench.measure(int(calls), seconds, where), bench.worker_pid)

        steps = run_steps(measure, counts, refine=0 if ctx.quick else 3)
    return {"x": "concurrent calls (G.711, 20 ms)", "unit": "calls", "recorded": record,
            "seconds_per_step": seconds, "workers": 1,
            "p95": "p95 packet send-to-relay delay (ms)",
            "success": "packets relayed in time", "cpu": "media worker CPU % of one core",
            "systems": {"softswitch": system_result(steps)}, "ratios": {}}


def run_relayed(ctx: Context) -> dict[str, Any]:
    return _run(ctx, record=False)


def run_recorded(ctx: Context) -> dict[str, Any]:
    return _run(ctx, record=True)
