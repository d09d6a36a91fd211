"""Suite ``to-routing``: trunk calls routed by the To header (F-ROUTE-1).

Like ``setup-rate``, but the operator's INVITEs carry the DID in the
Request-URI and an extension in the To header, taken in turn from an
injection file of ``CALLEES`` extensions, all registered at one SIPp UAS;
the trunk has ``to_header_routing`` on, so each call rings the extension in
its To header. Peers do not route, so this suite compares with none.
"""

from __future__ import annotations

from typing import Any

from bench import config
from bench.harness import Context, SoftswitchSystem
from bench.suites.common import step_system

SCENARIO = "trunk_to_routing.xml"
CALLEES = 20


def run(ctx: Context) -> dict[str, Any]:
    callees = 5 if ctx.quick else CALLEES
    system = SoftswitchSystem(ctx, extensions=callees, callees=callees)
    targets = config.targets_csv(system.folder / "targets.csv", callees)
    ours = step_system(system, ctx, SCENARIO, service=config.DID, inf=targets)
    return {"x": "offered rate (calls/s)", "unit": "calls/s", "callees": callees,
            "systems": {"softswitch": ours}, "ratios": {}}
