"""Suite ``register-storm``: REGISTERs with digest authentication per second.

A switch with ``users`` extensions; SIPp's ``register_storm.xml`` registers
them in turn from an injection file (``user;password``), each registration
being REGISTER, 401, REGISTER with MD5 credentials, 200 (RFC 3261 §10.2,
RFC 2617). The rate counts completed authenticated registrations (two
requests each); the timed response is the authenticated REGISTER's 200.
"""

from __future__ import annotations

from typing import Any

from bench import config
from bench.harness import Context, SoftswitchSystem, rate_step
from bench.stepping import Step, doubling, run_steps, system_result

SCENARIO = "register_storm.xml"


def run(ctx: Context) -> dict[str, Any]:
    users, per_step = (100, 100) if ctx.quick else (5000, 5000)
    loads = [50.0, 100.0] if ctx.quick else doubling(250.0, 16000.0)
    system = SoftswitchSystem(ctx, extensions=users)
    inf = config.users_csv(system.folder / "users.csv", users)

    def measure(rate: float) -> Step:
        return rate_step(system, ctx, SCENARIO, rate, per_step, inf=inf)

    with system:
        steps = run_steps(measure, loads, refine=0 if ctx.quick else 3)
    return {"x": "offered rate (registrations/s)", "unit": "registrations/s",
            "users": users, "systems": {"softswitch": system_result(steps)},
            "ratios": {}, "note": "no peer: a digest registrar in Kamailio needs a database"}
