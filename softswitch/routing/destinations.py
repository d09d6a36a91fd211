"""Destinations: where a routing plan may send a call (F-ROUTE-2..9, F-ROUTE-11, F-MEDIA-6).

One typed kind used by every part of a plan (the plan's entry, menu keys,
out-of-hours handling, a queue's "if nobody answers", a dialled extension's
"if no answer"). The configuration writes each as one compact string::

    extension:102      ring an employee
    queue:sales        a queue group
    ivr:main           a voice menu
    voicemail:101      an extension's voicemail box (or a shared box by name)
    forward:+3906123   an external number, called out through a trunk
    mobile:102         the mobile number of an employee (a forward)
    announce:closed    play a prompt, then hang up
    hangup             end the call
    continue           carry on with the plan's normal routing

Menus add two actions of their own, ``repeat`` and ``back``.
``str(destination)`` gives the compact form back, so a configuration dumps and
loads again unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from softswitch.numbers import InvalidNumberError, digits

__all__ = [
    "Announce",
    "Back",
    "Continue",
    "Destination",
    "HangUp",
    "MenuAction",
    "Repeat",
    "ToExtension",
    "ToMenu",
    "ToMobile",
    "ToNumber",
    "ToQueue",
    "ToVoicemail",
    "parse_destination",
    "parse_menu_action",
]

_EXTENSION = re.compile(r"[0-9]{1,15}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_NAME_RULE = "1 to 64 lower-case letters, digits, '_' or '-' starting with a letter or digit"


@dataclass(frozen=True, slots=True)
class ToExtension:
    """Ring an employee's phones."""

    number: str

    def __str__(self) -> str:
        return f"extension:{self.number}"


@dataclass(frozen=True, slots=True)
class ToQueue:
    """Hand the call to a queue group (F-ROUTE-5)."""

    name: str

    def __str__(self) -> str:
        return f"queue:{self.name}"


@dataclass(frozen=True, slots=True)
class ToMenu:
    """Play a voice menu (F-ROUTE-3)."""

    name: str

    def __str__(self) -> str:
        return f"ivr:{self.name}"


@dataclass(frozen=True, slots=True)
class ToVoicemail:
    """Take a voicemail (F-MEDIA-6) into an extension's box or a shared box."""

    box: str

    def __str__(self) -> str:
        return f"voicemail:{self.box}"


@dataclass(frozen=True, slots=True)
class ToNumber:
    """Forward to an external number through a trunk (F-ROUTE-11); digits only."""

    number: str

    def __str__(self) -> str:
        return f"forward:{self.number}"


@dataclass(frozen=True, slots=True)
class ToMobile:
    """Forward to the mobile number of an employee (F-ROUTE-2, F-ROUTE-5)."""

    extension: str

    def __str__(self) -> str:
        return f"mobile:{self.extension}"


@dataclass(frozen=True, slots=True)
class Announce:
    """Play a prompt, then hang up."""

    prompt: str

    def __str__(self) -> str:
        return f"announce:{self.prompt}"


@dataclass(frozen=True, slots=True)
class HangUp:
    """End the call."""

    def __str__(self) -> str:
        return "hangup"


@dataclass(frozen=True, slots=True)
class Continue:
    """Carry on with the plan's normal routing (its ``destination``)."""

    def __str__(self) -> str:
        return "continue"


@dataclass(frozen=True, slots=True)
class Repeat:
    """Menu only: play the menu again."""

    def __str__(self) -> str:
        return "repeat"


@dataclass(frozen=True, slots=True)
class Back:
    """Menu only: return to the menu that led here (the same menu at the top)."""

    def __str__(self) -> str:
        return "back"


Destination = (ToExtension | ToQueue | ToMenu | ToVoicemail | ToNumber | ToMobile | Announce
               | HangUp | Continue)
MenuAction = Destination | Repeat | Back

_FORMS = ("extension:NUMBER, queue:NAME, ivr:NAME, voicemail:BOX, forward:NUMBER, "
          "mobile:EXTENSION, announce:PROMPT, hangup or continue")


def _extension(value: str) -> str:
    if not _EXTENSION.fullmatch(value):
        raise ValueError(f"an extension number is 1 to 15 digits, not {value!r}")
    return value


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"a name is {_NAME_RULE}, not {value!r}")
    return value


def _box(value: str) -> str:
    return value if _EXTENSION.fullmatch(value) else _name(value)


def _number(value: str) -> str:
    try:
        return digits(value)
    except InvalidNumberError as exc:
        raise ValueError(str(exc)) from None


_WITH_ARGUMENT: dict[str, Callable[[str], Destination]] = {
    "extension": lambda v: ToExtension(_extension(v)),
    "queue": lambda v: ToQueue(_name(v)),
    "ivr": lambda v: ToMenu(_name(v)),
    "voicemail": lambda v: ToVoicemail(_box(v)),
    "forward": lambda v: ToNumber(_number(v)),
    "mobile": lambda v: ToMobile(_extension(v)),
    "announce": lambda v: Announce(_name(v)),
}
_BARE: dict[str, Destination] = {"hangup": HangUp(), "continue": Continue()}


def parse_destination(value: object) -> Destination:
    """Read a destination in its compact form; raises ``ValueError`` saying what is allowed."""
    if isinstance(value, ToExtension | ToQueue | ToMenu | ToVoicemail | ToNumber | ToMobile
                  | Announce | HangUp | Continue):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a destination as a string ({_FORMS})")
    kind, colon, argument = value.partition(":")
    if not colon:
        if value in _BARE:
            return _BARE[value]
        if value in _WITH_ARGUMENT:
            raise ValueError(f"{value!r} needs an argument: '{value}:...'")
    elif kind in _WITH_ARGUMENT:
        return _WITH_ARGUMENT[kind](argument.strip())
    raise ValueError(f"not a destination: {value!r} (expected {_FORMS})")


def parse_menu_action(value: object) -> MenuAction:
    """A menu key's action: a destination, ``repeat`` or ``back``."""
    if isinstance(value, Repeat | Back):
        return value
    if value == "repeat":
        return Repeat()
    if value == "back":
        return Back()
    try:
        return parse_destination(value)
    except ValueError as exc:
        raise ValueError(f"{exc}; a menu key may also be 'repeat' or 'back'") from None
