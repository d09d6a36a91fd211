"""Routing-plan configuration: the destination syntax, schema errors with their paths, the demo.

Feature IDs: F-ROUTE-2..9 and F-ROUTE-11 (the plan settings each feature
reads), F-OPS-2 (errors as ``path: message``), F-OPS-1 (the demo's office line).
"""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import pytest

from softswitch.config import Config, ConfigError, load_demo_config
from softswitch.routing import Greet, MemoryRoutingState, RecordVoicemail, RingQueue, RunMenu
from softswitch.routing import inbound_router as make_router
from softswitch.routing.destinations import (
    Announce,
    Back,
    Continue,
    HangUp,
    Repeat,
    ToExtension,
    ToMenu,
    ToMobile,
    ToNumber,
    ToQueue,
    ToVoicemail,
    parse_destination,
    parse_menu_action,
)

Data = dict[str, Any]


def demo_data() -> Data:
    text = resources.files("softswitch.config").joinpath("demo.toml").read_text("utf-8")
    return copy.deepcopy(tomllib.loads(text))


def errors_of(data: Data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Config.from_data(data)
    return info.value.errors


# --- destinations ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("extension:102", ToExtension("102")),
    ("queue:sales", ToQueue("sales")),
    ("ivr:main", ToMenu("main")),
    ("voicemail:101", ToVoicemail("101")),
    ("voicemail:office", ToVoicemail("office")),
    ("forward:+39 (06) 123-45", ToNumber("390612345")),
    ("mobile:102", ToMobile("102")),
    ("announce:closed", Announce("closed")),
    ("hangup", HangUp()),
    ("continue", Continue()),
])
def test_destination_compact_form_round_trips_f_route_3(text: str, expected: object) -> None:
    parsed = parse_destination(text)
    assert parsed == expected
    assert parse_destination(str(parsed)) == parsed


@pytest.mark.parametrize(("value", "message"), [
    ("queue", "'queue' needs an argument: 'queue:...'"),
    ("extension:10a", "an extension number is 1 to 15 digits, not '10a'"),
    ("forward:call me", "not a phone number: 'call me' contains 'c'"),
    ("queue:Sales Team", "a name is 1 to 64 lower-case letters"),
    ("voicemal:101", "not a destination: 'voicemal:101' (expected extension:NUMBER"),
    ("repeat", "not a destination: 'repeat'"),
    (5, "expected a destination as a string"),
])
def test_destination_errors_say_what_is_allowed_f_route_3(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        parse_destination(value)
    assert str(info.value).startswith(message)


def test_menu_actions_add_repeat_and_back_f_route_3() -> None:
    assert parse_menu_action("repeat") == Repeat() and parse_menu_action("back") == Back()
    assert parse_menu_action("ivr:sub") == ToMenu("sub")
    with pytest.raises(ValueError, match="may also be 'repeat' or 'back'"):
        parse_menu_action("again")


# --- schema errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["routing"]["plans"][0].update(destination="queue:"),
     ["routing.plans[0].destination: a name is 1 to 64 lower-case letters, digits, '_' or "
      "'-' starting with a letter or digit, not ''"]),
    (lambda d: d["routing"]["plans"][0]["hours"].update(timezone="Europe/Atlantis"),
     ["routing.plans[0].hours.timezone: unknown time zone 'Europe/Atlantis' (an IANA name "
      "such as 'Europe/Rome')"]),
    (lambda d: d["routing"]["plans"][0]["hours"].update(open=["18:00-09:00", "9-5"]),
     ["routing.plans[0].hours.open[0]: '18:00-09:00' ends before it starts; split a range "
      "past midnight into two days",
      "routing.plans[0].hours.open[1]: expected opening hours as 'HH:MM-HH:MM', not '9-5'"]),
    (lambda d: d["routing"]["plans"][0]["hours"].update(holidays="XX", dates=["2025-02-30"]),
     ["routing.plans[0].hours.holidays: no holiday calendar for 'XX' (an ISO country code "
      "such as 'IT', optionally with a subdivision: 'US-CA')",
      "routing.plans[0].hours.dates[0]: Input should be a valid date or datetime, day value "
      "is outside expected range (got '2025-02-30')"]),
    (lambda d: d["routing"]["plans"][0]["hours"].update(days_off=["saturday"]),
     ["routing.plans[0].hours.days_off[0]: Input should be 'mon', 'tue', 'wed', 'thu', "
      "'fri', 'sat' or 'sun' (got 'saturday')"]),
    (lambda d: d["routing"]["menus"][0]["keys"].update({"A": "hangup", "5": "again"}),
     ["routing.menus[0].keys.A.[key]: Input should be '0', '1', '2', '3', '4', '5', '6', "
      "'7', '8', '9', '*' or '#' (got 'A')",
      "routing.menus[0].keys.5: not a destination: 'again' (expected extension:NUMBER, "
      "queue:NAME, ivr:NAME, voicemail:BOX, forward:NUMBER, mobile:EXTENSION, "
      "announce:PROMPT, hangup or continue); a menu key may also be 'repeat' or 'back'"]),
    (lambda d: d["routing"].update(pickup_code="*8a", blacklist_status=200),
     ["routing.pickup_code: a code is 1 to 8 keypad keys (0-9, * and #), not '*8a'",
      "routing.blacklist_status: Input should be greater than or equal to 400 (got 200)"]),
    (lambda d: d["routing"]["queues"][0].update(strategy="random", ring_tim=5),
     ["routing.queues[0].strategy: Input should be 'all', 'in_turn' or 'evenly' "
      "(got 'random')",
      "routing.queues[0].ring_tim: unknown key; did you mean 'ring_time'?"]),
    (lambda d: d["routing"].update(member_status={"103": "lunch"}),
     ["routing.member_status.103: Input should be 'working', 'break' or 'not_started' "
      "(got 'lunch')"]),
])
def test_routing_schema_errors_name_their_key_f_ops_2(mutate: Any, expected: list[str]) -> None:
    data = demo_data()
    mutate(data)
    assert errors_of(data) == expected


# --- the demo and round trips ----------------------------------------------------------------


def test_demo_office_line_loads_and_routes_f_ops_1_f_route_2() -> None:
    config = load_demo_config()
    routing = config.routing
    assert routing.pickup_code == "*8" and routing.blacklist == ("390200000000",)
    plan = routing.plan("office")
    assert plan is not None and plan.hours is not None
    assert plan.hours.holidays == "IT" and [str(s) for s in plan.hours.open] == [
        "09:00-13:00", "14:00-18:00"]
    assert routing.groups_of("103") == ("sales",)
    trunk = config.trunk("demo-operator")
    assert trunk is not None
    route = make_router(config, trunk, "390212345600", None, "+39 347 555 1234")
    assert route is not None and route.line.plan.name == "office"
    live = MemoryRoutingState(lambda _: True)
    wednesday_10 = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    greet = route.first_step(wednesday_10, live).step
    assert isinstance(greet, Greet) and greet.collect is not None
    menu = route.after_greeting("", wednesday_10, live).step
    assert isinstance(menu, RunMenu)
    queue = route.after_menu(menu.visit, "1", wednesday_10, live).step
    assert isinstance(queue, RingQueue) and queue.hold_music == "hold_music"
    christmas = datetime(2025, 12, 25, 9, 0, tzinfo=UTC)
    assert route.first_step(christmas, live).step == RecordVoicemail(
        "office", "voicemail_greeting", 120.0)


def test_routing_survives_a_dump_and_reload() -> None:
    config = load_demo_config()
    data = demo_data()
    data["routing"]["plans"][0]["hours"].update(dates=[date(2025, 8, 14)],
                                                days={"fri": ["09:00-14:00"]})
    changed = Config.from_data(data)
    assert changed.with_sip_port(5070).routing == changed.routing
    assert config.with_sip_port(5070).routing == config.routing
