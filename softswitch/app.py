"""The softswitch process: configuration, SIP endpoint, registrar, calls, CDRs.

:class:`Softswitch` owns one sans-IO :class:`~sipstack.endpoint.Endpoint`
driven by a :class:`~sipstack.transport.Runner`, and dispatches what the
endpoint reports: REGISTER to the registrar, OPTIONS answered, INVITEs to
:class:`~softswitch.inbound.InviteHandler`, session events to the legs of
their calls. It is also the ``CallHost`` every call uses for clocks, timers
and CDR facts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from media.sdp import SdpError
from media.transport.engine import MediaEngine
from sipstack.auth import DigestServer
from sipstack.dialog import InviteSession, TimerConfig, ViaConfig
from sipstack.endpoint import Endpoint, EndpointConfig
from sipstack.endpoint_events import IncomingCall, IncomingRequest, ResponseEvent, SessionEvent
from sipstack.errors import SipError
from sipstack.events import Address, IdFactory
from sipstack.transport import Runner
from sipstack.transport.ids import RandomIds
from softswitch.call import Call, Cancelable, Phase, Target
from softswitch.cdr import CdrFact
from softswitch.config import Config
from softswitch.config.trunks import Trunk
from softswitch.inbound import Caller, InviteHandler
from softswitch.legs import Leg
from softswitch.location import LocationService
from softswitch.media_bridge import MediaBridge
from softswitch.media_policy import Anchored, PassThrough, SdpPolicy
from softswitch.persistence import Persistence
from softswitch.registrar import Registrar, RegistrarSettings
from softswitch.routing import MemoryRoutingState, RingingCall, Step
from softswitch.storage.routing_sync import RoutingStateStore
from softswitch.trunks.links import TrunkLinks

log = logging.getLogger("softswitch")

ALLOW = ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "UPDATE", "REFER",
         "NOTIFY", "INFO", "PRACK")
HEARTBEAT = 15.0  # seconds between CDR heartbeats of active calls
# For tests only: an ISO 8601 date and time (with its UTC offset) that the
# routing clock (working hours, F-ROUTE-7) starts from; it then runs on.
FAKE_NOW_VARIABLE = "SOFTSWITCH_FAKE_NOW"


def _routing_clock(variable: str | None) -> Callable[[], datetime]:
    """The clock routing decisions read: real time, or a shifted one for tests."""
    if not variable:
        return lambda: datetime.now(UTC)
    start = datetime.fromisoformat(variable)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    began = time.monotonic()
    log.warning("routing clock starts at %s (%s)", start.isoformat(), FAKE_NOW_VARIABLE)
    return lambda: start + timedelta(seconds=time.monotonic() - began)


class _Timer:
    """A loop timer whose callback is followed by a pump of the runner."""

    def __init__(self, handle: asyncio.TimerHandle) -> None:
        self.handle = handle

    def cancel(self) -> None:
        self.handle.cancel()


class Softswitch:
    """One softswitch node (see the module doc)."""

    def __init__(self, config: Config, *, node: str = "",
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.node = node
        self.wall_now = wall_clock
        self.location = LocationService()
        secret = hashlib.sha256(f"{config.database_url}|{config.sip.realm}".encode()).digest()
        self.digest = DigestServer(config.sip.realm, secret,
                                   algorithms=tuple(config.sip.digest_algorithms))
        self.registrar = Registrar(self.location, self.digest, self._password,
                                   RegistrarSettings(config.registrar.min_expires,
                                                     config.registrar.max_expires,
                                                     config.registrar.default_expires))
        self.calls: dict[str, Call] = {}
        self.legs: dict[int, Leg] = {}
        self.invites = InviteHandler(self)
        self.routing_state = MemoryRoutingState(
            lambda number: bool(self.location.lookup(number, self.wall_now())),
            config.routing.member_status, config.routing.blacklist)
        self.routing_now = _routing_clock(os.environ.get(FAKE_NOW_VARIABLE))
        self.routing_store: RoutingStateStore | None = None  # opened with storage at start
        self.ids: IdFactory = RandomIds(config.sip.realm)
        self.endpoint: Endpoint = self._make_endpoint()
        self.runner: Runner | None = None
        self.persistence: Persistence | None = None
        self.addresses: list[Address] = []
        self.trunks = TrunkLinks(config.trunks, self.endpoint)
        self._tasks: list[asyncio.TimerHandle] = []
        self._stopped = asyncio.Event()
        media = config.media
        self.media = MediaEngine(self._on_media_event, host=config.media_host,
                                 ports=(media.port_min, media.port_max),
                                 workers=media.workers or None, prompts=config.prompts_dir,
                                 rtp_timeout=media.rtp_timeout, language=media.language)

    # -- lifecycle ----------------------------------------------------------------

    def _make_endpoint(self) -> Endpoint:
        first = self.config.sip.listeners[0]
        host = first.host
        contact_host = f"[{host}]" if ":" in host else host
        config = EndpointConfig(
            via=ViaConfig(host, first.port, first.transport.upper()),
            contact=f"<sip:{contact_host}:{first.port}>",
            user_agent=self.config.sip.user_agent, allow=ALLOW,
            session_timer=TimerConfig(self.config.calls.session_expires))
        return Endpoint(self.ids, config)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.persistence = await asyncio.to_thread(Persistence, self.config.database_url,
                                                   self.node)
        recovered = await asyncio.to_thread(self.persistence.recover, self.location,
                                            self.wall_now())
        if recovered:
            log.warning("finished %d call records left open by an earlier run",
                        len(recovered))
        # Run-time statuses and blacklisted numbers of earlier runs come back.
        self.routing_store = RoutingStateStore(self.persistence.storage, self.wall)
        await self.routing_store.attach(self.routing_state,
                                        lambda n: self.config.extension(n) is not None)
        await self.trunks.resolve()
        await asyncio.to_thread(self._prepare_prompts)
        if self.config.media.anchor:
            await self.media.start()
        self.runner = Runner(self.endpoint, self._on_event, loop)
        for listener in self.config.sip.listeners:
            if listener.transport == "udp":
                bound = await self.runner.listen_udp(listener.host, listener.port)
            else:
                bound = await self.runner.listen_tcp(listener.host, listener.port)
            self.addresses.append(bound)
            log.info("listening on %s", bound)
        self._every(HEARTBEAT, self._heartbeat)
        self.trunks.start(loop, self.now, self.runner.pump)
        log.info("softswitch ready: %d extensions, %d trunks, %d bindings restored",
                 len(self.config.extensions), len(self.config.trunks),
                 self.location.count(self.wall_now()))

    def _prepare_prompts(self) -> None:
        """Generate the built-in prompts once, before the workers need them."""
        from media.prompts import PromptStore

        try:
            PromptStore(self.config.prompts_dir).preload((self.config.media.language,))
        except Exception as exc:  # announcements missing must not stop calls
            log.error("built-in prompts unavailable: %s", exc)

    async def stop(self) -> None:
        """End every call (BYE/CANCEL), write their CDRs, close the sockets."""
        for call in list(self.calls.values()):
            call.hang_up("softswitch stopping")
        if self.runner is not None:
            self.trunks.stop()
            self.runner.pump()
            await asyncio.sleep(0.2)  # let the BYEs, CANCELs and un-REGISTERs leave
            for _ in range(20):
                if self.trunks.stopped:
                    break
                await asyncio.sleep(0.1)
        self.trunks.cancel_timer()
        for handle in self._tasks:
            handle.cancel()
        if self.runner is not None:
            await self.runner.close()
        await self.media.stop()
        if self.routing_store is not None:
            await asyncio.to_thread(self.routing_store.close)
        if self.persistence is not None:
            await self.persistence.close()
        self._stopped.set()
        log.info("softswitch stopped")

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    def _every(self, period: float, fn: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()

        def tick() -> None:
            fn()
            self._tasks.append(loop.call_later(period, tick))

        self._tasks.append(loop.call_later(period, tick))

    def _heartbeat(self) -> None:
        if self.persistence is not None:
            if self.calls:
                self.persistence.heartbeat()
            gone = self.location.purge(self.wall_now())
            if gone:
                self.persistence.binding_changed((), tuple(gone))

    # -- CallHost -------------------------------------------------------------------

    def now(self) -> float:
        return self.runner.now() if self.runner is not None else time.monotonic()

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self.wall_now(), UTC)

    def bind(self, session: InviteSession, leg: Leg | None) -> None:
        if leg is None:
            self.legs.pop(id(session), None)
        else:
            self.legs[id(session)] = leg

    def call_later(self, delay: float, fn: Callable[[], None]) -> Cancelable:
        loop = asyncio.get_running_loop()

        def run() -> None:
            fn()
            if self.runner is not None:
                self.runner.pump()

        return _Timer(loop.call_later(delay, run))

    def publish(self, fact: CdrFact) -> None:
        if self.persistence is not None:
            self.persistence.record(fact)

    def transfer_targets(self, call: Call, target: str, by_caller: bool) -> list[Target]:
        return self.invites.transfer_targets(call, target, by_caller)

    def route_targets(self, caller: Caller, step: Step) -> list[tuple[Target, float]]:
        return self.invites.route_targets(caller, step)

    def ringing_calls(self) -> list[RingingCall]:
        """Calls ringing employees now, for the pickup code (F-ROUTE-6)."""
        found = []
        for call in self.calls.values():
            ringing, queue = call.ringing_for
            if call.phase is Phase.RINGING and call.forks and ringing:
                found.append(RingingCall(call.id, ringing, queue,
                                         call.started_at or self.wall()))
        return found

    def voicemail_dir(self) -> Path:
        return self.config.data_dir / "voicemail"

    def finished(self, call: Call) -> None:
        self.calls.pop(call.id, None)

    # -- lookups ----------------------------------------------------------------------

    def _password(self, username: str) -> str | None:
        extension = self.config.extension(username)
        if extension is None or not extension.enabled:
            return None
        return extension.password.get_secret_value()

    def media_policy(self, call_id: str, caller_body: bytes) -> SdpPolicy:
        """Anchored media for a new call (raises SdpError for an offer with
        nothing in common), or pass-through when anchoring is off."""
        if not self.config.media.anchor:
            return PassThrough(caller_body)
        bridge = MediaBridge(self.media.open(call_id), random.getrandbits(31),
                             self.config.media.language, self.config.media.inband_dtmf)
        try:
            bridge.caller_offered(caller_body)
        except SdpError:
            bridge.close()
            raise
        return Anchored(bridge)

    def display_name(self, number: str) -> str | None:
        extension = self.config.extension(number)
        return None if extension is None else extension.display_name

    def trunk_for_source(self, host: str) -> Trunk | None:
        """The trunk an INVITE from ``host`` belongs to, if it may send calls."""
        return self.trunks.for_source(host)

    def trunk_address(self, trunk: Trunk) -> Address | None:
        return self.trunks.address(trunk)

    # -- endpoint events ------------------------------------------------------------------

    def _on_media_event(self, message: tuple[Any, ...]) -> None:
        call = self.calls.get(str(message[1]))
        if call is not None:
            call.on_media(message[0], message[2:])
            if self.runner is not None:
                self.runner.pump()

    def _on_event(self, event: Any) -> None:
        if isinstance(event, SessionEvent):
            leg = self.legs.get(id(event.session))
            if leg is not None:
                leg.on_output(event.event)
        elif isinstance(event, IncomingCall):
            self.invites.handle(event)
        elif isinstance(event, IncomingRequest):
            self._on_request(event)
        elif isinstance(event, ResponseEvent):
            self._on_response(event)

    def _on_request(self, event: IncomingRequest) -> None:
        method = event.request.method
        if method == "REGISTER":
            self._on_register(event)
        elif method == "OPTIONS":
            self.endpoint.respond(event, 200, self.now(),
                                  headers=[("Allow", ", ".join(ALLOW)),
                                           ("Accept", "application/sdp")])
        else:
            self.endpoint.respond(event, 405, self.now(),
                                  headers=[("Allow", ", ".join(ALLOW))])

    def _on_register(self, event: IncomingRequest) -> None:
        try:
            outcome = self.registrar.register(event.request, event.source, self.wall_now())
        except SipError as exc:
            self.endpoint.respond(event, exc.status_hint or 400, self.now())
            return
        self.endpoint.respond(event, outcome.status, self.now(), headers=outcome.headers)
        if outcome.status == 200:
            # A log line per REGISTER cost ~9 % of a registration storm: refreshes
            # are routine, so they are logged only at DEBUG.
            if log.isEnabledFor(logging.DEBUG):
                log.debug("REGISTER %s from %s: %d contact(s)", outcome.user, event.source,
                          len(self.location.lookup(outcome.user or "", self.wall_now())))
            if self.persistence is not None and (outcome.added or outcome.removed):
                self.persistence.binding_changed(outcome.added, outcome.removed)
        elif outcome.status != 401 or outcome.reason:
            log.info("REGISTER from %s refused: %d %s", event.source, outcome.status,
                     outcome.reason)

    def _on_response(self, event: ResponseEvent) -> None:
        if self.trunks.on_response(event):
            return
        log.debug("response %d to %s", event.response.status, event.request.method)
