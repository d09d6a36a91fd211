"""Queue groups over several rounds and calls, and pickup within a group, on a fake clock.

Feature IDs: F-ROUTE-5 (queue groups: strategies, absent members, ring times,
maximum wait, "if nobody answers", unconditional forwarding), F-ROUTE-6 (call
pickup), F-ROUTE-9 (backup number when no member is registered).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from softswitch.config import Config
from softswitch.routing import (
    Forward,
    LineRouter,
    MemberStatus,
    MemoryRoutingState,
    Next,
    Rang,
    RecordVoicemail,
    Refuse,
    RingingCall,
    RingQueue,
    RingTarget,
    inbound_router,
    pickup_allowed,
    pickup_call,
)

DID = "+39 02 1234 5600"
NOW = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
MEMBERS = ["101", "102", "103", "104"]


def make_config(queue: dict[str, Any], **routing: Any) -> Config:
    extensions: list[dict[str, Any]] = [{"number": n, "password": f"pw{n}"}
                                        for n in (*MEMBERS, "105", "106")]
    extensions[1]["mobile"] = "+39 333 000 0102"
    return Config.from_data({
        "sip": {"listeners": [{"transport": "udp", "host": "127.0.0.1"}]},
        "extensions": extensions,
        "trunks": [{"name": "op", "host": "127.0.0.1", "caller_id": "+39 02 1234 5678"}],
        "routing": {
            "lines": [{"did": DID, "trunk": "op", "plan": "p"}],
            "plans": [{"name": "p", "destination": "queue:sales"}],
            "queues": [{"name": "sales", "members": MEMBERS, **queue},
                       {"name": "support", "members": ["104", "105"]}],
            **routing,
        },
    })


def router(config: Config) -> LineRouter:
    trunk = config.trunk("op")
    assert trunk is not None
    found = inbound_router(config, trunk, DID, None, "+39 347 555 1234")
    assert found is not None
    return found


def state(*registered: str) -> MemoryRoutingState:
    return MemoryRoutingState(lambda extension: extension in (registered or MEMBERS))


def rung(step: object) -> list[str]:
    assert isinstance(step, RingQueue), step
    return [target.extension for target in step.targets]


def one_call(route: LineRouter, live: MemoryRoutingState, at: datetime) -> list[list[str]]:
    """Every round of one call nobody answers; returns who was rung in each."""
    rounds = []
    decided = route.first_step(at, live)
    while isinstance(decided.step, RingQueue):
        for effect in decided.effects:
            live.apply(effect)
        rounds.append(rung(decided.step))
        at += timedelta(seconds=decided.step.targets[0].ring_time)
        decided = route.after_no_answer(decided.step, at, live)
    return rounds


def test_all_at_once_rings_every_member_once_then_no_answer_f_route_5() -> None:
    route = router(make_config({"strategy": "all", "no_answer": "voicemail:102"}))
    live = state()
    first = route.first_step(NOW, live)
    assert isinstance(first.step, RingQueue)
    assert first.step.targets == tuple(RingTarget(m, 20.0) for m in MEMBERS)
    assert first.effects == (Rang("sales", tuple(MEMBERS), NOW),)
    assert route.after_no_answer(first.step, NOW, live).step == RecordVoicemail(
        "102", "voicemail_greeting", 120.0, owner="102")


def test_in_turn_continues_the_rotation_across_calls_f_route_5() -> None:
    route = router(make_config({"strategy": "in_turn"}))
    live = state()
    first = route.first_step(NOW, live)
    assert rung(first.step) == ["101"]
    live.apply(first.effects[0])
    second = route.first_step(NOW, live)  # another call: the next member first
    assert rung(second.step) == ["102"]
    assert one_call(route, live, NOW) == [["102"], ["103"], ["104"], ["101"]]
    assert one_call(route, live, NOW) == [["102"], ["103"], ["104"], ["101"]]


def test_evenly_rings_the_member_rung_least_recently_f_route_5() -> None:
    route = router(make_config({"strategy": "evenly"}))
    live = state()
    live.apply(Rang("support", ("101",), NOW - timedelta(minutes=5)))
    live.apply(Rang("support", ("103",), NOW - timedelta(minutes=30)))
    live.apply(Rang("support", ("104",), NOW - timedelta(minutes=10)))
    # 102 was never rung, then the oldest first
    assert one_call(route, live, NOW) == [["102"], ["103"], ["104"], ["101"]]
    later = NOW + timedelta(hours=1)
    first = route.first_step(later, live)
    assert rung(first.step) == ["102"]  # rung least recently in the previous call


def test_members_on_break_or_not_started_are_never_rung_f_route_5() -> None:
    route = router(make_config({"strategy": "in_turn", "max_wait": 200}))
    live = state()
    live.set_status("102", MemberStatus.BREAK)
    live.set_status("104", MemberStatus.NOT_STARTED)
    rounds = one_call(route, live, NOW)
    assert {m for r in rounds for m in r} == {"101", "103"}
    assert len(rounds) == 10  # 200 s of 20 s rings
    live.set_status("102", MemberStatus.WORKING)  # back from the break
    assert one_call(route, live, NOW)[:3] == [["101"], ["102"], ["103"]]


def test_configured_member_status_and_absent_members_when_allowed_f_route_5() -> None:
    config = make_config({"strategy": "all", "skip_absent": False},
                         member_status={"103": "break"})
    assert config.routing.member_status == {"103": MemberStatus.BREAK}
    live = MemoryRoutingState(lambda _: True, config.routing.member_status)
    assert rung(router(config).first_step(NOW, live).step) == MEMBERS
    strict = make_config({"strategy": "all"})
    live_strict = MemoryRoutingState(lambda _: True, config.routing.member_status)
    assert rung(router(strict).first_step(NOW, live_strict).step) == ["101", "102", "104"]


def test_per_member_ring_time_and_maximum_wait_f_route_5() -> None:
    route = router(make_config({"strategy": "in_turn", "ring_time": 20, "max_wait": 50,
                                "ring_times": {"102": 25}}))
    live = state()
    first = route.first_step(NOW, live)
    assert isinstance(first.step, RingQueue)
    assert first.step.targets == (RingTarget("101", 20.0),)
    second = route.after_no_answer(first.step, NOW + timedelta(seconds=20), live)
    assert isinstance(second.step, RingQueue)
    assert second.step.targets == (RingTarget("102", 25.0),)
    third = route.after_no_answer(second.step, NOW + timedelta(seconds=45), live)
    assert isinstance(third.step, RingQueue)
    assert third.step.targets == (RingTarget("103", 5.0),)  # cut to the wait left
    assert route.after_no_answer(third.step, NOW + timedelta(seconds=50), live).step == \
        Refuse(480, "call ended by the routing plan")


def test_hold_music_while_waiting_f_route_5() -> None:
    step = router(make_config({"hold_music": "hold_music"})).first_step(NOW, state()).step
    assert isinstance(step, RingQueue) and step.hold_music == "hold_music"
    plain = router(make_config({})).first_step(NOW, state()).step
    assert isinstance(plain, RingQueue) and plain.hold_music is None


def test_nobody_answers_each_fallback_f_route_5() -> None:
    for no_answer, expected in (
        ("mobile:102", Forward("op", "393330000102", "393475551234", "mobile")),
        ("forward:+39 06 4444", Forward("op", "39064444", "393475551234", "forward")),
        ("voicemail:103", RecordVoicemail("103", "voicemail_greeting", 120.0, owner="103")),
    ):
        route = router(make_config({"strategy": "all", "no_answer": no_answer}))
        live = state()
        first = route.first_step(NOW, live)
        assert isinstance(first.step, RingQueue)
        assert route.after_no_answer(first.step, NOW, live).step == expected
        # members all away: the same fallback at once
        for member in MEMBERS:
            live.set_status(member, MemberStatus.BREAK)
        assert route.first_step(NOW, live).step == expected


def test_empty_queue_with_a_forward_number_is_unconditional_forwarding_f_route_5() -> None:
    config = make_config({"members": [], "no_answer": "forward:+39 06 4444"},
                         backup_number="+39 06 0000")
    assert router(config).first_step(NOW, state()) == Next(
        Forward("op", "39064444", "393475551234", "forward"))


def test_no_member_registered_goes_to_the_backup_number_f_route_9() -> None:
    config = make_config({"no_answer": "voicemail:102"}, backup_number="+39 06 0000")
    nobody = MemoryRoutingState(lambda _: False)
    assert router(config).first_step(NOW, nobody).step == Forward(
        "op", "39060000", "393475551234", "backup")
    without_backup = make_config({"no_answer": "voicemail:102"})
    assert router(without_backup).first_step(NOW, nobody).step == RecordVoicemail(
        "102", "voicemail_greeting", 120.0, owner="102")


def test_disabled_members_are_not_rung_f_route_5() -> None:
    config = make_config({"strategy": "all", "members": ["101", "106"]},
                         member_status={})
    data = config.model_dump(by_alias=True)
    data["extensions"][5]["enabled"] = False
    disabled = Config.from_data(data)
    assert rung(router(disabled).first_step(NOW, state("101", "106")).step) == ["101"]


# --- pickup (F-ROUTE-6) ----------------------------------------------------------------------


def test_pickup_only_within_the_same_queue_group_f_route_6() -> None:
    routing = make_config({}).routing
    ringing = RingingCall("c1", ("101",), "sales", NOW)
    assert pickup_allowed(routing, "102", ringing)
    assert not pickup_allowed(routing, "105", ringing)  # support only
    assert not pickup_allowed(routing, "106", ringing)  # in no group
    assert not pickup_allowed(routing, "101", ringing)  # the one rung answers instead
    direct = RingingCall("c2", ("105",), None, NOW)  # a direct call to 105 (support)
    assert pickup_allowed(routing, "104", direct)
    assert not pickup_allowed(routing, "101", direct)


def test_pickup_takes_the_longest_ringing_allowed_call_f_route_6() -> None:
    routing = make_config({}).routing
    calls = [RingingCall("new", ("101",), "sales", NOW),
             RingingCall("old", ("103",), "sales", NOW - timedelta(seconds=20)),
             RingingCall("other", ("105",), "support", NOW - timedelta(seconds=60))]
    found = pickup_call(routing, "102", calls)
    assert found is not None and found.call_id == "old"
    assert pickup_call(routing, "106", calls) is None
