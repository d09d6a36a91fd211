"""Status feature codes dialled from an employee's desk phone (F-ROUTE-5): the
configuration (codes, clashes as ``path: message``), which extension's state a
code sets, and the confirmation call (answer, prompt, hang up)."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, cast

import pytest

from media import builtin
from sipstack.endpoint_events import IncomingCall
from sipstack.events import Address
from sipstack.message import Request
from sipstack.parser import parse_message
from softswitch.app import Softswitch
from softswitch.call import Call
from softswitch.config import Config, ConfigError, load_demo_config
from softswitch.feature_codes import (
    CONFIRMATION_LIMIT,
    CONFIRMATIONS,
    ERROR_PAUSE,
    Confirmation,
    dialled_status,
    handle_feature_code,
)
from softswitch.media_policy import PassThrough
from softswitch.routing.state import MemberStatus, MemoryRoutingState, StatusChanged
from softswitch.storage.records import Disposition

Data = dict[str, Any]


def demo_data() -> Data:
    text = resources.files("softswitch.config").joinpath("demo.toml").read_text("utf-8")
    return copy.deepcopy(tomllib.loads(text))


def errors_of(data: Data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Config.from_data(data)
    return info.value.errors


# --- configuration ---------------------------------------------------------------------------


def test_demo_has_the_three_status_codes() -> None:  # F-ROUTE-5
    codes = load_demo_config().routing.status_codes
    assert codes == {"*71": MemberStatus.WORKING, "*72": MemberStatus.BREAK,
                     "*73": MemberStatus.NOT_STARTED}


def test_status_codes_default_to_none() -> None:  # F-ROUTE-5
    data = demo_data()
    del data["routing"]["status_codes"]
    assert Config.from_data(data).routing.status_codes == {}


@pytest.mark.parametrize(("codes", "expected"), [
    ({"*7a": "break"},
     ["routing.status_codes.*7a.[key]: a code is 1 to 8 keypad keys (0-9, * and #), "
      "not '*7a'"]),
    ({"*72": "lunch"},
     ["routing.status_codes.*72: Input should be 'working', 'break' or 'not_started' "
      "(got 'lunch')"]),
    ({"*8": "break", "103": "working"},
     ["routing.status_codes.*8: *8 is also the pickup code (routing.pickup_code)",
      "routing.status_codes.103: 103 is an extension number; choose e.g. '*72'"]),
])
def test_bad_status_codes_name_their_key(codes: dict[str, str], expected: list[str]) -> None:
    # F-ROUTE-5, F-OPS-2
    data = demo_data()
    data["routing"]["status_codes"] = codes
    assert errors_of(data) == expected


def test_confirmations_are_built_in_prompts_in_every_language() -> None:  # F-ROUTE-5
    assert set(CONFIRMATIONS) == set(MemberStatus)
    for prompt in CONFIRMATIONS.values():
        assert prompt in builtin.names()
        assert set(builtin.SPEECH[prompt]) == set(builtin.VOICES)


def test_dialled_status() -> None:  # F-ROUTE-5
    config = load_demo_config()
    assert dialled_status(config, "*72") is MemberStatus.BREAK
    assert dialled_status(config, "*8") is None
    assert dialled_status(config, "103") is None
    assert dialled_status(config, None) is None


# --- the INVITE ------------------------------------------------------------------------------


def invite(user: str) -> IncomingCall:
    raw = (f"INVITE sip:{user}@127.0.0.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
           "From: <sip:104@127.0.0.1>;tag=a\r\nTo: <sip:" + user + "@127.0.0.1>\r\n"
           "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:104@127.0.0.1:5070>\r\n"
           "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
    request = parse_message(raw)
    assert isinstance(request, Request)
    return IncomingCall(cast(Any, object()), request, Address("udp", "127.0.0.1", 5070))


@dataclass
class FakeEndpoint:
    answers: list[tuple[int, str | None]] = field(default_factory=list)

    def answer(self, session: object, status: int, now: float, *,
               reason: str | None = None, **_: object) -> None:
        self.answers.append((status, reason))


@dataclass
class FakeApp:
    """What feature codes use of the switch, without sockets or media."""

    config: Config = field(default_factory=load_demo_config)
    endpoint: FakeEndpoint = field(default_factory=FakeEndpoint)
    changes: list[object] = field(default_factory=list)
    routing_state: MemoryRoutingState = field(
        default_factory=lambda: MemoryRoutingState(lambda _: True))
    timers: list[tuple[float, Callable[[], None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.routing_state.observe(self.changes.append)

    def media_policy(self, call_id: str, body: bytes) -> PassThrough:
        return PassThrough(body)  # media not anchored

    def now(self) -> float:
        return 0.0

    def call_later(self, delay: float, fn: Callable[[], None]) -> FakeTimer:
        self.timers.append((delay, fn))
        return FakeTimer(self.timers, (delay, fn))


@dataclass
class FakeTimer:
    timers: list[tuple[float, Callable[[], None]]]
    entry: tuple[float, Callable[[], None]]

    def cancel(self) -> None:
        if self.entry in self.timers:
            self.timers.remove(self.entry)


def _handle(app: FakeApp, user: str, extension: str = "104") -> bool:
    found = app.config.extension(extension)
    assert found is not None
    return handle_feature_code(cast(Softswitch, app), invite(user), found)


def test_code_sets_the_callers_own_status() -> None:  # F-ROUTE-5
    app = FakeApp()
    assert _handle(app, "*72")
    assert app.routing_state.status("104") is MemberStatus.BREAK
    assert app.routing_state.status("103") is MemberStatus.WORKING
    assert app.changes == [StatusChanged("104", MemberStatus.BREAK)]
    # Without anchored media there is nothing to speak with: a final response names the state.
    assert app.endpoint.answers == [(480, "Status set: break")]


def test_other_numbers_are_not_feature_codes() -> None:  # F-ROUTE-5
    app = FakeApp()
    for user in ("103", "*8", "*74", "0612345678"):
        assert not _handle(app, user)
    assert app.changes == [] and app.endpoint.answers == []


# --- the confirmation call -------------------------------------------------------------------


@dataclass
class FakeCall:
    anchored: bool = True
    did: list[object] = field(default_factory=list)

    def answer_caller(self) -> bool:
        self.did.append("answer")
        return self.anchored

    def play_to_caller(self, prompt: str, loop: bool = False) -> None:
        self.did.append(("play", prompt))

    def finish(self, disposition: Disposition, reason: str) -> None:
        self.did.append(("finish", disposition))

    def refuse(self, status: int, reason: str) -> None:
        self.did.append(("refuse", status))


def _confirmation(call: FakeCall, app: FakeApp) -> Confirmation:
    driver = Confirmation(cast(Softswitch, app), cast(Call, call), "status_break")
    driver.start()
    return driver


def test_confirmation_answers_plays_then_hangs_up() -> None:  # F-ROUTE-5
    app, call = FakeApp(), FakeCall()
    driver = _confirmation(call, app)
    assert call.did == ["answer", ("play", "status_break")]
    driver.on_media("played", ("b", "status_break"))  # not the caller's side
    driver.on_media("played", ("a", "hold_music"))
    assert len(call.did) == 2
    driver.on_media("played", ("a", "status_break"))
    assert call.did[-1] == ("finish", Disposition.ANSWERED)
    driver.close()
    assert app.timers == []
    assert driver.left_disposition() is Disposition.ANSWERED
    assert not driver.no_answer(cast(Any, None))


def test_confirmation_hangs_up_when_the_prompt_fails_or_never_ends() -> None:  # F-ROUTE-5
    app, call = FakeApp(), FakeCall()
    driver = _confirmation(call, app)
    assert [delay for delay, _ in app.timers] == [CONFIRMATION_LIMIT]
    driver.on_media("error", ("espeak-ng missing",))
    [(delay, fire)] = app.timers
    assert delay == ERROR_PAUSE  # not before the phone's ACK
    fire()
    assert call.did[-1] == ("finish", Disposition.ANSWERED)

    app, call = FakeApp(), FakeCall()
    _confirmation(call, app)
    app.timers[0][1]()  # the media worker never reported the end
    assert call.did[-1] == ("finish", Disposition.ANSWERED)


def test_confirmation_without_media_refuses() -> None:  # F-ROUTE-5
    app, call = FakeApp(), FakeCall(anchored=False)
    _confirmation(call, app)
    assert call.did == ["answer", ("refuse", 480)]
    assert app.timers == []
