"""Feature codes dialled from an employee's own desk phone: the working state
queue groups see (F-ROUTE-5).

``routing.status_codes`` maps codes to states (``*71`` working, ``*72`` on a
break, ``*73`` not started / signed off). The phone's INVITE to such a code,
once digest-authenticated as an extension, sets *that* extension's state;
nobody can set a colleague's. The caller is then told, the way PBX feature
codes have always done it: the switch answers the INVITE (RFC 3261 §13.3.1.4,
its own SDP through the media bridge), plays a short built-in confirmation
(``status_working``, ``status_break``, ``status_not_started``) and hangs up
with a BYE (§15). A phone shows no reliable text for a rejected call, and a
2xx without a session is not possible for INVITE, so a spoken confirmation is
what the employee can trust. Should the switch not anchor media (no SDP of
its own to answer with), the state is still set and the INVITE gets a final
``480`` whose reason phrase names the new state, which phones with a display
show. The confirmation call gets a CDR like any internal call.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from media.sdp import SdpError
from sipstack.endpoint_events import IncomingCall
from sipstack.uri import SipURI
from softswitch.call import Call, CallInfo, Cancelable
from softswitch.callcontrol import Release
from softswitch.config.directory import Extension
from softswitch.routing.state import MemberStatus
from softswitch.storage.records import Direction, Disposition

if TYPE_CHECKING:
    from softswitch.app import Softswitch
    from softswitch.config import Config

__all__ = ["CONFIRMATIONS", "CONFIRMATION_LIMIT", "Confirmation", "dialled_status",
           "handle_feature_code"]

log = logging.getLogger(__name__)

CONFIRMATIONS: dict[MemberStatus, str] = {
    MemberStatus.WORKING: "status_working",
    MemberStatus.BREAK: "status_break",
    MemberStatus.NOT_STARTED: "status_not_started",
}
"""The built-in prompt (media.builtin) confirming each state."""

CONFIRMATION_LIMIT = 15.0  # seconds: hang up even if the media worker never reports the end
ERROR_PAUSE = 1.0  # seconds before hanging up when the confirmation cannot be played
UNANCHORED_STATUS = 480  # the final response when there is no media to speak with


def dialled_status(config: Config, dialled: str | None) -> MemberStatus | None:
    """The state a phone dialling ``dialled`` asks for, or None (not a status code)."""
    return None if dialled is None else config.routing.status_codes.get(dialled)


def handle_feature_code(app: Softswitch, event: IncomingCall, extension: Extension) -> bool:
    """Handle ``event`` if it dials a status feature code: set the state of
    ``extension`` (the authenticated caller) and confirm it. False when the
    request is not a feature code (nothing has been done)."""
    uri = event.request.uri
    code = uri.user_text if isinstance(uri, SipURI) else None
    status = dialled_status(app.config, code)
    if status is None or code is None:
        return False
    app.routing_state.set_status(extension.number, status, f"feature code {code}")
    _confirm(app, event, extension, code, status)
    return True


def _confirm(app: Softswitch, event: IncomingCall, extension: Extension, code: str,
             status: MemberStatus) -> None:
    """Answer, play the confirmation, hang up; or a final response without media."""
    call_id = uuid.uuid4().hex
    try:
        sdp = app.media_policy(call_id, event.request.body)
    except SdpError as exc:
        log.info("status code %s from %s: no common codec (%s)", code, extension.number,
                 exc.message)
        sdp = None
    if sdp is None or not sdp.anchored:
        app.endpoint.answer(event.session, UNANCHORED_STATUS, app.now(),
                            reason=f"Status set: {status.value}")
        return
    settings = app.config
    info = CallInfo(extension.number, code, Direction.INTERNAL, extension.display_name,
                    None, settings.calls.ring_timeout, settings.max_call_duration_for(None))
    call = Call(app, call_id, info, event.session, sdp)
    app.calls[call.id] = call
    confirmation = Confirmation(app, call, CONFIRMATIONS[status])
    call.driver = confirmation
    call.begin()
    confirmation.start()


class Confirmation:
    """Drives a feature-code call: answer, one prompt, BYE (a ``CallDriver``)."""

    def __init__(self, app: Softswitch, call: Call, prompt: str) -> None:
        self.app = app
        self.call = call
        self.prompt = prompt
        self._timer: Cancelable | None = None
        self.ended = False

    def start(self) -> None:
        if not self.call.answer_caller():
            self.call.refuse(UNANCHORED_STATUS, "no media to confirm with")
            return
        self.call.play_to_caller(self.prompt)
        self._timer = self.app.call_later(CONFIRMATION_LIMIT, self._done)

    def _done(self) -> None:
        self.call.finish(Disposition.ANSWERED, "feature code confirmed")

    # -- CallDriver ---------------------------------------------------------------------

    def on_media(self, name: str, args: tuple[Any, ...]) -> None:
        if self.ended:
            return
        if name == "played" and tuple(args[:2]) == ("a", self.prompt):
            self._done()
        elif name == "error":
            # The prompt cannot be played (no espeak-ng, say): the state is set
            # anyway; hang up after a moment, not before the phone's ACK.
            self._cancel_timer()
            self._timer = self.app.call_later(ERROR_PAUSE, self._done)

    def no_answer(self, failure: Release) -> bool:
        return False  # nothing rings

    def answered(self) -> None:
        """Nothing to do: the switch itself is the answering party."""

    def left_disposition(self) -> Disposition:
        return Disposition.ANSWERED  # hung up during the confirmation: the state is set

    def close(self) -> None:
        self.ended = True
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
