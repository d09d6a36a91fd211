"""Routing rules for the first users: desk phones and operator trunks.

- A call from a trunk goes to the extension its DID (the dialled number)
  points to; with To-header extension routing on (F-ROUTE-1), an extension
  number in the To header picks the employee directly.
- A call from an extension goes to another extension when the dialled
  number is one, otherwise out through the caller's outbound trunk (F-OUT-1).
"""

from __future__ import annotations

from softswitch.config import Config
from softswitch.config.directory import Extension
from softswitch.config.trunks import Trunk
from softswitch.numbers import InvalidNumberError, digits
from softswitch.routing.decisions import Decision, DialOut, Refuse, RingExtension


def _digits(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return digits(text)
    except InvalidNumberError:
        return None


def route_from_trunk(config: Config, trunk: Trunk, dialled: str | None,
                     to_user: str | None) -> Decision:
    """Where a call from ``trunk`` to ``dialled`` (Request-URI user) goes."""
    if trunk.to_header_routing and to_user:
        extension = config.extension(to_user)
        if extension is not None and extension.enabled:
            return RingExtension(extension.number)
    for number in (_digits(dialled), _digits(to_user)):
        if number is None:
            continue
        for line in trunk.numbers:
            if line.did == number:
                return RingExtension(line.extension)
    return Refuse(404, "number not served on this trunk")


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
