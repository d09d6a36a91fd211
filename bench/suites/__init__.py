"""The benchmark suites by name.

Each suite module has ``run(ctx) -> dict``: its figures per system (the
softswitch and the peers measured side by side), each system's steps and
ceiling, and ours ÷ peer for the ceiling.

The media suites (``rtp-relayed``, ``rtp-recorded``) step concurrent calls
placed through ``softswitch run`` with one media worker, with the same step
records and pass criterion, a lost packet counting as a failed attempt.
``PLANNED`` names suites not yet available (none now).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.harness import Context
from bench.suites import held_calls, register_storm, rtp, setup_rate, to_routing

Suite = Callable[[Context], dict[str, Any]]

SUITES: dict[str, Suite] = {
    "setup-rate": setup_rate.run,
    "held-calls": held_calls.run,
    "register-storm": register_storm.run,
    "to-routing": to_routing.run,
    "rtp-relayed": rtp.run_relayed,
    "rtp-recorded": rtp.run_recorded,
}

PLANNED: dict[str, str] = {}
