"""One PNG per suite: the load on x; success ratio, CPU % and p95 setup time on y
(a suite's figures may rename the three panels: keys ``success``, ``cpu``, ``p95``).

Each system of the suite (the softswitch and its peers) is one line in each
of the three panels, so peers read side by side with ours.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _success(step: dict[str, Any]) -> float | None:
    return 1.0 - float(step["failure_ratio"])


def _cpu(step: dict[str, Any]) -> float | None:
    return float(step["cpu_percent"])


def _p95(step: dict[str, Any]) -> float | None:
    value = step["p95_ms"]
    return None if value is None else float(value)


# (key in a suite's figures that renames the panel, default label, value)
PANELS: tuple[tuple[str, str, Callable[[dict[str, Any]], float | None]], ...] = (
    ("success", "success ratio", _success), ("cpu", "CPU % of one core", _cpu),
    ("p95", "p95 setup time (ms)", _p95))


def plot_suite(name: str, figures: dict[str, Any], path: Path) -> Path:
    """Draw ``figures`` (a suite's JSON) into ``path`` and return it."""
    fig, axes = plt.subplots(3, 1, figsize=(7, 9), sharex=True)
    for system, result in figures.get("systems", {}).items():
        steps = result.get("steps", [])
        if not steps:
            continue
        xs = [s["load"] for s in steps]
        for axis, (_key, _label, value) in zip(axes, PANELS, strict=True):
            points = [(x, value(s)) for x, s in zip(xs, steps, strict=True)
                      if value(s) is not None]
            if points:
                axis.plot(*zip(*points, strict=True), marker="o", label=system)
    for axis, (key, label, _value) in zip(axes, PANELS, strict=True):
        axis.set_ylabel(figures.get(key, label))
        axis.grid(True, alpha=0.3)
    axes[1].axhline(80, color="red", linestyle="--", linewidth=0.8)
    axes[0].legend(loc="lower left")
    axes[-1].set_xlabel(figures.get("x", "load"))
    axes[-1].set_xscale("log")
    fig.suptitle(f"{name}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
