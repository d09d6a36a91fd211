"""A minimal registrar + UAS built from sipstack alone, run in a thread.

It is the stack under test in the peer tests: pjsua2 registers to it with
digest auth and calls it; SIPp's ``uac`` scenario calls it. It answers
REGISTER (digest), OPTIONS and every INVITE (180, then 200 with SDP), and can
end answered calls itself with BYE after ``bye_after`` seconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peers import free_port

from sipstack.auth import DigestServer, ha1
from sipstack.dialog import Confirmed, InviteSession, Terminated, ViaConfig
from sipstack.endpoint import Endpoint, EndpointConfig
from sipstack.endpoint_events import IncomingCall, IncomingRequest, SessionEvent
from sipstack.events import Address
from sipstack.transport import Runner, new_event_loop
from sipstack.transport.ids import RandomIds

SDP = (b"v=0\r\no=stack 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
       b"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")


@dataclass
class Record:
    """What the peer saw, for the test to assert on (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    registrations: dict[str, list[str]] = field(default_factory=dict)
    register_codes: list[int] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)
    ended: list[tuple[str, str, str]] = field(default_factory=list)  # call-id, reason, by


class StackPeer:
    """Registrar + answering UAS on 127.0.0.1 over UDP and TCP."""

    def __init__(self, users: dict[str, str] | None = None, *, port: int = 0,
                 realm: str = "stack.test", bye_after: float | None = None,
                 ring_for: float = 0.0, algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
                 reject_calls: int | None = None) -> None:
        self.users = users or {}
        self.realm = realm
        self.bye_after = bye_after
        self.ring_for = ring_for
        self.reject_calls = reject_calls
        self.record = Record()
        self.digest = DigestServer(realm, b"test-secret", algorithms=algorithms)
        self._port = port
        self._algorithms = algorithms
        self._loop = new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self.address: Address | None = None
        self.endpoint: Endpoint | None = None
        self.runner: Runner | None = None

    # -- lifecycle -----------------------------------------------------------------

    def __enter__(self) -> StackPeer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("stack peer did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.call_soon(self._loop.stop)
        self._thread.join(10)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self._loop.call_soon_threadsafe(fn, *args)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        assert self.runner is not None
        self._loop.run_until_complete(self.runner.close())
        self._loop.close()

    async def _start(self) -> None:
        for _ in range(20):  # a port free for UDP may be a TCP client's: retry
            port = self._port or free_port()
            try:
                await self._bind(port)
                return
            except OSError:
                if self.runner is not None:
                    await self.runner.close()
                if self._port:
                    raise
        raise RuntimeError("no free port for the stack peer")

    async def _bind(self, port: int) -> None:
        allow = ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER")
        self.endpoint = Endpoint(RandomIds("127.0.0.1"), EndpointConfig(
            via=ViaConfig("127.0.0.1", port), contact=f"<sip:stack@127.0.0.1:{port}>",
            user_agent="sipstack-test-peer", allow=allow))
        self.runner = Runner(self.endpoint, self._on_event, self._loop)
        await self.runner.listen_tcp("127.0.0.1", port)
        self.address = await self.runner.listen_udp("127.0.0.1", port)

    def wait(self, predicate: Callable[[Record], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.record.lock:
                if predicate(self.record):
                    return True
            time.sleep(0.02)
        return False

    # -- SIP behaviour -------------------------------------------------------------

    @property
    def _now(self) -> float:
        return self._loop.time()

    def _on_event(self, event: object) -> None:
        assert self.endpoint is not None
        if isinstance(event, IncomingRequest):
            self._on_request(event)
        elif isinstance(event, IncomingCall):
            self._on_call(event)
        elif isinstance(event, SessionEvent):
            self._on_session(event)

    def _on_request(self, event: IncomingRequest) -> None:
        assert self.endpoint is not None
        method = event.request.method
        if method == "REGISTER":
            self._on_register(event)
        elif method == "OPTIONS":
            self.endpoint.respond(event, 200, self._now,
                                  headers=[("Allow", ", ".join(self.endpoint.config.allow))])
        else:
            self.endpoint.respond(event, 405, self._now,
                                  headers=[("Allow", ", ".join(self.endpoint.config.allow))])

    def _ha1(self, username: str, algorithm: str) -> str | None:
        password = self.users.get(username)
        return None if password is None else ha1(username, self.realm, password, algorithm)

    def _on_register(self, event: IncomingRequest) -> None:
        assert self.endpoint is not None
        request = event.request
        result = self.digest.check(request, self._ha1, self._now)
        if not result.ok:
            response = self.digest.challenge_response(request, self._now, stale=result.stale,
                                                      to_tag="reg")
            self.endpoint.transactions.send_response(event.key, response, self._now)
            with self.record.lock:
                self.record.register_codes.append(response.status)
            return
        contacts = [str(c.uri) for c in request.contacts]
        expires = request.header_int("Expires")
        with self.record.lock:
            user = result.username or ""
            if expires == 0 or request.contact_star:
                self.record.registrations.pop(user, None)
            else:
                self.record.registrations[user] = contacts
            self.record.register_codes.append(200)
        headers = [("Contact", f"{c};expires={expires or 3600}") for c in
                   request.headers.get_all("Contact") if c != "*" and expires != 0]
        self.endpoint.respond(event, 200, self._now, headers=headers)

    def _on_call(self, event: IncomingCall) -> None:
        assert self.endpoint is not None
        session = event.session
        with self.record.lock:
            self.record.calls.append(event.request.call_id)
        if self.reject_calls is not None:
            self.endpoint.answer(session, self.reject_calls, self._now)
            return
        self.endpoint.answer(session, 180, self._now)
        if self.ring_for:
            self._loop.call_later(self.ring_for, self._answer, session)
        else:
            self._answer(session)

    def _answer(self, session: InviteSession) -> None:
        assert self.endpoint is not None and self.runner is not None
        if session.state.value in ("Terminated",):
            return
        self.endpoint.answer(session, 200, self._now, body=SDP)
        self.runner.pump()

    def _on_session(self, event: SessionEvent) -> None:
        assert self.runner is not None
        call_id = event.session.invite.call_id
        if isinstance(event.event, Confirmed):
            with self.record.lock:
                self.record.confirmed.append(call_id)
            if self.bye_after is not None:
                self._loop.call_later(self.bye_after, self._bye, event.session)
        elif isinstance(event.event, Terminated):
            with self.record.lock:
                self.record.ended.append((call_id, event.event.reason, event.event.by.value))

    def _bye(self, session: InviteSession) -> None:
        assert self.endpoint is not None and self.runner is not None
        if session.state.value == "Confirmed":
            self.endpoint.apply(session, session.bye(), self._now)
            self.runner.pump()
