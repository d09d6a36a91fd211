"""Rules that span several keys, run once every section has the right shape.

Each rule is a function from the whole configuration to the problems it finds,
each problem naming the key to fix. ``RULES`` lists them; a section added later
appends its own rules there. All rules run, so every problem is reported at
once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from softswitch.config.errors import Issue
from softswitch.routing.destinations import (
    Back,
    Continue,
    Destination,
    Repeat,
    ToExtension,
    ToMenu,
    ToMobile,
    ToQueue,
    ToVoicemail,
)

if TYPE_CHECKING:
    from softswitch.config.root import Config

__all__ = ["RULES", "Rule", "run_rules"]

Rule = Callable[["Config"], Iterable[Issue]]
"""A cross-key rule: the whole configuration in, its problems out."""


def _first_seen(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """For each (path, key) whose key appeared before, yield (path, key, first path)."""
    seen: dict[str, str] = {}
    for path, key in keys:
        if key in seen:
            yield path, key, seen[key]
        else:
            seen[key] = path


def unique_listeners(config: Config) -> Iterator[Issue]:
    """Two listeners may not bind the same transport, address and port."""
    keyed = ((f"sip.listeners[{i}]", str(lis)) for i, lis in enumerate(config.sip.listeners))
    for path, key, first in _first_seen(keyed):
        yield Issue(path, f"{key} is already listened on by {first}")


def _is_loopback(host: str) -> bool:
    return ipaddress.ip_address(host).is_loopback


def demo_on_loopback(config: Config) -> Iterator[Issue]:
    """A demo configuration's passwords are published, so it may only listen on loopback."""
    if not config.demo:
        return
    for i, listener in enumerate(config.sip.listeners):
        if not _is_loopback(listener.host):
            yield Issue(
                f"sip.listeners[{i}].host",
                f"a demo configuration may only listen on loopback (127.0.0.0/8 or ::1), "
                f"not {listener.host}: its passwords are public; set demo = false and "
                "give every extension a password of its own before listening on a network",
            )


def registrar_order(config: Config) -> Iterator[Issue]:
    """min_expires <= default_expires <= max_expires."""
    reg = config.registrar
    if reg.min_expires > reg.max_expires:
        yield Issue(
            "registrar.min_expires",
            f"{reg.min_expires} is greater than max_expires ({reg.max_expires})",
        )
    elif not reg.min_expires <= reg.default_expires <= reg.max_expires:
        yield Issue(
            "registrar.default_expires",
            f"{reg.default_expires} is outside min_expires..max_expires "
            f"({reg.min_expires}..{reg.max_expires})",
        )


def unique_extensions(config: Config) -> Iterator[Issue]:
    """Extension numbers are unique."""
    keyed = ((f"extensions[{i}].number", e.number) for i, e in enumerate(config.extensions))
    for path, number, first in _first_seen(keyed):
        yield Issue(path, f"extension {number} is already defined at {first}")


def unique_trunks(config: Config) -> Iterator[Issue]:
    """Trunk names are unique."""
    keyed = ((f"trunks[{i}].name", t.name) for i, t in enumerate(config.trunks))
    for path, name, first in _first_seen(keyed):
        yield Issue(path, f"trunk '{name}' is already defined at {first}")


def registering_trunks_have_credentials(config: Config) -> Iterator[Issue]:
    """A trunk that registers needs the user name and password the operator gave."""
    for i, trunk in enumerate(config.trunks):
        if not trunk.registers:
            continue
        for key in ("username", "password"):
            if getattr(trunk, key) is None:
                yield Issue(f"trunks[{i}].{key}", "required when register = true")


def _outbound_problem(config: Config, name: str) -> str | None:
    """Why trunk ``name`` cannot carry outbound calls, or None when it can."""
    trunk = config.trunk(name)
    if trunk is None:
        known = ", ".join(f"'{t.name}'" for t in config.trunks) or "none defined"
        return f"no trunk named '{name}' (trunks: {known})"
    if not trunk.outbound:
        return f"trunk '{name}' is inbound-only (outbound = false) and cannot carry outbound calls"
    return None


def outbound_trunks_exist(config: Config) -> Iterator[Issue]:
    """Every outbound line named (global default and per extension) exists and allows outbound."""
    named = [("default_outbound_trunk", config.default_outbound_trunk)]
    named += [(f"extensions[{i}].outbound_trunk", e.outbound_trunk)
              for i, e in enumerate(config.extensions)]
    for path, name in named:
        problem = None if name is None else _outbound_problem(config, name)
        if problem is not None:
            yield Issue(path, problem)


def _did_paths(config: Config) -> Iterator[tuple[str, str, str]]:
    """(path of the number table, DID digits, extension) for every DID of every trunk."""
    for i, trunk in enumerate(config.trunks):
        for j, number in enumerate(trunk.numbers):
            yield f"trunks[{i}].numbers[{j}]", number.did, number.extension


def unique_dids(config: Config) -> Iterator[Issue]:
    """A DID is delivered to one extension only."""
    keyed = ((f"{path}.did", did) for path, did, _ in _did_paths(config))
    for path, did, first in _first_seen(keyed):
        yield Issue(path, f"DID {did} is already routed at {first}")


def dids_reach_enabled_extensions(config: Config) -> Iterator[Issue]:
    """Each DID rings an extension that exists and is enabled."""
    for path, did, number in _did_paths(config):
        extension = config.extension(number)
        if extension is None:
            yield Issue(f"{path}.extension", f"DID {did} routes to extension {number}, "
                        "which is not defined in [[extensions]]")
        elif not extension.enabled:
            yield Issue(f"{path}.extension", f"DID {did} routes to extension {number}, "
                        "which is disabled")


def extensions_are_not_dids(config: Config) -> Iterator[Issue]:
    """An extension number equal to a DID would make a dialled number ambiguous."""
    dids = {did: path for path, did, _ in _did_paths(config)}
    for i, extension in enumerate(config.extensions):
        if extension.number in dids:
            yield Issue(f"extensions[{i}].number",
                        f"{extension.number} is also a DID at {dids[extension.number]}.did")


# --- routing (F-ROUTE-2..9) -----------------------------------------------------------------


def unique_routing_names(config: Config) -> Iterator[Issue]:
    """Plans, menus, queue groups and voicemail boxes have unique names."""
    routing = config.routing
    names = {"plans": [plan.name for plan in routing.plans],
             "menus": [menu.name for menu in routing.menus],
             "queues": [queue.name for queue in routing.queues],
             "voicemail": [box.name for box in routing.voicemail]}
    for key, items in names.items():
        keyed = ((f"routing.{key}[{i}].name", name) for i, name in enumerate(items))
        for path, name, first in _first_seen(keyed):
            yield Issue(path, f"'{name}' is already defined at {first}")


def routing_lines_resolve(config: Config) -> Iterator[Issue]:
    """Each line names a DID and/or a trunk that exists, once, and a plan that exists."""
    routing = config.routing
    keyed = []
    for i, line in enumerate(routing.lines):
        path = f"routing.lines[{i}]"
        if line.did is None and line.trunk is None:
            yield Issue(path, "give the did, the trunk, or both, that this plan serves")
        if line.trunk is not None and config.trunk(line.trunk) is None:
            yield Issue(f"{path}.trunk", f"no trunk named '{line.trunk}'")
        if routing.plan(line.plan) is None:
            yield Issue(f"{path}.plan", f"no plan named '{line.plan}' in [[routing.plans]]")
        keyed.append((path, f"did {line.did} on trunk {line.trunk}"))
    for path, key, first in _first_seen(keyed):
        yield Issue(path, f"{key} already has a plan at {first}")


def _destination_problem(config: Config, dest: Destination) -> str | None:
    """Why ``dest`` cannot be carried out with this configuration, or None."""
    routing = config.routing
    if isinstance(dest, ToExtension | ToMobile):
        number = dest.number if isinstance(dest, ToExtension) else dest.extension
        extension = config.extension(number)
        if extension is None or not extension.enabled:
            return f"extension {number} is not defined or is disabled"
        if isinstance(dest, ToMobile) and extension.mobile is None:
            return f"extension {number} has no mobile number"
    named = {ToQueue: ("queue group", routing.queue), ToMenu: ("menu", routing.menu)}
    if isinstance(dest, ToQueue | ToMenu):
        what, lookup = named[type(dest)]
        if lookup(dest.name) is None:
            return f"no {what} named '{dest.name}'"
    if (isinstance(dest, ToVoicemail) and routing.box(dest.box) is None
            and config.extension(dest.box) is None):
        return f"no voicemail box '{dest.box}' (an extension or a [[routing.voicemail]] box)"
    return None


def _destinations(config: Config) -> Iterator[tuple[str, Destination]]:
    routing = config.routing
    for i, plan in enumerate(routing.plans):
        yield f"routing.plans[{i}].destination", plan.destination
        if plan.out_of_hours is not None:
            yield f"routing.plans[{i}].out_of_hours", plan.out_of_hours
    for i, menu in enumerate(routing.menus):
        for key, action in menu.keys.items():
            if not isinstance(action, Repeat | Back):
                yield f"routing.menus[{i}].keys.{key}", action
        yield f"routing.menus[{i}].on_failure", menu.on_failure
    for i, queue in enumerate(routing.queues):
        yield f"routing.queues[{i}].no_answer", queue.no_answer


def routing_destinations_exist(config: Config) -> Iterator[Issue]:
    """Every destination names an extension, queue, menu or box that exists."""
    for path, dest in _destinations(config):
        problem = _destination_problem(config, dest)
        if problem is not None:
            yield Issue(path, f"{dest}: {problem}")


def routing_plans_complete(config: Config) -> Iterator[Issue]:
    """A plan's options that only make sense together are set together."""
    for i, plan in enumerate(config.routing.plans):
        path = f"routing.plans[{i}]"
        if isinstance(plan.destination, Continue):
            yield Issue(f"{path}.destination", "'continue' means this destination; "
                        "name where calls go")
        if isinstance(plan.out_of_hours, Continue):
            yield Issue(f"{path}.out_of_hours", "'continue' would ignore the working hours")
        if plan.extension_dialing and plan.greeting is None:
            yield Issue(f"{path}.extension_dialing", "needs a greeting to dial during")
        if plan.hours is None and (plan.out_of_hours or plan.out_of_hours_blacklist):
            yield Issue(f"{path}.hours", "required when out_of_hours is set")
        if (plan.hours is not None and plan.out_of_hours is None
                and not plan.out_of_hours_blacklist):
            yield Issue(f"{path}.out_of_hours",
                        "required when hours are set (or out_of_hours_blacklist = true)")
        if plan.forward_trunk is not None:
            problem = _outbound_problem(config, plan.forward_trunk)
            if problem is not None:
                yield Issue(f"{path}.forward_trunk", problem)


def routing_members_exist(config: Config) -> Iterator[Issue]:
    """Queue members and employees with a starting state are extensions; the
    pickup code and the status codes are not, and no status code is the
    pickup code."""
    routing = config.routing
    for i, queue in enumerate(routing.queues):
        for j, member in enumerate(queue.members):
            if config.extension(member) is None:
                yield Issue(f"routing.queues[{i}].members[{j}]", f"no extension {member}")
        for member in queue.ring_times:
            if member not in queue.members:
                yield Issue(f"routing.queues[{i}].ring_times.{member}",
                            f"{member} is not a member of this queue group")
    for number in routing.member_status:
        if config.extension(number) is None:
            yield Issue(f"routing.member_status.{number}", f"no extension {number}")
    if config.extension(routing.pickup_code) is not None:
        yield Issue("routing.pickup_code",
                    f"{routing.pickup_code} is an extension number; choose e.g. '*8'")
    yield from _status_code_clashes(config)


def _status_code_clashes(config: Config) -> Iterator[Issue]:
    """A status feature code (F-ROUTE-5) is neither the pickup code nor an
    extension number: the phone dialling it must reach exactly one thing."""
    routing = config.routing
    for code in routing.status_codes:
        path = f"routing.status_codes.{code}"
        if code == routing.pickup_code:
            yield Issue(path, f"{code} is also the pickup code (routing.pickup_code)")
        if config.extension(code) is not None:
            yield Issue(path, f"{code} is an extension number; choose e.g. '*72'")


RULES: tuple[Rule, ...] = (
    unique_listeners,
    demo_on_loopback,
    registrar_order,
    unique_extensions,
    unique_trunks,
    registering_trunks_have_credentials,
    outbound_trunks_exist,
    unique_dids,
    dids_reach_enabled_extensions,
    extensions_are_not_dids,
    unique_routing_names,
    routing_lines_resolve,
    routing_destinations_exist,
    routing_plans_complete,
    routing_members_exist,
)


def run_rules(config: Config) -> list[Issue]:
    """Every problem every rule finds, in rule order."""
    return [issue for rule in RULES for issue in rule(config)]
