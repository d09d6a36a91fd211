"""The ``[routing]`` section: plans for incoming calls per number or trunk (F-ROUTE-2..9, 11).

``[[routing.lines]]`` binds a DID and/or a trunk to a named plan
(``[[routing.plans]]``): working hours and what happens outside them, an
optional greeting during which the caller may dial an extension, and the
destination the call goes to. Destinations are compact strings
(``"queue:sales"``, see :mod:`softswitch.routing.destinations`) naming voice
menus (``[[routing.menus]]``), queue groups (``[[routing.queues]]``), shared
voicemail boxes (``[[routing.voicemail]]``), extensions and numbers. The
blacklist, the pickup code, the status feature codes, the default backup
number and the employees' starting working state are global. Cross-key rules
live in ``checks``.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import AfterValidator, Field, PlainSerializer, PlainValidator

from softswitch.config.types import ExtensionNumber, Flag, PhoneNumber, Seconds, Section, TrunkName
from softswitch.routing.destinations import (
    Destination,
    HangUp,
    MenuAction,
    parse_destination,
    parse_menu_action,
)
from softswitch.routing.state import MemberStatus

__all__ = ["Hours", "Line", "Menu", "Plan", "Queue", "RoutingSettings", "Span", "VoicemailBox",
           "calendar"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_CODE = re.compile(r"[0-9*#]{1,8}")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("a name is 1 to 64 lower-case letters, digits, '_' or '-' "
                         f"starting with a letter or digit, not {value!r}")
    return value


def _code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise ValueError(f"a code is 1 to 8 keypad keys (0-9, * and #), not {value!r}")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                         "'Europe/Rome')") from None
    return value


def calendar(code: str) -> holidays.HolidayBase:
    """The national holidays of ``code``: a country (``"IT"``) or ``"US-CA"`` for a subdivision."""
    country, _, subdivision = code.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None)


def _holiday_code(value: str) -> str:
    try:
        calendar(value)
    except NotImplementedError:
        raise ValueError(f"no holiday calendar for {value!r} (an ISO country code such as "
                         "'IT', optionally with a subdivision: 'US-CA')") from None
    return value


Code = Annotated[str, AfterValidator(_code)]
"""A feature code dialled from a phone: 1 to 8 keypad keys, e.g. ``*8``."""

Name = Annotated[str, AfterValidator(_name)]
"""A name other settings refer to (plan, menu, queue, box, prompt)."""

PromptName = Annotated[str, AfterValidator(_name)]
"""A prompt of the prompt store: built-in or uploaded (F-MEDIA-2)."""

DestinationField = Annotated[Destination, PlainValidator(parse_destination),
                             PlainSerializer(str, return_type=str)]
MenuActionField = Annotated[MenuAction, PlainValidator(parse_menu_action),
                            PlainSerializer(str, return_type=str)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MenuKey = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]


class Span(Section):
    """Open from ``start`` to ``end``, minutes after local midnight (end may be 24:00)."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.start // 60:02}:{self.start % 60:02}-{self.end // 60:02}:{self.end % 60:02}"


def _span(value: Any) -> Span:
    if isinstance(value, Span):
        return value
    match = _SPAN.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected opening hours as 'HH:MM-HH:MM', not {value!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"not a time of day in {value!r}")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= end:
        raise ValueError(f"{value!r} ends before it starts; split a range past midnight "
                         "into two days")
    return Span(start=start, end=end)


SpanField = Annotated[Span, PlainValidator(_span), PlainSerializer(str, return_type=str)]


class Hours(Section):
    """Working hours of a line (F-ROUTE-7)."""

    timezone: Annotated[str, AfterValidator(_timezone)] = Field(
        description="IANA time zone the hours are written in, e.g. 'Europe/Rome'.")
    open: tuple[SpanField, ...] = Field(
        min_length=1, description="Opening hours of a working day, e.g. ['09:00-13:00', "
                                  "'14:00-18:00'].")
    days: dict[Weekday, tuple[SpanField, ...]] = Field(
        default_factory=dict,
        description="Hours of particular weekdays instead of 'open'; a day off listed here opens.")
    days_off: tuple[Weekday, ...] = Field(
        default=("sat", "sun"), description="Weekdays the line is closed.")
    holidays: Annotated[str, AfterValidator(_holiday_code)] | None = Field(
        default=None, description="National holidays to close on: a country code ('IT') "
                                  "or country-subdivision ('US-CA').")
    dates: tuple[date, ...] = Field(default=(), description="Further days closed.")


class VoicemailBox(Section):
    """A shared voicemail box (extensions have their own, named by their number)."""

    name: Name
    greeting: PromptName = "voicemail_greeting"
    max_seconds: Seconds | None = Field(
        default=None, description="Longest message; routing.voicemail_max_seconds when unset.")


class Menu(Section):
    """A voice menu (F-ROUTE-3)."""

    name: Name
    prompt: PromptName = Field(description="The menu's prompt.")
    keys: dict[MenuKey, MenuActionField] = Field(
        min_length=1, description="What each key does: a destination, 'repeat' or 'back'.")
    timeout: Seconds = Field(default=5.0, description="Seconds to wait for a key after the prompt.")
    retries: int = Field(default=2, ge=0, le=10, strict=True,
                         description="Times the menu is played again after no or a wrong key.")
    invalid_prompt: PromptName | None = Field(
        default=None, description="Played before the menu again after a wrong key.")
    extension_dialing: Flag = Field(
        default=False, description="The caller may dial an extension number in the menu.")
    on_failure: DestinationField = Field(
        default=HangUp(), description="Where the call goes when the retries are used up.")


class Queue(Section):
    """A queue group (F-ROUTE-5)."""

    name: Name
    members: tuple[ExtensionNumber, ...] = Field(
        default=(), description="Extensions, in turn order.")
    strategy: Literal["all", "in_turn", "evenly"] = Field(
        default="all", description="Ring all members at once, one in turn, or the one "
                                   "rung least recently.")
    ring_time: Seconds = Field(default=20.0, description="Seconds each member rings.")
    ring_times: dict[ExtensionNumber, Seconds] = Field(
        default_factory=dict, description="Ring time of particular members.")
    max_wait: Seconds | None = Field(
        default=None, description="Keep ringing members this long; unset: each once.")
    hold_music: PromptName | None = Field(
        default=None, description="Played to the caller while members ring; unset: ringback.")
    skip_absent: Flag = Field(
        default=True, description="Never ring members on a break or not yet working.")
    no_answer: DestinationField = Field(
        default=HangUp(), description="If nobody answers (or nobody is there): usually "
                                      "mobile:EXT, forward:NUMBER or voicemail:BOX.")

    def ring_time_of(self, member: str) -> float:
        return self.ring_times.get(member, self.ring_time)


class Plan(Section):
    """How calls to a line are routed."""

    name: Name
    destination: DestinationField = Field(description="Where calls go in working hours.")
    greeting: PromptName | None = Field(default=None, description="Welcome prompt (F-ROUTE-2).")
    extension_dialing: Flag = Field(
        default=False, description="Digits dialled during the greeting select an extension.")
    dialled_no_answer: Literal["continue", "mobile", "voicemail"] = Field(
        default="continue", description="When a dialled extension does not answer.")
    invalid_extension_prompt: PromptName = "invalid_extension"
    extension_no_answer: Literal["hangup", "mobile", "voicemail"] = Field(
        default="hangup", description="When an extension rung as a destination does not answer.")
    owner_routing: Flag = Field(
        default=False, description="A known caller ([[clients]]) first rings the employee "
                                   "responsible for it (F-ROUTE-4).")
    owner_no_answer: Literal["continue", "mobile", "voicemail"] = Field(
        default="continue", description="When the responsible employee does not answer: the "
                                        "plan's destination, the employee's mobile or voicemail.")
    hours: Hours | None = None
    out_of_hours: DestinationField | None = Field(
        default=None, description="Where calls go outside working hours.")
    out_of_hours_blacklist: Flag = Field(
        default=False, description="Add callers outside working hours to the blacklist.")
    backup_number: PhoneNumber | None = Field(
        default=None, description="Where calls go when they cannot be routed; "
                                  "routing.backup_number when unset (F-ROUTE-9).")
    forward_trunk: TrunkName | None = Field(
        default=None, description="Trunk forwards leave through; the line's trunk (if it "
                                  "allows outbound calls) or default_outbound_trunk when unset.")
    pass_caller_id: Flag = Field(
        default=True, description="Forwards show the caller's number; false: the line's number.")


class Line(Section):
    """Which plan serves a DID, a trunk, or a DID on one trunk."""

    did: PhoneNumber | None = None
    trunk: TrunkName | None = None
    plan: Name


class RoutingSettings(Section):
    """Routing of incoming calls."""

    pickup_code: Code = Field(
        default="*8", description="Dialled to take a call ringing a colleague (F-ROUTE-6).")
    status_codes: dict[Code, MemberStatus] = Field(
        default_factory=dict,
        description="Codes an employee dials from the desk phone to set the working state "
                    "queue groups see, e.g. { \"*71\" = \"working\", \"*72\" = \"break\", "
                    "\"*73\" = \"not_started\" } (F-ROUTE-5).")
    blacklist: tuple[PhoneNumber, ...] = Field(default=(), description="Refused callers.")
    blacklist_status: int = Field(default=603, ge=400, le=699, strict=True,
                                  description="SIP status answering a blacklisted caller.")
    backup_number: PhoneNumber | None = Field(
        default=None, description="Where calls go when no route can be carried out.")
    voicemail_max_seconds: Seconds = 120.0
    voicemail_greeting: PromptName = "voicemail_greeting"
    member_status: dict[ExtensionNumber, MemberStatus] = Field(
        default_factory=dict, description="Starting state of employees: working, break "
                                          "or not_started.")
    lines: tuple[Line, ...] = ()
    plans: tuple[Plan, ...] = ()
    menus: tuple[Menu, ...] = ()
    queues: tuple[Queue, ...] = ()
    voicemail: tuple[VoicemailBox, ...] = ()

    @cached_property
    def _plans(self) -> dict[str, Plan]:
        return {plan.name: plan for plan in self.plans}

    @cached_property
    def _menus(self) -> dict[str, Menu]:
        return {menu.name: menu for menu in self.menus}

    @cached_property
    def _queues(self) -> dict[str, Queue]:
        return {queue.name: queue for queue in self.queues}

    @cached_property
    def _boxes(self) -> dict[str, VoicemailBox]:
        return {box.name: box for box in self.voicemail}

    def plan(self, name: str) -> Plan | None:
        return self._plans.get(name)

    def menu(self, name: str) -> Menu | None:
        return self._menus.get(name)

    def queue(self, name: str) -> Queue | None:
        return self._queues.get(name)

    def box(self, name: str) -> VoicemailBox | None:
        return self._boxes.get(name)

    def line_for(self, trunk: str, did: str | None) -> Line | None:
        """The most specific line: this DID on this trunk, this DID, then this trunk."""
        for wanted in ((did, trunk), (did, None), (None, trunk)):
            if wanted[0] is None and wanted[1] is None:
                continue
            for line in self.lines:
                if (line.did, line.trunk) == wanted:
                    return line
        return None

    def groups_of(self, extension: str) -> tuple[str, ...]:
        """The queue groups an extension is a member of."""
        return tuple(queue.name for queue in self.queues if extension in queue.members)
