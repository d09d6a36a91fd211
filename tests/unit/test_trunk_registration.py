"""Trunk registration (F-SIP-4, F-OUT-5): the softswitch registers to an operator.

Two sans-IO endpoints wired back to back on a fake clock: ``sw`` is the
softswitch running a TrunkRegistration, ``op`` plays the operator's registrar
with sipstack.auth.DigestServer (RFC 3261 §10.3, §22).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from sipstack.auth import DigestServer, ha1
from sipstack.dialog import ViaConfig
from sipstack.endpoint import Endpoint, EndpointConfig
from sipstack.endpoint_events import IncomingRequest, ResponseEvent
from sipstack.errors import LocalProtocolError
from sipstack.events import Address, CounterIds
from sipstack.message import Request, Response
from sipstack.uri import parse_uri
from softswitch.config import Trunk
from softswitch.trunks import (
    RegistrationState,
    RetryPolicy,
    TrunkRegistration,
    TrunkRegistrations,
    granted_expires,
    registrar_uri,
    retry_after,
)

SW = Address("udp", "127.0.0.1", 5070)
OP = Address("udp", "127.0.0.1", 5080)
CONTACT = "sip:switch@127.0.0.1:5070"
REALM = "operator.test"
State = RegistrationState


def make_trunk(**overrides: Any) -> Trunk:
    values: dict[str, Any] = {"name": "op", "host": "127.0.0.1", "port": 5080,
                              "username": "trunk1", "password": "secret", "register": True,
                              "register_expires": 600}
    values.update(overrides)
    return Trunk.model_validate(values)


def make_endpoint(addr: Address, name: str) -> Endpoint:
    config = EndpointConfig(via=ViaConfig(addr.host, addr.port),
                            contact=f"<sip:{name}@{addr.host}:{addr.port}>")
    return Endpoint(CounterIds(name), config)


Answer = tuple[int, list[tuple[str, str]]]


@dataclass
class Operator:
    """The operator's registrar: digest check, 423 under ``min_expires``,
    grants at most ``max_expires``; ``script`` answers come first."""

    endpoint: Endpoint
    password: str = "secret"
    min_expires: int | None = None
    max_expires: int | None = None
    script: list[Answer] = field(default_factory=list)
    other_contacts: list[str] = field(default_factory=list)
    seen: list[tuple[float, Request]] = field(default_factory=list)
    bound: dict[str, int] = field(default_factory=dict)
    digest: DigestServer = field(default_factory=lambda: DigestServer(REALM, b"op-secret"))

    def _ha1(self, user: str, algorithm: str) -> str | None:
        return ha1(user, REALM, self.password, algorithm) if user == "trunk1" else None

    def handle(self, event: IncomingRequest, now: float) -> None:
        self.seen.append((now, event.request))
        status, headers = self.script.pop(0) if self.script else self._answer(event.request, now)
        self.endpoint.respond(event, status, now, headers=headers)

    def _answer(self, request: Request, now: float) -> Answer:
        result = self.digest.check(request, self._ha1, now)
        if not result.ok:
            return 401, [("WWW-Authenticate", c) for c in self.digest.challenge(now, result.stale)]
        asked = request.header_int("Expires")
        assert asked is not None
        if asked and self.min_expires is not None and asked < self.min_expires:
            return 423, [("Min-Expires", str(self.min_expires))]
        granted = min(asked, self.max_expires or asked)
        contact = str(request.contacts[0].uri)
        if granted == 0:
            self.bound.pop(contact, None)
            return 200, []
        self.bound[contact] = granted
        contacts = [*self.other_contacts, f"<{contact}>;expires={granted}"]
        return 200, [("Contact", c) for c in contacts]

    def registers(self) -> list[Request]:
        return [r for _, r in self.seen]


class World:
    """Softswitch + operator on a fake clock; the operator can be unplugged."""

    def __init__(self, trunk: Trunk | None = None, policy: RetryPolicy | None = None,
                 jitter: Callable[[], float] | None = None, **operator: Any) -> None:
        self.now = 0.0
        self.sw = make_endpoint(SW, "sw")
        self.op_endpoint = make_endpoint(OP, "op")
        self.operator = Operator(self.op_endpoint, **operator)
        self.reg = TrunkRegistration(trunk or make_trunk(), self.sw, CONTACT,
                                     policy=policy, jitter=jitter)
        self.online = True
        self.unclaimed: list[ResponseEvent] = []

    def run(self) -> None:
        moved = True
        while moved:
            moved = False
            for dgram in self.sw.datagrams_to_send():
                moved = True
                if self.online and dgram.address == OP:
                    self.op_endpoint.receive_data(dgram.data, SW, self.now)
            for dgram in self.op_endpoint.datagrams_to_send():
                moved = True
                if self.online and dgram.address == SW:
                    self.sw.receive_data(dgram.data, OP, self.now)
            moved = self._deliver() or moved

    def _deliver(self) -> bool:
        moved = False
        while (event := self.op_endpoint.next_event()) is not None:
            assert isinstance(event, IncomingRequest)
            self.operator.handle(event, self.now)
            moved = True
        while (event := self.sw.next_event()) is not None:
            assert isinstance(event, ResponseEvent)
            if self.reg.owns(event.key):
                self.reg.on_response(event, self.now)
            else:
                self.unclaimed.append(event)
            moved = True
        return moved

    def start(self) -> None:
        self.reg.start(self.now)
        self.run()

    def stop(self) -> None:
        self.reg.stop(self.now)
        self.run()

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while True:
            timers = [self.sw.get_timer(), self.op_endpoint.get_timer(), self.reg.get_timer()]
            due = min((t for t in timers if t is not None), default=None)
            if due is None or due > end:
                break
            self.now = max(due, self.now)
            self.sw.handle_timer(self.now)
            self.op_endpoint.handle_timer(self.now)
            self.reg.handle_timer(self.now)
            self.run()
        self.now = end

    def attempt_times(self) -> list[float]:
        """When each fresh (credential-less) REGISTER reached the operator."""
        return [t for t, r in self.operator.seen if "Authorization" not in r.headers]


def state_of(world: World) -> RegistrationState:
    """The state, read through a call so each assertion reads it afresh."""
    return world.reg.state


def test_first_registration_answers_the_digest_challenge() -> None:
    world = World()
    world.start()
    first, second = world.operator.registers()
    assert str(first.uri) == "sip:127.0.0.1:5080" == registrar_uri(make_trunk())
    assert str(first.to.uri) == str(first.from_.uri) == "sip:trunk1@127.0.0.1"
    assert [str(c.uri) for c in first.contacts] == [CONTACT]
    assert first.headers.get("Expires") == "600"
    assert "Authorization" not in first.headers and "Authorization" in second.headers
    assert second.call_id == first.call_id and second.from_.tag == first.from_.tag
    assert (first.cseq.seq, second.cseq.seq) == (1, 2)
    assert second.via.branch != first.via.branch
    status = world.reg.status
    assert status.state is State.REGISTERED and status.registered
    assert (status.last_status, status.expires_at, status.failures) == (200, 600.0, 0)
    assert status.next_attempt_at == pytest.approx(600 * 0.65)  # default jitter: the middle
    assert world.operator.bound == {CONTACT: 600}


def test_refresh_between_half_and_four_fifths_keeps_call_id_and_raises_cseq() -> None:
    world = World(jitter=lambda: 0.0)
    world.start()
    assert world.reg.get_timer() == 300.0
    world.advance(299)
    assert len(world.operator.seen) == 2
    world.advance(2)
    assert world.attempt_times() == [0.0, 300.0]
    assert state_of(world) is State.REGISTERED
    assert world.reg.status.expires_at == 900.0
    world.advance(400)
    requests = world.operator.registers()
    assert len(requests) == 6
    assert len({r.call_id for r in requests}) == 1
    assert len({r.from_.tag for r in requests}) == 1
    assert [r.cseq.seq for r in requests] == [1, 2, 3, 4, 5, 6]
    assert len({r.via.branch for r in requests}) == 6
    late = World(jitter=lambda: 1.0)
    late.start()
    assert late.reg.get_timer() == pytest.approx(480.0)


def test_short_interval_is_refreshed_five_seconds_before_expiry() -> None:
    world = World(jitter=lambda: 1.0, max_expires=12)
    world.start()
    assert world.reg.status.expires_at == 12.0
    assert world.reg.get_timer() == 7.0  # 0.8 * 12 would leave 2.4 s
    policy = RetryPolicy()
    assert policy.refresh_delay(3600, 0.0) == 1800
    assert policy.refresh_delay(3600, 1.0) == 2880
    assert policy.refresh_delay(4, 1.0) == pytest.approx(3.2)  # too short for the margin


def test_granted_interval_is_read_from_our_contact_then_expires() -> None:
    ours = parse_uri(CONTACT)

    def ok(*headers: tuple[str, str]) -> Response:
        return Response.build(200, [("CSeq", "1 REGISTER"), *headers])

    listed = ok(("Contact", "<sip:other@10.0.0.1>;expires=100"),
                ("Contact", "<sip:switch@127.0.0.1:5070;transport=udp>;expires=200"),
                ("Expires", "300"))
    assert granted_expires(listed, ours, 600) == 200
    assert granted_expires(ok(("Contact", "<sip:other@10.0.0.1>;expires=100"),
                              ("Expires", "300")), ours, 600) == 300
    assert granted_expires(ok(), ours, 600) == 600
    world = World(other_contacts=["<sip:desk@10.0.0.9>;expires=40"])
    world.start()
    assert world.reg.status.expires_at == 600.0


def test_423_adopts_min_expires_and_registers() -> None:
    world = World(min_expires=1800)
    world.start()
    statuses = [r.headers.get("Expires") for r in world.operator.registers()]
    assert statuses == ["600", "600", "1800", "1800"]
    assert state_of(world) is State.REGISTERED and world.reg.expires == 1800
    assert world.reg.status.expires_at == 1800.0
    assert [r.cseq.seq for r in world.operator.registers()] == [1, 2, 3, 4]


def test_423_without_a_larger_min_expires_is_a_failure() -> None:
    world = World(script=[(423, [("Min-Expires", "300")])])
    world.start()
    assert state_of(world) is State.FAILED
    assert world.reg.status.last_status == 423
    assert len(world.operator.seen) == 1


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    world = World(script=[(500, [])] * 7)
    world.start()
    assert state_of(world) is State.FAILED
    assert world.reg.status.next_attempt_at == 30.0
    world.advance(3000)
    times = world.attempt_times()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[:7] == [30, 60, 120, 240, 480, 900, 900]
    assert state_of(world) is State.REGISTERED  # the script ran out: digest and 200
    assert world.reg.status.failures == 0


def test_backoff_policy_is_configurable() -> None:
    policy = RetryPolicy(backoff_base=5, backoff_max=20)
    assert [policy.backoff_delay(n) for n in range(1, 6)] == [5, 10, 20, 20, 20]
    assert policy.backoff_delay(1000) == 20
    world = World(policy=policy, script=[(503, [])] * 3)
    world.start()
    world.advance(100)
    assert world.attempt_times() == [0, 5, 15, 35]


def test_retry_after_of_a_503_sets_the_next_attempt() -> None:
    world = World(script=[(503, [("Retry-After", "120 (maintenance);duration=60")])])
    world.start()
    assert world.reg.status.next_attempt_at == 120.0
    world.advance(119)
    assert world.attempt_times() == [0.0]
    world.advance(2)
    assert world.attempt_times() == [0.0, 120.0]
    assert state_of(world) is State.REGISTERED
    assert retry_after(Response.build(503, [("Retry-After", "junk")])) is None
    assert RetryPolicy().backoff_delay(1, 0.0) == 1.0  # never a tight loop
    assert RetryPolicy().backoff_delay(1, 10**6) == 3600.0


def test_no_answer_is_a_local_408_and_is_retried() -> None:
    world = World()
    world.online = False
    world.start()
    world.advance(31)
    assert state_of(world) is State.REGISTERING
    world.advance(2)
    status = world.reg.status
    assert status.state is State.FAILED
    assert (status.last_status, status.local) == (408, True)
    assert status.next_attempt_at == pytest.approx(32.0 + 30.0)
    world.online = True
    world.advance(31)
    assert state_of(world) is State.REGISTERED


def test_wrong_password_fails_and_is_retried_with_backoff_only() -> None:
    world = World(password="the-real-one")
    world.start()
    assert len(world.operator.seen) == 2
    status = world.reg.status
    assert status.state is State.FAILED
    assert (status.last_status, status.last_reason) == (401, "credentials refused")
    assert status.next_attempt_at == 30.0
    world.advance(1000)
    assert world.attempt_times() == [0, 30, 90, 210, 450, 930]
    assert len(world.operator.seen) == 12  # one challenge answered per attempt


def test_a_stale_challenge_is_answered_once_more() -> None:
    stale = [("WWW-Authenticate", c)
             for c in DigestServer(REALM, b"op-secret").challenge(0.0, stale=True)]
    world = World()
    fresh = [("WWW-Authenticate", c) for c in world.operator.digest.challenge(0.0)]
    world.operator.script = [(401, fresh), (401, stale)]
    world.start()
    assert len(world.operator.seen) == 3  # plain, credentials, credentials for the new nonce
    assert state_of(world) is State.REGISTERED
    twice = World()
    twice.operator.script = [(401, stale)] * 3
    twice.start()
    assert len(twice.operator.seen) == 3  # a second stale challenge in a row is refused
    assert twice.reg.status.last_reason == "credentials refused"
    assert state_of(twice) is State.FAILED


def test_stop_unregisters_with_expires_zero() -> None:
    world = World()
    world.start()
    world.advance(10)
    world.stop()
    assert state_of(world) is State.UNREGISTERED
    unregister = world.operator.registers()[2:]
    assert [r.headers.get("Expires") for r in unregister] == ["0", "0"]
    assert [str(r.contacts[0].uri) for r in unregister] == [CONTACT, CONTACT]
    assert [r.cseq.seq for r in world.operator.registers()] == [1, 2, 3, 4]
    assert world.operator.bound == {}
    status = world.reg.status
    assert (status.expires_at, status.next_attempt_at) == (None, None)
    assert world.reg.get_timer() is None
    world.advance(5000)
    assert len(world.operator.seen) == 4


def test_stop_while_registering_supersedes_the_first_register() -> None:
    world = World()
    world.online = False
    world.reg.start(world.now)
    world.run()
    world.online = True
    world.stop()
    assert state_of(world) is State.UNREGISTERED
    assert [r.headers.get("Expires") for r in world.operator.registers()] == ["0", "0"]
    world.advance(40)  # the first REGISTER times out; its 408 is ignored
    assert state_of(world) is State.UNREGISTERED and world.unclaimed == []


def test_stop_after_a_failure_sends_nothing_and_start_again_works() -> None:
    world = World(script=[(403, [])])
    world.start()
    world.stop()
    assert state_of(world) is State.UNREGISTERED and len(world.operator.seen) == 1
    world.start()
    assert state_of(world) is State.REGISTERED
    assert [r.cseq.seq for r in world.operator.registers()] == [1, 2, 3]


def test_unregistration_failure_still_ends_unregistered() -> None:
    world = World()
    world.start()
    world.operator.script = [(500, [])]
    world.stop()
    assert state_of(world) is State.UNREGISTERED
    assert world.reg.status.last_status == 500


def test_impossible_calls_raise() -> None:
    world = World()
    world.start()
    with pytest.raises(LocalProtocolError):
        world.reg.start(world.now)
    with pytest.raises(LocalProtocolError):
        TrunkRegistration(make_trunk(register=False, username=None, password=None),
                          world.sw, CONTACT)


def test_an_unresolvable_registrar_is_a_local_failure() -> None:
    world = World(trunk=make_trunk(host="sip.operator.example"))
    world.start()
    status = world.reg.status
    assert status.state is State.FAILED and status.local and status.last_status == 503
    assert status.next_attempt_at == 30.0


def test_registrar_uri_names_port_and_transport() -> None:
    assert registrar_uri(make_trunk(port=5060)) == "sip:127.0.0.1"
    assert registrar_uri(make_trunk(transport="tcp")) == "sip:127.0.0.1:5080;transport=tcp"
    assert registrar_uri(make_trunk(host="::1", port=5060)) == "sip:[::1]"


def test_state_changes_are_logged_without_the_password(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="softswitch.trunks")
    world = World(script=[(503, [])])
    world.start()
    world.advance(31)
    world.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "softswitch.trunks"]
    changes = [line.split(": ", 1)[1].split(" (")[0] for line in lines if "->" in line]
    assert changes == ["unregistered -> registering", "registering -> failed",
                       "failed -> registering", "registering -> registered",
                       "registered -> unregistering", "unregistering -> unregistered"]
    failed = next(r for r in caplog.records if "-> failed" in r.getMessage())
    assert failed.levelno == logging.WARNING and "503" in failed.getMessage()
    assert all("secret" not in line for line in lines)


def test_collection_dispatches_by_key_and_gives_the_earliest_timer() -> None:
    sw, op = make_endpoint(SW, "sw"), make_endpoint(OP, "op")
    trunks = [make_trunk(name="a"), make_trunk(name="quiet", register=False),
              make_trunk(name="b", register_expires=120)]
    regs = TrunkRegistrations(trunks, sw, lambda t: f"sip:{t.name}@127.0.0.1:5070")
    assert [r.trunk.name for r in regs] == ["a", "b"] and len(regs) == 2
    assert regs.get("quiet") is None and regs.stopped
    operator = Operator(op)
    regs.start(0.0)
    for _ in range(4):  # challenge and credentials for both trunks
        for dgram in sw.datagrams_to_send():
            op.receive_data(dgram.data, SW, 0.0)
        while (incoming := op.next_event()) is not None:
            assert isinstance(incoming, IncomingRequest)
            operator.handle(incoming, 0.0)
        for dgram in op.datagrams_to_send():
            sw.receive_data(dgram.data, OP, 0.0)
        while (event := sw.next_event()) is not None:
            assert isinstance(event, ResponseEvent) and regs.owns(event.key)
            assert regs.on_response(event, 0.0)
    assert [s.state for s in regs.statuses()] == [State.REGISTERED, State.REGISTERED]
    assert regs["b"].status.as_dict()["state"] == "registered"
    assert regs.get_timer() == pytest.approx(120 * 0.65)
    assert set(operator.bound) == {"sip:a@127.0.0.1:5070", "sip:b@127.0.0.1:5070"}
    assert not regs.owns("nobody") and not regs.stopped
    regs.handle_timer(78.0)
    assert regs["b"].status.next_attempt_at is None  # refresh in flight
    regs.stop(80.0)
    assert not regs.stopped
    assert regs.get_timer() is None
