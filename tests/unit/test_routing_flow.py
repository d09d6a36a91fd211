"""Routing of incoming calls step by step, on a fake clock and a fake registrar, no sockets.

Feature IDs: F-ROUTE-2 (greeting + extension dialing), F-ROUTE-3 (IVR menus),
F-ROUTE-7 (out of hours), F-ROUTE-8 (blacklist), F-ROUTE-9 (backup number),
F-ROUTE-11 (forwards as outbound calls with the caller's ID), F-MEDIA-6
(voicemail).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from softswitch.config import Config
from softswitch.routing import (
    AddToBlacklist,
    DigitCollection,
    Forward,
    Greet,
    LineRouter,
    MemoryRoutingState,
    MenuVisit,
    Next,
    Play,
    RecordVoicemail,
    Refuse,
    RingExtension,
    RingQueue,
    RunMenu,
    inbound_router,
    is_pickup_code,
    route_from_trunk,
)
from softswitch.routing.destinations import Continue, HangUp, ToExtension, ToMobile, ToVoicemail

DID = "+39 02 1234 5600"
#: A Wednesday, 10:00 in Rome (CET): inside working hours.
OPEN = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
#: The same Wednesday at 20:00 in Rome: closed.
CLOSED = datetime(2025, 1, 15, 19, 0, tzinfo=UTC)


def make_config(plan: dict[str, Any], **routing: Any) -> Config:
    extensions: list[dict[str, Any]] = [{"number": n, "password": f"pw{n}"}
                                        for n in ("101", "102", "103", "104")]
    extensions[0]["mobile"] = "+39 333 000 0101"
    extensions[1]["mobile"] = "+39 333 000 0102"
    extensions.append({"number": "105", "password": "pw105", "enabled": False})
    data = {
        "sip": {"listeners": [{"transport": "udp", "host": "127.0.0.1"}]},
        "default_outbound_trunk": "op",
        "extensions": extensions,
        "trunks": [
            {"name": "op", "host": "127.0.0.1", "caller_id": "+39 02 1234 5678",
             "numbers": [{"did": "+39 02 1234 5678", "extension": "101"}]},
            {"name": "in-only", "host": "127.0.0.2", "outbound": False},
        ],
        "routing": {
            "lines": [{"did": DID, "plan": "p"}],
            "plans": [{"name": "p", **plan}],
            "menus": [
                {"name": "main", "prompt": "main_menu", "retries": 1,
                 "invalid_prompt": "invalid_choice", "extension_dialing": True,
                 "on_failure": "voicemail:office",
                 "keys": {"1": "queue:sales", "2": "ivr:support", "3": "forward:+39 06 111",
                          "4": "extension:102", "9": "repeat", "#": "hangup"}},
                {"name": "support", "prompt": "support_menu",
                 "keys": {"1": "ivr:deep", "0": "back", "5": "announce:closed"}},
                {"name": "deep", "prompt": "deep_menu", "keys": {"0": "back", "7": "continue"}},
            ],
            "queues": [{"name": "sales", "members": ["103", "104"]}],
            "voicemail": [{"name": "office", "greeting": "office_greeting", "max_seconds": 60}],
            **routing,
        },
    }
    return Config.from_data(data)


def router(config: Config, caller: str = "+39 347 555 1234", trunk: str = "op",
           did: str = DID) -> LineRouter:
    found = config.trunk(trunk)
    assert found is not None
    result = inbound_router(config, found, did, did, caller)
    assert result is not None
    return result


def state(*registered: str) -> MemoryRoutingState:
    return MemoryRoutingState(lambda extension: extension in registered)


# --- blacklist (F-ROUTE-8) -------------------------------------------------------------------


def test_blacklisted_caller_is_refused_comparing_digits_only_f_route_8() -> None:
    config = make_config({"destination": "extension:102"},
                         blacklist=["+39 (347) 555-1234"], blacklist_status=486)
    for written in ("+393475551234", "39 347 555 1234", "(39)347-555-1234"):
        assert router(config, written).first_step(OPEN, state("102")).step == Refuse(
            486, "blacklisted caller")
    assert router(config, "+39 347 555 9999").first_step(OPEN, state("102")).step == \
        RingExtension("102", no_answer=_hangup())


def test_blacklist_default_status_is_603_and_run_time_additions_count_f_route_8() -> None:
    config = make_config({"destination": "extension:102"})
    live = state("102")
    live.apply(AddToBlacklist("+39 347 555 1234"))
    assert router(config).first_step(OPEN, live).step == Refuse(603, "blacklisted caller")
    assert router(config, "anonymous").first_step(OPEN, live).step.__class__ is RingExtension


def test_blacklist_applies_to_a_did_without_a_plan_f_route_8() -> None:
    config = make_config({"destination": "hangup"}, blacklist=["+39 347 555 1234"])
    plain = router(config, did="+39 02 1234 5678")
    assert plain.first_step(OPEN, state("101")).step == Refuse(603, "blacklisted caller")


def _hangup() -> HangUp:
    return HangUp()


# --- working hours (F-ROUTE-7) ---------------------------------------------------------------

HOURS = {"timezone": "Europe/Rome", "open": ["09:00-18:00"]}


def test_out_of_hours_goes_to_its_destination_f_route_7() -> None:
    config = make_config({"destination": "extension:102", "hours": HOURS,
                          "out_of_hours": "forward:+39 06 999"})
    assert router(config).first_step(OPEN, state("102")).step == RingExtension(
        "102", no_answer=_hangup())
    assert router(config).first_step(CLOSED, state("102")) == Next(
        Forward("op", "3906999", "393475551234", "forward"))


def test_out_of_hours_announcement_then_hang_up_f_route_7() -> None:
    config = make_config({"destination": "extension:102", "hours": HOURS,
                          "out_of_hours": "announce:closed"})
    assert router(config).first_step(CLOSED, state()).step == Play("closed", None)


def test_out_of_hours_voicemail_f_route_7_f_media_6() -> None:
    config = make_config({"destination": "extension:102", "hours": HOURS,
                          "out_of_hours": "voicemail:office"})
    assert router(config).first_step(CLOSED, state()).step == RecordVoicemail(
        "office", "office_greeting", 60.0, owner=None)


def test_out_of_hours_blacklists_the_caller_f_route_7_f_route_8() -> None:
    config = make_config({"destination": "extension:102", "hours": HOURS,
                          "out_of_hours_blacklist": True})
    live = state("102")
    decided = router(config).first_step(CLOSED, live)
    assert decided == Next(Refuse(603, "closed: caller blacklisted"),
                           (AddToBlacklist("393475551234"),))
    for effect in decided.effects:
        live.apply(effect)
    # next morning, inside working hours, the caller is refused all the same
    assert router(config).first_step(OPEN, live).step == Refuse(603, "blacklisted caller")


def test_out_of_hours_announcement_and_blacklisting_together_f_route_7() -> None:
    config = make_config({"destination": "extension:102", "hours": HOURS,
                          "out_of_hours": "announce:closed", "out_of_hours_blacklist": True})
    assert router(config).first_step(CLOSED, state()) == Next(
        Play("closed"), (AddToBlacklist("393475551234"),))


# --- greeting and extension dialing (F-ROUTE-2) ----------------------------------------------

GREETING = {"greeting": "welcome", "extension_dialing": True, "destination": "queue:sales"}


def test_greeting_collects_an_extension_f_route_2() -> None:
    config = make_config(GREETING)
    step = router(config).first_step(OPEN, state()).step
    assert isinstance(step, Greet) and step.prompt == "welcome"
    assert isinstance(step.collect, DigitCollection)
    assert step.collect.extensions == {"101", "102", "103", "104"}
    assert not step.collect.complete("10") and step.collect.complete("102")
    assert step.collect.complete("9") and step.collect.complete("1#")


def test_greeting_without_extension_dialing_collects_nothing_f_route_2() -> None:
    config = make_config({"greeting": "welcome", "destination": "extension:102"})
    assert router(config).first_step(OPEN, state()).step == Greet("welcome", None)
    assert router(config).after_greeting("103", OPEN, state("102")).step == RingExtension(
        "102", no_answer=_hangup())


def test_dialled_extension_rings_with_the_configured_no_answer_f_route_2() -> None:
    for choice, expected in (("continue", Continue()), ("mobile", ToMobile("102")),
                             ("voicemail", ToVoicemail("102"))):
        config = make_config({**GREETING, "dialled_no_answer": choice})
        step = router(config).after_greeting("102#", OPEN, state("102")).step
        assert step == RingExtension("102", no_answer=expected)


def test_dialled_extension_not_answering_f_route_2() -> None:
    live = state("102", "103")
    ring = RingExtension("102", no_answer=ToMobile("102"))
    mobile = router(make_config({**GREETING, "dialled_no_answer": "mobile"}))
    assert mobile.after_no_answer(ring, OPEN, live).step == Forward(
        "op", "393330000102", "393475551234", "mobile")
    voicemail = router(make_config({**GREETING, "dialled_no_answer": "voicemail"}))
    assert voicemail.after_no_answer(RingExtension("102", no_answer=ToVoicemail("102")),
                                     OPEN, live).step == RecordVoicemail(
        "102", "voicemail_greeting", 120.0, owner="102")
    proceed = router(make_config(GREETING))
    step = proceed.after_no_answer(RingExtension("102", no_answer=Continue()), OPEN, live).step
    assert isinstance(step, RingQueue) and step.queue == "sales"


def test_mobile_without_a_number_takes_a_voicemail_f_route_2() -> None:
    config = make_config({**GREETING, "dialled_no_answer": "mobile"})
    ring = RingExtension("103", no_answer=ToMobile("103"))
    assert router(config).after_no_answer(ring, OPEN, state()).step == RecordVoicemail(
        "103", "voicemail_greeting", 120.0, owner="103")


def test_invalid_or_disabled_extension_plays_a_prompt_then_continues_f_route_2() -> None:
    config = make_config(GREETING)
    for entry in ("999", "105"):
        step = router(config).after_greeting(entry, OPEN, state("103")).step
        assert isinstance(step, Play) and step.prompt == "invalid_extension"
        assert isinstance(step.then, RingQueue) and step.then.queue == "sales"


def test_no_digits_continue_normal_routing_f_route_2() -> None:
    step = router(make_config(GREETING)).after_greeting("", OPEN, state("103")).step
    assert isinstance(step, RingQueue)


def test_dialled_extension_not_registered_goes_straight_to_no_answer_f_route_2() -> None:
    config = make_config({**GREETING, "dialled_no_answer": "voicemail"})
    assert router(config).after_greeting("102", OPEN, state()).step == RecordVoicemail(
        "102", "voicemail_greeting", 120.0, owner="102")


# --- voice menus (F-ROUTE-3) -----------------------------------------------------------------

MENU = {"destination": "ivr:main"}


def _menu(config: Config, visit: MenuVisit, entry: str | None) -> Any:
    return router(config).after_menu(visit, entry, OPEN, state("102", "103", "104")).step


def test_menu_starts_with_its_prompt_f_route_3() -> None:
    step = router(make_config(MENU)).first_step(OPEN, state()).step
    assert isinstance(step, RunMenu)
    assert (step.visit, step.prompt, step.timeout, step.before) == (
        MenuVisit("main"), "main_menu", 5.0, None)
    assert step.collect.keys == {"1", "2", "3", "4", "9", "#"}
    assert step.collect.complete("2") and not step.collect.complete("1")  # 1 may start 101


def test_menu_keys_lead_to_destinations_f_route_3() -> None:
    config = make_config(MENU)
    top = MenuVisit("main")
    assert isinstance(_menu(config, top, "1"), RingQueue)
    assert _menu(config, top, "3") == Forward("op", "3906111", "393475551234", "forward")
    assert _menu(config, top, "4") == RingExtension("102", no_answer=_hangup())
    assert _menu(config, top, "#") == Refuse(480, "call ended by the routing plan")


def test_nested_menus_and_back_f_route_3() -> None:
    config = make_config(MENU)
    support = _menu(config, MenuVisit("main"), "2")
    assert isinstance(support, RunMenu) and support.prompt == "support_menu"
    assert support.visit == MenuVisit("support", 0, ("main",))
    deep = _menu(config, support.visit, "1")
    assert deep.visit == MenuVisit("deep", 0, ("main", "support"))
    up = _menu(config, deep.visit, "0")
    assert up.visit == MenuVisit("support", 0, ("main",)) and up.prompt == "support_menu"
    top = _menu(config, up.visit, "0")
    assert top.visit == MenuVisit("main")
    assert _menu(config, top.visit, "9").visit == MenuVisit("main")  # repeat
    assert _menu(config, support.visit, "5") == Play("closed")
    assert isinstance(_menu(config, deep.visit, "7"), RunMenu)  # continue: the plan's menu


def test_direct_extension_dial_from_the_menu_f_route_3() -> None:
    config = make_config({**MENU, "dialled_no_answer": "mobile"})
    assert _menu(config, MenuVisit("main"), "102") == RingExtension(
        "102", no_answer=ToMobile("102"))
    assert _menu(config, MenuVisit("support"), "102").visit == MenuVisit("support", 1)


def test_invalid_key_and_timeout_retry_then_fail_f_route_3() -> None:
    config = make_config(MENU)
    wrong = _menu(config, MenuVisit("main"), "7")
    assert wrong.visit == MenuVisit("main", 1) and wrong.before == "invalid_choice"
    assert _menu(config, wrong.visit, "8") == RecordVoicemail("office", "office_greeting", 60.0)
    silent = _menu(config, MenuVisit("main"), None)
    assert silent.visit == MenuVisit("main", 1) and silent.before is None
    assert _menu(config, silent.visit, "") == RecordVoicemail("office", "office_greeting", 60.0)
    # a valid choice after a failed attempt still counts
    assert isinstance(_menu(config, silent.visit, "1"), RingQueue)


def test_menu_without_failure_destination_hangs_up_f_route_3() -> None:
    config = make_config(MENU)
    support = MenuVisit("support", 2, ("main",))  # retries default to 2
    assert _menu(config, support, None) == Refuse(480, "call ended by the routing plan")


# --- forwarding (F-ROUTE-11) -----------------------------------------------------------------


def test_forward_keeps_the_caller_id_or_shows_the_line_number_f_route_11() -> None:
    plan = {"destination": "forward:+39 06 999"}
    assert router(make_config(plan)).first_step(OPEN, state()).step == Forward(
        "op", "3906999", "393475551234", "forward")
    hidden = make_config({**plan, "pass_caller_id": False})
    assert router(hidden).first_step(OPEN, state()).step == Forward(
        "op", "3906999", "390212345600", "forward")
    anonymous = router(make_config(plan), caller="anonymous").first_step(OPEN, state())
    assert anonymous.step == Forward("op", "3906999", "390212345600", "forward")


def test_forward_leaves_through_an_outbound_line_f_route_11() -> None:
    config = make_config({"destination": "forward:+39 06 999"},
                         lines=[{"trunk": "in-only", "plan": "p"}])
    step = router(config, trunk="in-only", did="+39 06 5555").first_step(OPEN, state()).step
    assert step == Forward("op", "3906999", "393475551234", "forward")
    forwarded = router(config, trunk="in-only", did="+39 06 5555")
    assert forwarded.after_no_answer(step, OPEN, state()).step == Refuse(
        480, "forwarded call not answered")


# --- backup number (F-ROUTE-9) ---------------------------------------------------------------


def test_unregistered_extension_goes_to_the_backup_number_f_route_9() -> None:
    config = make_config({"destination": "extension:102", "backup_number": "+39 06 777"},
                         backup_number="+39 06 000")
    assert router(config).first_step(OPEN, state()).step == Forward(
        "op", "3906777", "393475551234", "backup")
    no_plan_backup = make_config({"destination": "extension:102"}, backup_number="+39 06 000")
    assert router(no_plan_backup).backup().step == Forward(
        "op", "3906000", "393475551234", "backup")
    nothing = make_config({"destination": "extension:102"})
    assert router(nothing).first_step(OPEN, state()).step == Refuse(
        480, "temporarily unavailable")


def test_a_did_without_a_plan_rings_its_extension_or_the_backup_f_route_9() -> None:
    config = make_config({"destination": "hangup"}, backup_number="+39 06 000")
    plain = router(config, did="+39 02 1234 5678")
    assert plain.first_step(OPEN, state("101")).step == RingExtension(
        "101", no_answer=_hangup())
    assert plain.first_step(OPEN, state()).step == Forward(
        "op", "3906000", "393475551234", "backup")
    assert plain.after_no_answer(RingExtension("101"), OPEN, state()).step == Refuse(
        480, "no answer")


def test_after_no_answer_refuses_steps_that_ring_nobody() -> None:
    with pytest.raises(ValueError, match="Greet"):
        router(make_config(GREETING)).after_no_answer(Greet("welcome", None), OPEN, state())


# --- which plan governs a call ---------------------------------------------------------------


def test_the_most_specific_line_wins() -> None:
    config = make_config({"destination": "extension:103"},
                         lines=[{"did": DID, "plan": "p"}, {"trunk": "op", "plan": "q"}],
                         plans=[{"name": "p", "destination": "extension:103"},
                                {"name": "q", "destination": "extension:104"}])
    assert router(config).line.plan.name == "p"
    assert router(config, did="+39 02 1234 0000").line.plan.name == "q"
    # a DID listed with an extension in [[trunks.numbers]] keeps its extension
    assert router(config, did="+39 02 1234 5678").line.plan.destination == ToExtension("101")
    trunk = config.trunk("op")
    assert trunk is not None
    assert route_from_trunk(config, trunk, "390212345678", None) == RingExtension("101")


def test_unknown_number_on_a_trunk_without_a_line_has_no_router() -> None:
    config = make_config({"destination": "extension:103"})
    trunk = config.trunk("op")
    assert trunk is not None
    assert inbound_router(config, trunk, "+39 02 1234 0000", None, "x") is None
    assert route_from_trunk(config, trunk, "390212340000", None) == Refuse(
        404, "number not served on this trunk")


def test_pickup_code_is_recognised_f_route_6() -> None:
    config = make_config({"destination": "extension:103"}, pickup_code="*8")
    assert is_pickup_code(config, "*8") and not is_pickup_code(config, "8")
