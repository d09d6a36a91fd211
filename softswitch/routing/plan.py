"""Which rules govern a call: the line's routing plan, or the extension dialling rules.

- A call from a trunk is governed by :func:`inbound_router`: with To-header
  extension routing on (F-ROUTE-1), an extension number in the To header
  picks the employee directly; otherwise the most specific
  ``[[routing.lines]]`` entry (this DID on this trunk, this DID, this trunk)
  names the plan, and a DID listed in ``[[trunks.numbers]]`` without a line
  rings its extension. Every inbound call is checked against the blacklist.
- A call from an extension goes to another extension when the dialled
  number is one, otherwise out through the caller's outbound trunk (F-OUT-1);
  the pickup code (F-ROUTE-6) is recognised by :func:`is_pickup_code`.

Configuration types are imported for type checking only: the configuration
itself imports :mod:`softswitch.routing.destinations`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from softswitch.numbers import InvalidNumberError, digits
from softswitch.routing.decisions import Decision, DialOut, Refuse, RingExtension
from softswitch.routing.destinations import ToExtension
from softswitch.routing.router import InboundLine, LineRouter

if TYPE_CHECKING:
    from softswitch.config import Config
    from softswitch.config.directory import Extension
    from softswitch.config.routing import Plan
    from softswitch.config.trunks import Trunk
    from softswitch.routing.clients import ClientDirectory

__all__ = ["inbound_router", "is_pickup_code", "route_from_extension", "route_from_trunk"]


def _digits(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return digits(text)
    except InvalidNumberError:
        return None


@lru_cache(maxsize=1024)
def _extension_plan(number: str) -> Plan:
    """The plan of a line without one of its own: ring the extension."""
    from softswitch.config.routing import Plan

    return Plan(name=f"extension-{number}", destination=ToExtension(number))


def _dialled_line(trunk: Trunk, dialled: str | None,
                  to_user: str | None) -> tuple[str | None, str | None]:
    """(the DID the call is for, the extension ``[[trunks.numbers]]`` gives it)."""
    candidates = [n for n in (_digits(dialled), _digits(to_user)) if n is not None]
    for number in candidates:
        for line in trunk.numbers:
            if line.did == number:
                return number, line.extension
    return (candidates[0] if candidates else None), None


def inbound_router(config: Config, trunk: Trunk, dialled: str | None, to_user: str | None,
                   caller: str, clients: ClientDirectory | None = None) -> LineRouter | None:
    """The router for a call from ``trunk`` to ``dialled`` (Request-URI user) or
    ``to_user`` (To user) from ``caller`` (From user); None when the trunk
    serves no such number (answer 404). ``clients`` names the caller's
    responsible employee (F-ROUTE-4); the configured ``[[clients]]`` by default."""
    if trunk.to_header_routing and to_user:
        extension = config.extension(to_user)
        if extension is not None and extension.enabled:
            line = InboundLine(config, trunk, _digits(dialled), _extension_plan(to_user))
            return LineRouter(line, caller)
    did, extension_number = _dialled_line(trunk, dialled, to_user)
    for number in (did, _digits(to_user)):
        binding = config.routing.line_for(trunk.name, number)
        if binding is not None and (binding.did is not None or extension_number is None):
            plan = config.routing.plan(binding.plan)
            if plan is not None:
                owner = ((clients or config.client_directory).owner_of(caller)
                         if plan.owner_routing else None)
                return LineRouter(InboundLine(config, trunk, did, plan), caller, owner)
    if extension_number is not None:
        line = InboundLine(config, trunk, did, _extension_plan(extension_number))
        return LineRouter(line, caller)
    return None


def route_from_trunk(config: Config, trunk: Trunk, dialled: str | None,
                     to_user: str | None) -> Decision:
    """Where a call from ``trunk`` to ``dialled`` goes without routing plans:
    To-header routing, then the DID's extension. Superseded by
    :func:`inbound_router`, which applies the plans, blacklist and hours."""
    if trunk.to_header_routing and to_user:
        extension = config.extension(to_user)
        if extension is not None and extension.enabled:
            return RingExtension(extension.number)
    _, number = _dialled_line(trunk, dialled, to_user)
    if number is not None:
        return RingExtension(number)
    return Refuse(404, "number not served on this trunk")


def is_pickup_code(config: Config, dialled: str | None) -> bool:
    """Whether an employee's phone dialled the pickup code (F-ROUTE-6)."""
    return dialled is not None and dialled == config.routing.pickup_code


def route_from_extension(config: Config, caller: Extension, dialled: str | None) -> Decision:
    """Where a call dialled by an employee's phone goes."""
    if not dialled:
        return Refuse(404, "no number dialled")
    extension = config.extension(dialled)
    if extension is not None:
        if not extension.enabled:
            return Refuse(480, "extension disabled")
        return RingExtension(extension.number)
    number = _digits(dialled)
    if number is None:
        return Refuse(404, "unknown destination")
    trunk = config.outbound_trunk_for(caller)
    if trunk is None or not trunk.outbound:
        return Refuse(403, "no outbound line for this extension")
    return DialOut(trunk.name, number)
