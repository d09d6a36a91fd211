"""Who is calling and where the call goes: the first step of every INVITE.

A call from a trunk is accepted only from the trunk's allowed addresses (or
the address of the operator it registers to); any other caller must be an
enabled extension proving itself with digest authentication (F-SEC-1: no
call reaches a trunk without an authenticated, permitted caller). The pure
routing rules (:mod:`softswitch.routing`) then decide; this module turns a
decision into targets to ring.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from media.recorder import recording_path
from media.sdp import SdpError
from sipstack.endpoint_events import IncomingCall
from sipstack.errors import SipError
from sipstack.headers import NameAddr
from sipstack.uri import SipURI
from softswitch.call import Call, CallInfo, Target
from softswitch.callcontrol import disposition_for
from softswitch.cdr import CallRefused
from softswitch.config.directory import Extension
from softswitch.config.trunks import Trunk
from softswitch.feature_codes import handle_feature_code
from softswitch.legs import Credentials
from softswitch.route_runner import RouteRunner
from softswitch.routing import (
    Decision,
    DialOut,
    Forward,
    LineRouter,
    Refuse,
    RingExtension,
    RingQueue,
    RoutingState,
    Step,
    inbound_router,
    is_open,
    is_pickup_code,
    pickup_call,
    route_from_extension,
)
from softswitch.routing.state import number_digits
from softswitch.storage.records import Direction, Disposition

if TYPE_CHECKING:
    from softswitch.app import Softswitch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated or trusted origin of a call."""

    number: str
    name: str | None
    extension: Extension | None = None
    trunk: Trunk | None = None


def _user(uri: object) -> str | None:
    return uri.user_text if isinstance(uri, SipURI) else None


def refusal_disposition(router: LineRouter, refuse: Refuse, now: datetime,
                        state: RoutingState) -> Disposition:
    """Why the first step of a line's routing refused a call, for its CDR:
    the caller is blacklisted (F-ROUTE-8; the router looks at this first),
    the line is closed (F-ROUTE-7), or what the status itself means."""
    routing, hours = router.line.config.routing, router.line.plan.hours
    caller = number_digits(router.caller)
    if caller is not None and (caller in routing.blacklist or state.is_blacklisted(caller)):
        return Disposition.BLACKLISTED
    if hours is not None and not is_open(hours, now):
        return Disposition.CLOSED
    return disposition_for(refuse.status)


class InviteHandler:
    """Turns an :class:`IncomingCall` into a :class:`Call` (or a refusal)."""

    def __init__(self, app: Softswitch) -> None:
        self.app = app

    def handle(self, event: IncomingCall) -> None:
        app = self.app
        request = event.request
        trunk = None if self._from_phone(event) else app.trunk_for_source(event.source.host)
        if trunk is not None:
            caller = Caller(_user(request.from_.uri) or "anonymous",
                            request.from_.display_name, trunk=trunk)
            self._route_trunk_call(event, caller, trunk)
            return
        else:
            if not self._may_challenge(event):
                app.endpoint.answer(event.session, 403, app.now(), reason="Unknown peer")
                return
            extension = self._authenticate(event)
            if extension is None:
                return
            caller = Caller(extension.number, extension.display_name, extension=extension)
            if is_pickup_code(app.config, _user(request.uri)):
                self._pick_up(event, extension)
                return
            if handle_feature_code(app, event, extension):
                return
            decision = route_from_extension(app.config, extension, _user(request.uri))
        self._carry_out(event, caller, decision)

    def _from_phone(self, event: IncomingCall) -> bool:
        """A registered phone's own address, or credentials for our realm, mark
        a phone even where a trunk's allowed addresses would also match (say,
        everything on one host)."""
        headers = event.request.headers
        if "Proxy-Authorization" in headers or "Authorization" in headers:
            return True
        return self.app.location.has_source(event.source, self.app.wall_now())

    def _may_challenge(self, event: IncomingCall) -> bool:
        """Only what claims to be one of our phones earns a digest challenge;
        an unknown peer (a scanner, a trunk calling from the wrong address)
        is refused outright and creates no call."""
        if self._from_phone(event):
            return True
        return self.app.config.extension(_user(event.request.from_.uri) or "") is not None

    def _authenticate(self, event: IncomingCall) -> Extension | None:
        app = self.app
        now = app.wall_now()
        result = app.digest.check(event.request, app.registrar.ha1_lookup, now, proxy=True)
        if result.ok and result.username:
            extension = app.config.extension(result.username)
            if extension is not None and extension.enabled:
                return extension
        headers = [("Proxy-Authenticate", value)
                   for value in app.digest.challenge(now, result.stale)]
        app.endpoint.answer(event.session, 407, app.now(), headers=headers)
        return None

    def _pick_up(self, event: IncomingCall, picker: Extension) -> None:
        """The pickup code: take the call ringing a colleague of the same queue
        group (F-ROUTE-6), or 404 when there is none this phone may take."""
        app = self.app
        found = pickup_call(app.config.routing, picker.number, app.ringing_calls())
        call = app.calls.get(found.call_id) if found is not None else None
        if call is None or not call.pick_up(event.session, picker.number):
            log.info("pickup by %s refused: no call it may take", picker.number)
            app.endpoint.answer(event.session, 404, app.now(), reason="Nothing to pick up")

    def _route_trunk_call(self, event: IncomingCall, caller: Caller, trunk: Trunk) -> None:
        """A call from a trunk, driven by its line's routing plan (F-ROUTE-1..9)."""
        app, request = self.app, event.request
        router = inbound_router(app.config, trunk, _user(request.uri), _user(request.to.uri),
                                caller.number)
        if router is None:
            self._refuse(event, caller, trunk, _user(request.uri) or _user(request.to.uri) or "",
                         Refuse(404, "number not served on this trunk"), Disposition.UNAVAILABLE)
            return
        now = app.routing_now()
        try:
            first = router.first_step(now, app.routing_state)
        except Exception:
            log.exception("routing a call from %s on %s failed", caller.number, trunk.name)
            first = router.backup()
        if isinstance(first.step, Refuse):
            # Why, before the effects: closing may put the caller on the blacklist.
            why = refusal_disposition(router, first.step, now, app.routing_state)
            for effect in first.effects:
                app.routing_state.apply(effect)
            log.info("call from %s on %s refused with %d: %s", caller.number, trunk.name,
                     first.step.status, first.step.reason)
            self._refuse(event, caller, trunk, router.line.did or _user(request.uri) or "",
                         first.step, why)
            return
        info = self._routed_info(caller, trunk, router, first.step, _user(request.uri))
        call = self._new_call(event, caller, info)
        if call is None:
            return
        runner = RouteRunner(app, call, router, caller)
        call.driver = runner
        call.begin()
        runner.start(first)

    def _refuse(self, event: IncomingCall, caller: Caller, trunk: Trunk, callee: str,
                refuse: Refuse, disposition: Disposition) -> None:
        """Answer a trunk call the routing refused, and record it as a call
        that ended at once (its CDR row: F-ROUTE-7, F-ROUTE-8)."""
        app = self.app
        app.endpoint.answer(event.session, refuse.status, app.now())
        app.publish(CallRefused(uuid.uuid4().hex, event.request.call_id, caller.number, callee,
                                Direction.INBOUND, app.wall(), disposition, refuse.status,
                                refuse.reason, caller.name, trunk.name))

    def _routed_info(self, caller: Caller, trunk: Trunk, router: LineRouter,
                     step: Step, dialled: str | None) -> CallInfo:
        settings = self.app.config.calls
        callee = (step.number if isinstance(step, RingExtension)
                  else router.line.did or dialled or "")
        direction = Direction.FORWARDED if isinstance(step, Forward) else Direction.INBOUND
        return CallInfo(caller.number, callee, direction, caller.name, trunk.name,
                        settings.ring_timeout, self.app.config.max_call_duration_for(trunk))

    def route_targets(self, caller: Caller, step: Step) -> list[tuple[Target, float]]:
        """Whom a ringing step rings, each for how long."""
        ring_timeout = self.app.config.calls.ring_timeout
        if isinstance(step, RingExtension):
            return [(target, step.ring_time or ring_timeout)
                    for target in self.extension_targets(caller, step.number)]
        if isinstance(step, RingQueue):
            return [(target, member.ring_time) for member in step.targets
                    for target in self.extension_targets(caller, member.extension)]
        if isinstance(step, Forward):
            trunk = self.app.config.trunk(step.trunk)
            if trunk is None:
                return []
            return [(self.trunk_target(trunk, step.number, caller, step.caller_id),
                     ring_timeout)]
        return []

    def _new_call(self, event: IncomingCall, caller: Caller, info: CallInfo) -> Call | None:
        app = self.app
        call_id = uuid.uuid4().hex
        try:
            sdp = app.media_policy(call_id, event.request.body)
        except SdpError as exc:
            app.endpoint.answer(event.session, exc.status_hint, app.now(),
                                headers=[("Warning", f'399 softswitch "{exc.message}"')])
            return None
        recording = None
        if sdp.anchored and self._records(caller, info):
            recording = recording_path(app.config.recordings_dir, app.wall(), call_id)
        call = Call(app, call_id, info, event.session, sdp, recording,
                    announce=recording is not None and app.config.recording.announcement)
        app.calls[call.id] = call
        return call

    def _carry_out(self, event: IncomingCall, caller: Caller, decision: Decision) -> None:
        app = self.app
        if isinstance(decision, Refuse):
            app.endpoint.answer(event.session, decision.status, app.now(),
                                reason=None)
            return
        info, targets = self._plan(caller, decision)
        call = self._new_call(event, caller, info)
        if call is not None:
            call.start(targets)

    def _records(self, caller: Caller, info: CallInfo) -> bool:
        """Whether this call is recorded (F-MEDIA-3): calls on a line with
        record_calls, internal calls when the configuration asks."""
        app = self.app
        trunk = caller.trunk or (app.config.trunk(info.trunk) if info.trunk else None)
        if trunk is not None:
            return trunk.record_calls
        return app.config.recording.internal_calls

    def _plan(self, caller: Caller, decision: Decision) -> tuple[CallInfo, list[Target]]:
        app = self.app
        settings = app.config.calls
        if isinstance(decision, RingExtension):
            direction = Direction.INBOUND if caller.trunk else Direction.INTERNAL
            info = CallInfo(caller.number, decision.number, direction, caller.name,
                            caller.trunk.name if caller.trunk else None, settings.ring_timeout,
                            app.config.max_call_duration_for(caller.trunk))
            return info, self.extension_targets(caller, decision.number)
        assert isinstance(decision, DialOut)
        trunk = app.config.trunk(decision.trunk)
        assert trunk is not None
        info = CallInfo(caller.number, decision.number, Direction.OUTBOUND, caller.name,
                        trunk.name, settings.ring_timeout,
                        app.config.max_call_duration_for(trunk))
        return info, [self.trunk_target(trunk, decision.number, caller)]

    def extension_targets(self, caller: Caller, number: str) -> list[Target]:
        """One target per registered contact of extension ``number``."""
        app = self.app
        domain = app.config.sip.realm
        display = f'"{caller.name}" ' if caller.name else ""
        return [Target(uri=b.contact, from_=f"{display}<sip:{caller.number}@{domain}>",
                       to=f"<sip:{number}@{domain}>", destination=b.destination(),
                       peer=b.contact)
                for b in app.location.lookup(number, app.wall_now())]

    def trunk_target(self, trunk: Trunk, number: str, caller: Caller,
                     caller_id: str | None = None) -> Target:
        """The INVITE towards the operator, with the line's caller ID (or
        ``caller_id``, for a forwarded call that keeps the client's number)."""
        address = self.app.trunk_address(trunk)
        caller_id = caller_id or trunk.caller_id or caller.number
        host = trunk.host if ":" not in trunk.host else f"[{trunk.host}]"
        credentials = None
        if trunk.username and trunk.password is not None:
            credentials = Credentials(trunk.username, trunk.password.get_secret_value())
        return Target(uri=f"sip:{number}@{host}:{trunk.port}",
                      from_=f"<sip:{caller_id}@{host}>", to=f"<sip:{number}@{host}>",
                      destination=address, credentials=credentials,
                      peer=f"{trunk.name}:{number}")

    def transfer_targets(self, call: Call, refer_to: str, by_caller: bool) -> list[Target]:
        """Targets for a blind transfer to ``refer_to``: the party who stays
        (the transferee) is who the target sees calling, and the party who
        transfers must be allowed to reach the target (an extension, or an
        outside number when that extension may dial out)."""
        try:
            user = _user(NameAddr.parse(refer_to).uri)
        except SipError:
            return []
        app = self.app
        info = call.info
        if by_caller:
            transferee = Caller(info.callee, app.display_name(info.callee))
            transferor = app.config.extension(info.caller)
        else:
            transferee = Caller(info.caller, info.caller_name)
            transferor = app.config.extension(info.callee)
        if transferor is None:
            extension = app.config.extension(user or "")
            decision: Decision = (RingExtension(extension.number)
                                  if extension is not None and extension.enabled
                                  else Refuse(403, "transfer target not allowed"))
        else:
            decision = route_from_extension(app.config, transferor, user)
        if isinstance(decision, RingExtension):
            return self.extension_targets(transferee, decision.number)
        if isinstance(decision, DialOut):
            trunk = app.config.trunk(decision.trunk)
            return ([] if trunk is None
                    else [self.trunk_target(trunk, decision.number, transferee)])
        return []
