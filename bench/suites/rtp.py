"""Suites ``rtp-relayed`` and ``rtp-recorded``: concurrent G.711 calls placed
through a running ``softswitch run``, their RTP relayed by its one media
worker (F-MEDIA-1), and the same with every call recorded (F-MEDIA-3).

``bench.media_calls`` sets the calls up with SIPp through the trunk to a
registered SIPp callee; the bench's generator plays both phones' RTP: one
20 ms packet per call every 20 ms from the callee, relayed by the switch to
the caller, echoed, and relayed back, so a step of N calls has the worker relay
100·N packets a second, half each way. Each step's record: ``attempted``
packets sent in the measuring window, ``successful`` back in time,
``failed`` lost (never back, or more than 100 ms after sending),
``cpu_percent`` the media worker's CPU, ``p50_ms``/``p95_ms`` the round
trip. A step passes when every call completed (and, recorded, left its WAV
file), < 0.1 % of its packets were lost and the worker and the switch's main
process each stayed under 80 % of one core. Counts double until a step
fails, then three bisections find the ceiling; ``--quick`` runs two small
steps.
"""

from __future__ import annotations

from typing import Any

from bench.harness import Context
from bench.media_calls import MediaCalls
from bench.procs import rss_mib
from bench.stepping import (
    MAX_CPU_PERCENT,
    Step,
    doubling,
    failure_ratio,
    passes,
    run_steps,
    system_result,
)

QUICK = ((10.0, 20.0), 2.0, 20.0)  # counts, seconds per step, calls set up per second
FULL = (tuple(doubling(50.0, 1600.0)), 5.0, 100.0)


def _step(result: dict[str, Any], pid: int, record: bool) -> Step:
    calls = int(result["calls"])
    sent, lost = int(result["packets_sent"]), int(result["packets_lost"])
    cpu = float(result.get("worker_cpu_percent", 0.0))
    completed = result["calls_completed"] == calls
    note = f"{result['calls_completed']}/{calls} calls completed"
    if "relayed_pps" in result:
        note += (f"; {result['relayed_pps']} packets/s relayed; main process CPU "
                 f"{result['main_cpu_percent']} %, generator (both phones) "
                 f"{result['generator_cpu_percent']} %; "
                 f"worst late {result['worst_late_ms']} ms")
    if record:
        note += (f"; {result['recorded_files']} WAV files, {result['recorded_mib']} MiB, "
                 f"shortest {result['shortest_recording_s']} s")
        completed = completed and result["recorded_files"] == calls
    if "note" in result:
        note += "; " + result["note"]
    main_ok = float(result.get("main_cpu_percent", 0.0)) < MAX_CPU_PERCENT
    return Step(load=float(calls), attempted=sent, successful=sent - lost, failed=lost,
                failure_ratio=failure_ratio(sent, lost), cpu_percent=cpu,
                p50_ms=result.get("p50_delay_ms"), p95_ms=result.get("p95_delay_ms"),
                achieved_rate=float(result.get("relayed_pps", 0.0)),
                seconds=float(result["seconds"]), rss_mib=rss_mib(pid),
                passed=passes(sent, lost, cpu) and completed and main_ok, note=note)


def _run(ctx: Context, record: bool) -> dict[str, Any]:
    counts, seconds, setup_rate = QUICK if ctx.quick else FULL
    with MediaCalls(ctx, record, setup_rate) as bench:
        def measure(calls: float) -> Step:
            return _step(bench.measure(int(calls), seconds), bench.switch.pid, record)

        steps = run_steps(measure, counts, refine=0 if ctx.quick else 3)
    return {"x": "concurrent calls through softswitch run (G.711, 20 ms)", "unit": "calls",
            "recorded": record, "seconds_per_step": seconds, "workers": 1,
            "setup_rate": setup_rate,
            "p95": "p95 packet round trip, relayed once each way (ms)",
            "success": "packets back in time", "cpu": "media worker CPU % of one core",
            "systems": {"softswitch": system_result(steps)}, "ratios": {}}


def run_relayed(ctx: Context) -> dict[str, Any]:
    return _run(ctx, record=False)


def run_recorded(ctx: Context) -> dict[str, Any]:
    return _run(ctx, record=True)
