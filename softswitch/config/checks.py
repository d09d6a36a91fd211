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
)


def run_rules(config: Config) -> list[Issue]:
    """Every problem every rule finds, in rule order."""
    return [issue for rule in RULES for issue in rule(config)]
