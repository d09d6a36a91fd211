"""What the call-rate suites share: stepping a system, peers, ratios."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench.harness import Context, System, rate_step
from bench.peers import peer_systems
from bench.stepping import Step, doubling, run_steps, system_result

QUICK_RATES = (30.0, 60.0)  # 60 calls a step: 2 s, then 1 s


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
               measure_peer: Callable[[System], dict[str, Any]],
               variants: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Our figures beside every peer's, and ours ÷ peer for the ceilings.

    ``ratios_at_common_load`` holds, for each peer, ours ÷ peer for CPU and
    p95 at the highest load both passed (None when there is none).
    ``variants`` are more of our own systems (another configuration of the
    switch) shown beside ``ours``; each gets its own ratios to every peer
    under ``variant_ratios``, while ``ratios`` stays that of ``ours``."""
    systems: dict[str, Any] = {"softswitch": ours, **(variants or {})}
    ratios: dict[str, float | None] = {}
    extra: dict[str, dict[str, float | None]] = {name: {} for name in variants or {}}
    for name, peer in peer_systems(ctx):
        if isinstance(peer, str):
            systems[name] = {"ceiling": None, "capped": False, "steps": [], "note": peer}
        else:
            systems[name] = measure_peer(peer)
        theirs = systems[name]["ceiling"]
        ratios[name] = _ratio(ours["ceiling"], theirs)
        for variant, figures in (variants or {}).items():
            extra[variant][name] = _ratio(figures["ceiling"], theirs)
    result = {"systems": systems, "ratios": ratios,
              "ratios_at_common_load": {name: _at_common_load(ours, systems[name])
                                        for name in ratios}}
    if variants:
        result["variant_ratios"] = extra
    return result


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return round(ours / theirs, 3) if ours and theirs else None


def _at_common_load(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any] | None:
    """Ours ÷ theirs for CPU and p95 setup time at the highest load both passed."""
    mine = {step["load"]: step for step in ours["steps"] if step["passed"]}
    both = [step for step in theirs["steps"] if step["passed"] and step["load"] in mine]
    if not both:
        return None
    peer = max(both, key=lambda step: step["load"])
    me = mine[peer["load"]]
    return {"load": peer["load"], "cpu_percent": _ratio(me["cpu_percent"], peer["cpu_percent"]),
            "p95_ms": _ratio(me["p95_ms"], peer["p95_ms"])}
