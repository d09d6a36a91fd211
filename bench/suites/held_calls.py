"""Suite ``held-calls``: concurrent long calls held, signalling only.

The operator's SIPp UAC sets up ``count`` calls to the DID at a rate the
switch sustains, holds each for longer than the whole ramp (``-d``), so all
are up at once for a settle period; the switch's CPU and memory are read in
that period. Steps of growing counts until one fails (< 0.1 % failed calls,
CPU < 80 % of one core while holding); the result is the largest count held.
"""

from __future__ import annotations

from typing import Any

from bench.harness import Context, SoftswitchSystem, held_step
from bench.stepping import Step, run_steps, system_result

QUICK = ((50.0, 200.0), 100.0, 3.0)
FULL = ((1000.0, 3000.0, 10000.0, 20000.0), 100.0, 10.0)


def run(ctx: Context) -> dict[str, Any]:
    counts, setup_rate, settle = QUICK if ctx.quick else FULL
    system = SoftswitchSystem(ctx, extensions=1, callees=1)

    def measure(count: float) -> Step:
        return held_step(system, ctx, int(count), setup_rate, settle)

    with system:
        steps = run_steps(measure, counts)
    return {"x": "concurrent calls", "unit": "calls", "setup_rate": setup_rate,
            "settle_seconds": settle, "systems": {"softswitch": system_result(steps)},
            "ratios": {}}
