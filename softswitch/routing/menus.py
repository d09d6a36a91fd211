"""Voice menus (F-ROUTE-3): what a caller's key press, or silence, leads to.

A menu visit remembers the menus above it, so ``back`` returns to the menu
that led here. No key within the timeout and a key the menu does not know
both count as a failed attempt: the menu is played again (after its
``invalid_prompt`` for a wrong key) until ``retries`` is used up, then the
call goes to ``on_failure``. With ``extension_dialing`` the caller may dial an
extension number instead of a key.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from softswitch.routing.decisions import DigitCollection, MenuVisit
from softswitch.routing.destinations import Back, Destination, Repeat, ToMenu

if TYPE_CHECKING:
    from softswitch.config.routing import Menu, MenuKey

__all__ = ["MAX_DEPTH", "DialledExtension", "MenuChoice", "Replay", "collection", "ivr_step"]

#: Menus remembered for ``back``; a deeper chain forgets its oldest menus.
MAX_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Replay:
    """Play a menu (this one again, one below, or one above), ``before`` first."""

    visit: MenuVisit
    before: str | None = None


@dataclass(frozen=True, slots=True)
class DialledExtension:
    """The caller dialled an extension number in the menu."""

    number: str


MenuChoice = Replay | DialledExtension | Destination


def collection(menu: Menu, extensions: Collection[str]) -> DigitCollection:
    """How to collect a choice in ``menu``; ``extensions`` are the dialable ones."""
    dialable = frozenset(extensions) if menu.extension_dialing else frozenset()
    return DigitCollection(keys=frozenset(menu.keys), extensions=dialable)


def _failed(menu: Menu, visit: MenuVisit, before: str | None) -> MenuChoice:
    attempt = visit.attempt + 1
    if attempt > menu.retries:
        return menu.on_failure
    return Replay(MenuVisit(visit.menu, attempt, visit.parents), before)


def _enter(visit: MenuVisit, name: str) -> Replay:
    if name == visit.menu:
        return Replay(MenuVisit(name, 0, visit.parents))
    parents = (*visit.parents, visit.menu)[-MAX_DEPTH:]
    return Replay(MenuVisit(name, 0, parents))


def _back(visit: MenuVisit) -> Replay:
    if not visit.parents:
        return Replay(MenuVisit(visit.menu, 0, ()))
    return Replay(MenuVisit(visit.parents[-1], 0, visit.parents[:-1]))


def ivr_step(menu: Menu, visit: MenuVisit, entry: str | None,
             extensions: Collection[str] = ()) -> MenuChoice:
    """What ``entry`` (the keys dialled, None or empty on timeout) does in ``menu``.

    ``extensions`` are the numbers a caller may dial directly (enabled
    extensions); they count only when the menu allows extension dialing.
    """
    entry = (entry or "").removesuffix("#") or ("#" if entry == "#" else "")
    if not entry:
        return _failed(menu, visit, None)
    action = menu.keys.get(cast("MenuKey", entry))
    if action is None:
        if menu.extension_dialing and entry in extensions:
            return DialledExtension(entry)
        return _failed(menu, visit, menu.invalid_prompt)
    if isinstance(action, Repeat):
        return Replay(visit)
    if isinstance(action, Back):
        return _back(visit)
    if isinstance(action, ToMenu):
        return _enter(visit, action.name)
    return action
