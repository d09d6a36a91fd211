"""Trunk registration (F-SIP-4, F-OUT-5) against SIPp playing the operator's registrar.

The softswitch side is the sans-IO Endpoint driven by sipstack's asyncio
Runner over real sockets on 127.0.0.1, with a TrunkRegistration wired the way
the application wires it: ResponseEvents whose key it owns go to it, and one
loop timer follows its ``get_timer``. SIPp runs REGISTRAR_DIGEST: a 401
challenge (MD5, qop=auth), 200 with ``Expires: 300`` for the right password
or 403 for a wrong one, then 200 to the unregistration (unchallenged).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from peers import REGISTRAR_DIGEST, SippProcess, free_port

from sipstack.dialog import ViaConfig
from sipstack.endpoint import Endpoint, EndpointConfig
from sipstack.endpoint_events import ResponseEvent
from sipstack.transport import Runner
from sipstack.transport.ids import RandomIds
from softswitch.config import Trunk
from softswitch.trunks import RegistrationState, TrunkRegistration, TrunkStatus

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

SippFactory = Callable[..., SippProcess]
DIGEST_KEYS = {"user": "101", "password": "demo101", "realm": "operator.test"}
State = RegistrationState


@dataclass
class Switch:
    """An endpoint on real sockets with one trunk registration, as the app runs it."""

    trunk: Trunk
    port: int = field(default_factory=lambda: free_port("udp"))
    seen: list[ResponseEvent] = field(default_factory=list)

    async def open(self) -> TrunkRegistration:
        contact = f"sip:switch@127.0.0.1:{self.port}"
        self.endpoint = Endpoint(RandomIds("127.0.0.1"),
                                 EndpointConfig(via=ViaConfig("127.0.0.1", self.port),
                                                contact=f"<{contact}>"))
        self.registration = TrunkRegistration(self.trunk, self.endpoint, contact)
        self.runner = Runner(self.endpoint, self._on_event)
        self._timer: asyncio.TimerHandle | None = None
        await self.runner.listen_udp("127.0.0.1", self.port)
        await self.runner.listen_tcp("127.0.0.1", self.port)
        return self.registration

    def _on_event(self, event: object) -> None:
        if isinstance(event, ResponseEvent) and self.registration.owns(event.key):
            self.seen.append(event)
            self.registration.on_response(event, self.runner.now())
            self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.registration.get_timer()
        if deadline is not None:
            self._timer = self.runner.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.registration.handle_timer(self.runner.now())
        self.runner.pump()
        self._arm()

    def start(self) -> None:
        self.registration.start(self.runner.now())
        self.runner.pump()

    def stop(self) -> None:
        self.registration.stop(self.runner.now())
        self.runner.pump()
        self._arm()

    async def wait_for(self, *states: RegistrationState, timeout: float = 5.0) -> TrunkStatus:
        deadline = self.runner.now() + timeout
        while self.registration.state not in states:
            if self.runner.now() > deadline:
                raise AssertionError(f"still {self.registration.status} after {timeout} s")
            await asyncio.sleep(0.01)
        return self.registration.status

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await self.runner.close()


def _trunk(registrar: SippProcess, password: str, transport: str) -> Trunk:
    return Trunk.model_validate({
        "name": "operator", "host": "127.0.0.1", "port": registrar.port,
        "transport": transport, "username": "101", "password": password,
        "register": True, "register_expires": 600})


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_trunk_registers_with_digest_and_unregisters(
        sipp_servers: SippFactory, transport: str) -> None:
    registrar = sipp_servers(scenario=REGISTRAR_DIGEST, calls=1, variables=DIGEST_KEYS,
                             transport=transport)
    switch = Switch(_trunk(registrar, "demo101", transport))

    async def main() -> tuple[TrunkStatus, float, TrunkStatus]:
        await switch.open()
        try:
            switch.start()
            registered = await switch.wait_for(State.REGISTERED, State.FAILED)
            now = switch.runner.now()
            switch.stop()
            return registered, now, await switch.wait_for(State.UNREGISTERED)
        finally:
            await switch.close()

    registered, at, unregistered = asyncio.run(main())
    assert registered.state is State.REGISTERED, registered
    assert registered.last_status == 200
    assert registered.expires_at is not None
    assert registered.expires_at - at == pytest.approx(300, abs=1)  # the 200's Expires
    assert registered.next_attempt_at is not None
    assert 150 <= registered.next_attempt_at - at <= 240
    assert unregistered.last_status == 200 and unregistered.expires_at is None
    requests = [e.request for e in switch.seen]
    assert [r.cseq.seq for r in requests] == [1, 2, 3]  # the scenario does not
    assert len({r.call_id for r in requests}) == 1      # challenge the unregistration
    assert [r.headers.get("Expires") for r in requests] == ["600", "600", "0"]
    assert "Authorization" in requests[1].headers
    result = registrar.wait(timeout=5)
    assert result.all_successful, result.summary()


def test_trunk_with_a_wrong_password_fails_and_waits_to_retry(
        sipp_servers: SippFactory) -> None:
    registrar = sipp_servers(scenario=REGISTRAR_DIGEST, calls=1, variables=DIGEST_KEYS)
    switch = Switch(_trunk(registrar, "wrong", "udp"))

    async def main() -> tuple[TrunkStatus, float, int]:
        await switch.open()
        try:
            switch.start()
            failed = await switch.wait_for(State.FAILED, State.REGISTERED)
            now = switch.runner.now()
            await asyncio.sleep(1.0)  # nothing more is sent: the retry is 30 s away
            return failed, now, len(switch.seen)
        finally:
            await switch.close()

    failed, at, answered = asyncio.run(main())
    assert failed.state is State.FAILED, failed
    assert failed.last_status == 403
    assert failed.next_attempt_at is not None
    assert failed.next_attempt_at - at == pytest.approx(30, abs=1)
    assert answered == 2
    result = registrar.stop()
    assert (result.successful, result.failed) == (0, 1), result.summary()
