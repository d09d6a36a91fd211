"""Suite ``setup-rate``: calls set up per second through the B2BUA.

The operator's SIPp UAC calls the trunk's DID from the trunk's allowed
address (``trunk_call.xml``, no media, hung up at once); the switch rings
the extension the DID points to, registered by a SIPp UAS. Steps of a fixed
number of calls at doubling rates, then bisection; the result is the highest
rate with < 0.1 % failed calls and the switch below 80 % of one core. The
setup time is the UAC's INVITE-to-200 time per call (p50, p95).

The switch is measured twice: with its media anchored (the default: every
call opens RTP ports on a media worker), which is the headline figure and
``ratios``; and as ``softswitch-passthrough`` with ``[media] anchor = false``
(SDP passed through, signalling only), the like-for-like comparison with
Kamailio, which never touches media, with its ratios under
``variant_ratios``.
"""

from __future__ import annotations

from typing import Any

from bench import config
from bench.harness import Context, SoftswitchSystem, System
from bench.suites.common import step_system, with_peers

SCENARIO = "trunk_call.xml"


PASSTHROUGH = "softswitch-passthrough"


def run(ctx: Context) -> dict[str, Any]:
    ours = step_system(SoftswitchSystem(ctx, extensions=1, callees=1), ctx, SCENARIO,
                       service=config.DID)
    passthrough = step_system(
        SoftswitchSystem(ctx, extensions=1, callees=1, anchor=False, name=PASSTHROUGH),
        ctx, SCENARIO, service=config.DID)

    def peer(system: System) -> dict[str, Any]:
        return step_system(system, ctx, SCENARIO, service=config.DID)

    return {"x": "offered rate (calls/s)", "unit": "calls/s",
            **with_peers(ctx, ours, peer, {PASSTHROUGH: passthrough})}
