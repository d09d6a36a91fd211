"""What the call-rate suites share: stepping a system, peers, ratios."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Context, System, rate_step
from bench.peers import peer_systems
from bench.stepping import Step, doubling, run_steps, system_result

QUICK_RATES = (20.0, 50.0)


def rate_loads(ctx: Context, start: float = 50.0, limit: float = 6400.0) -> list[float]:
    return list(QUICK_RATES) if ctx.quick else doubling(start, limit)


def calls_per_step(ctx: Context, full: int = 2000) -> int:
    return 60 if ctx.quick else full


def step_system(system: System, ctx: Context, scenario: str, *, service: str | None = None,
                inf: Path | None = None, loads: list[float] | None = None) -> dict[str, Any]:
    """Step ``system`` through the rates and return its JSON."""
    calls = calls_per_step(ctx)

    def measure(rate: float) -> Step:
        return rate_step(system, ctx, scenario, rate, calls, service=service, inf=inf)

    with system:
        steps = run_steps(measure, loads or rate_loads(ctx), refine=0 if ctx.quick else 3)
    return system_result(steps)


def with_peers(ctx: Context, ours: dict[str, Any],
               measure_peer: Callable[[System], dict[str, Any]]) -> dict[str, Any]:
    """Our figures beside every peer's, and ours ÷ peer for the ceilings."""
    systems: dict[str, Any] = {"softswitch": ours}
    ratios: dict[str, float | None] = {}
    for name, peer in peer_systems(ctx):
        if isinstance(peer, str):
            systems[name] = {"ceiling": None, "capped": False, "steps": [], "note": peer}
            ratios[name] = None
            continue
        systems[name] = measure_peer(peer)
        theirs = systems[name]["ceiling"]
        ratios[name] = round(ours["ceiling"] / theirs, 3) \
            if ours["ceiling"] and theirs else None
    return {"systems": systems, "ratios": ratios}
