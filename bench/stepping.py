"""Steps of load, their figures, and the pass criterion of every suite.

A step passes when fewer than 0.1 % of its attempts failed and the process
under test used less than 80 % of one core (it is given one core: the
softswitch is one Python process). The full form of a suite raises the load
step by step (doubling) until a step fails, then bisects between the last
passing and the first failing load; the highest passing load is the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

MAX_FAILURE_RATIO = 0.001
MAX_CPU_PERCENT = 80.0
MIN_ACHIEVED = 0.95  # of the offered rate, for rate steps


@dataclass(frozen=True, slots=True)
class Step:
    """The figures of one load step."""

    load: float
    attempted: int
    successful: int
    failed: int
    failure_ratio: float
    cpu_percent: float
    p50_ms: float | None
    p95_ms: float | None
    achieved_rate: float  # timed responses (setups, registrations) per second
    seconds: float
    rss_mib: float
    passed: bool
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def passes(attempted: int, failed: int, cpu_percent: float, *,
           offered_rate: float | None = None, achieved_rate: float | None = None) -> bool:
    """The pass criterion: < 0.1 % failed, CPU < 80 % of one core and, for a
    rate step, at least 95 % of the offered rate achieved (a saturated system
    that completes every call, only late, has not kept up)."""
    if attempted <= 0:
        return False
    if (offered_rate is not None and achieved_rate is not None
            and achieved_rate < MIN_ACHIEVED * offered_rate):
        return False
    return failed / attempted < MAX_FAILURE_RATIO and cpu_percent < MAX_CPU_PERCENT


def failure_ratio(attempted: int, failed: int) -> float:
    return round(failed / attempted, 6) if attempted else 1.0


def run_steps(measure: Callable[[float], Step], loads: Iterable[float], *,
              refine: int = 0, stop_on_fail: bool = True) -> list[Step]:
    """Measure each load in turn; after the first failing step, bisect
    ``refine`` times between the last passing and the first failing load."""
    steps: list[Step] = []
    good: float | None = None
    bad: float | None = None
    for load in loads:
        step = measure(load)
        steps.append(step)
        if step.passed:
            good = load
        else:
            bad = load
            if stop_on_fail:
                break
    for _ in range(refine):
        if good is None or bad is None or bad - good <= max(1.0, good * 0.05):
            break
        middle = float(round((good + bad) / 2))
        step = measure(middle)
        steps.append(step)
        good, bad = (middle, bad) if step.passed else (good, middle)
    return sorted(steps, key=lambda s: s.load)


def doubling(start: float, limit: float) -> list[float]:
    """``start``, twice that, … up to ``limit``."""
    loads: list[float] = []
    load = start
    while load <= limit:
        loads.append(load)
        load *= 2
    return loads


def ceiling(steps: Iterable[Step]) -> float | None:
    """The highest passing load, or None when no step passed."""
    passed = [s.load for s in steps if s.passed]
    return max(passed) if passed else None


def system_result(steps: list[Step], note: str = "") -> dict[str, Any]:
    """The JSON of one system's (ours or a peer's) steps."""
    top = max(steps, key=lambda s: s.load) if steps else None
    result: dict[str, Any] = {
        "ceiling": ceiling(steps),
        # the highest step passed too: the ceiling is a lower bound, not found
        "capped": bool(top and top.passed),
        "steps": [s.as_json() for s in steps]}
    if note:
        result["note"] = note
    return result
