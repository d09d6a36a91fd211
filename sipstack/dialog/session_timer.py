"""Session timers (RFC 4028): keep-alive of a call by periodic refreshes.

- §4/§5 ``Session-Expires: <seconds>;refresher=uac|uas`` and ``Min-SE``; no
  interval below 90 s. ``refresher`` names a role in the refresh request's
  own transaction (the UAC of a re-INVITE sent by the callee is the callee).
- §8/§9 the UAS of an INVITE or UPDATE: a Session-Expires below its minimum
  gets 422 with Min-SE (:func:`too_small`); otherwise the 2xx carries the
  negotiated interval and refresher (:func:`negotiate_as_uas`), with
  ``Require: timer`` when the UAC supports the extension.
- §7 the UAC: the 2xx's Session-Expires sets the timer; a 2xx without it
  turns the timer off; a 422 is retried with the interval from its Min-SE.
- §10 the refresher sends a refresh at half the interval (an UPDATE without
  body if the peer allows UPDATE, else a re-INVITE with our last SDP); the
  other side sends BYE if no refresh came by the expiry less
  min(32 s, interval/3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipstack.dialog.events import By, Output
from sipstack.dialog.states import SessionState
from sipstack.errors import RemoteProtocolError
from sipstack.headers import parse_generic_params
from sipstack.message import Request, Response, make_response
from sipstack.uri import find_param

if TYPE_CHECKING:
    from sipstack.dialog.invite_session import InviteSession

MIN_SE_FLOOR = 90
_BUSY_RETRY = 1.0
Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """What we ask for (``interval``) and the shortest we accept (``min_se``)."""

    interval: int = 1800
    min_se: int = MIN_SE_FLOOR

    def invite_headers(self) -> Headers:
        """Headers for an initial INVITE that asks for session timers (§7.1)."""
        return (("Supported", "timer"), ("Session-Expires", str(self.interval)),
                ("Min-SE", str(self.min_se)))


@dataclass(frozen=True, slots=True)
class SessionExpires:
    """The Session-Expires value: interval and optional refresher role."""

    interval: int
    refresher: str | None = None

    @classmethod
    def of(cls, message: Request | Response) -> SessionExpires | None:
        text = message.headers.get("Session-Expires")
        if text is None:
            return None
        value, _, rest = text.partition(";")
        if not value.strip().isdigit():
            raise RemoteProtocolError(f"invalid Session-Expires {text!r}", 400)
        refresher = find_param(parse_generic_params(rest), "refresher") if rest else None
        role = refresher.lower() if refresher else None
        if role not in (None, "uac", "uas"):
            raise RemoteProtocolError(f"invalid refresher {refresher!r}", 400)
        return cls(int(value), role)

    def __str__(self) -> str:
        suffix = f";refresher={self.refresher}" if self.refresher else ""
        return f"{self.interval}{suffix}"


@dataclass(frozen=True, slots=True)
class Negotiated:
    """A running session timer: its interval and which side refreshes."""

    interval: int
    refresher: By

    def deadline(self, now: float) -> float:
        """When the refresher refreshes, or the other side gives up (§10)."""
        if self.refresher is By.LOCAL:
            return now + self.interval / 2
        return now + self.interval - min(32.0, self.interval / 3)


def _min_se(message: Request | Response) -> int:
    value = message.header_int("Min-SE")
    return MIN_SE_FLOOR if value is None else max(value, MIN_SE_FLOOR)


def _supports_timer(request: Request) -> bool:
    tags = request.headers.get_all("Supported") + request.headers.get_all("Require")
    return "timer" in {tag.strip().lower() for tag in tags}


def too_small(request: Request, config: TimerConfig, to_tag: str | None = None
              ) -> Response | None:
    """§9: the 422 for a request whose Session-Expires is below our minimum."""
    asked = SessionExpires.of(request)
    if asked is None or asked.interval >= max(config.min_se, MIN_SE_FLOOR):
        return None
    minimum = max(config.min_se, MIN_SE_FLOOR)
    return make_response(request, 422, to_tag=to_tag, headers=[("Min-SE", str(minimum))])


def negotiate_as_uas(request: Request, config: TimerConfig
                     ) -> tuple[Negotiated, Headers] | None:
    """§9: the timer our 2xx to ``request`` sets, and the headers saying so.
    None when the request asks for no session timer."""
    asked = SessionExpires.of(request)
    if asked is None:
        return None
    interval = max(min(asked.interval, config.interval), _min_se(request))
    supported = _supports_timer(request)
    role = asked.refresher or ("uac" if supported else "uas")
    headers: Headers = (("Session-Expires", f"{interval};refresher={role}"),)
    if supported:
        headers += (("Require", "timer"),)
    return Negotiated(interval, By.LOCAL if role == "uas" else By.REMOTE), headers


def negotiated_as_uac(response: Response) -> Negotiated | None:
    """§7.2: the timer a 2xx to our request sets (None: no session timer)."""
    granted = SessionExpires.of(response)
    if granted is None:
        return None
    role = granted.refresher or "uac"
    return Negotiated(max(granted.interval, MIN_SE_FLOOR),
                      By.LOCAL if role == "uac" else By.REMOTE)


def retry_headers(headers: Headers, response: Response) -> Headers:
    """§7.4: after a 422, ask again with the interval its Min-SE names."""
    minimum = _min_se(response)
    kept = tuple((n, v) for n, v in headers
                 if n.lower() not in ("session-expires", "x", "min-se"))
    return (*kept, ("Session-Expires", str(minimum)), ("Min-SE", str(minimum)))


def refresh_headers(timer: Negotiated, config: TimerConfig) -> Headers:
    """The headers of a re-INVITE/UPDATE we send while a timer runs: every
    such request is a refresh, and whoever refreshes now keeps doing it."""
    role = "uac" if timer.refresher is By.LOCAL else "uas"
    return (("Session-Expires", f"{timer.interval};refresher={role}"),
            ("Supported", "timer"), ("Min-SE", str(max(config.min_se, MIN_SE_FLOOR))))


def allows_update(*messages: Request | Response | None) -> bool:
    """Whether the peer listed UPDATE in an Allow header (RFC 3311 §5.1)."""
    for message in messages:
        if message is not None and any(
                m.strip().upper() == "UPDATE" for m in message.headers.get_all("Allow")):
            return True
    return False


def session_timer_fired(session: InviteSession, now: float) -> list[Output]:
    """§10: refresh when we are the refresher, else end the expired session."""
    timer = session.timer
    if timer is None or session.state is SessionState.TERMINATED or session.dialog is None:
        return []
    if timer.refresher is By.REMOTE:
        return session._end_with_bye("session expired")
    if session.busy():
        # An exchange is open (its 2xx will refresh); look again shortly.
        session._timer_at = now + _BUSY_RETRY
        return []
    if allows_update(session.peer_message):
        return session._send("UPDATE", (), b"")
    return session._send("INVITE", (), session.local_body)


def timer_in_response(session: InviteSession, request: Request, status: int
                      ) -> tuple[Negotiated | None, Headers]:
    """The timer and headers of our response to ``request`` (§9)."""
    config = session.timer_config
    if config is None or not 200 <= status < 300 or request.method not in ("INVITE", "UPDATE"):
        return None, ()
    negotiated = negotiate_as_uas(request, config)
    return (None, ()) if negotiated is None else negotiated


def timer_in_request(session: InviteSession, method: str, headers: Headers) -> Headers:
    """Headers to add to our re-INVITE/UPDATE while a timer runs (§7.4)."""
    timer, config = session.timer, session.timer_config
    if timer is None or config is None or method not in ("INVITE", "UPDATE") \
            or any(n.lower() in ("session-expires", "x") for n, _ in headers):
        return ()
    return refresh_headers(timer, config)
