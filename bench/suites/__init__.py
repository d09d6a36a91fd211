"""The benchmark suites by name.

Each suite module has ``run(ctx) -> dict``: its figures per system (the
softswitch and the peers measured side by side), each system's steps and
ceiling, and ours ÷ peer for the ceiling.

The media suites of issue 5 — (3) concurrent calls with RTP relayed and (4)
the same recorded — need the media engine; they will be modules here named
``rtp-relayed`` and ``rtp-recorded`` (listed in ``PLANNED``) driving SIPp's
``rtp_stream``/pcap play with the same stepping and pass criterion, plus
"no lost packets".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.harness import Context
from bench.suites import held_calls, register_storm, setup_rate, to_routing

Suite = Callable[[Context], dict[str, Any]]

SUITES: dict[str, Suite] = {
    "setup-rate": setup_rate.run,
    "held-calls": held_calls.run,
    "register-storm": register_storm.run,
    "to-routing": to_routing.run,
}

PLANNED = {
    "rtp-relayed": "concurrent calls with RTP relayed: needs the media engine",
    "rtp-recorded": "concurrent calls with RTP relayed and recorded: needs the media engine",
}
