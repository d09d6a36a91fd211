"""Suite ``held-calls``: concurrent long calls held, signalling only.

The operator's SIPp UAC sets up ``count`` calls to the DID at a rate the
switch sustains, holds each for longer than the whole ramp (``-d``), so all
are up at once for a settle period; the switch's CPU and memory are read in
that period. Steps of growing counts until one fails (< 0.1 % failed calls,
CPU < 80 % of one core while holding); the result is the largest count held.
The switch relays signalling only (``[media] anchor = false``): with media
anchored every call holds four RTP/RTCP ports, so the default range of
20,000 ports carries 5,000 calls and the next call is refused with 480;
the media suites measure anchored calls.
"""

from __future__ import annotations

from typing import Any

from bench.harness import Context, SoftswitchSystem, held_step
from bench.stepping import Step, run_steps, system_result

QUICK = ((50.0, 200.0), 100.0, 1.5)
FULL = ((1000.0, 3000.0, 10000.0, 20000.0), 100.0, 10.0)


def run(ctx: Context) -> dict[str, Any]:
    counts, setup_rate, settle = QUICK if ctx.quick else FULL
    system = SoftswitchSystem(ctx, extensions=1, callees=1, anchor=False)

    def measure(count: float) -> Step:
        return held_step(system, ctx, int(count), setup_rate, settle)

    with system:
        steps = run_steps(measure, counts)
    return {"x": "concurrent calls", "unit": "calls", "setup_rate": setup_rate, "anchor": False,
            "settle_seconds": settle, "systems": {"softswitch": system_result(steps)},
            "ratios": {}}
