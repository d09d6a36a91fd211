"""Registration of the softswitch to a trunk's operator (RFC 3261 §10.2, §22.2).

A :class:`TrunkRegistration` is a sans-IO client of the operator's registrar:
it builds REGISTERs on the application's :class:`~sipstack.endpoint.Endpoint`,
is handed the :class:`~sipstack.endpoint_events.ResponseEvent` of every
request it sent (``owns(key)`` tells which), and names its next deadline
(``get_timer``/``handle_timer``). It never reads a clock.

- §10.2.1: ``REGISTER sip:<host>`` with To and From ``sip:<username>@<host>``,
  our Contact and ``Expires`` = the trunk's ``register_expires``.
- §22.2: a 401/407 is answered once with digest credentials; another
  challenge right after them (unless it says ``stale=true``) is a failure,
  so a wrong password never loops.
- §10.2.8/§10.3 step 7: a 423 raises the interval to its ``Min-Expires``.
- §10.2.4: the granted interval comes from our Contact in the 200 (or
  ``Expires``); the binding is refreshed before it lapses, with the same
  Call-ID and a CSeq one higher per request for the whole run.
- Failures (4xx-6xx, or a 408/503 the stack made up) are retried after a
  back-off (:mod:`softswitch.trunks.timing`), ``Retry-After`` honoured.
- §10.2.2: ``stop`` removes the binding with ``Expires: 0``.

Each state change is logged on the ``softswitch.trunks`` logger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sipstack.auth import authorize, select_challenges
from sipstack.endpoint import Endpoint
from sipstack.endpoint_events import ResponseEvent
from sipstack.errors import LocalProtocolError, SipError
from sipstack.events import Address
from sipstack.headers import NameAddr
from sipstack.message import Request, Response
from softswitch.config import Trunk
from softswitch.trunks.status import RegistrationState, TrunkStatus
from softswitch.trunks.timing import RetryPolicy, granted_expires, retry_after

__all__ = ["TrunkRegistration", "registrar_uri"]

log = logging.getLogger("softswitch.trunks")

State = RegistrationState
_CHALLENGE_HEADERS = {401: "WWW-Authenticate", 407: "Proxy-Authenticate"}
# States in which a REGISTER of ours may be in flight and its answer counts.
_SENDING = (State.REGISTERING, State.REGISTERED, State.UNREGISTERING)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def registrar_uri(trunk: Trunk) -> str:
    """The Request-URI of the trunk's REGISTER: the operator's domain, with the
    port and transport when they are not the defaults."""
    uri = f"sip:{_host(trunk.host)}"
    if trunk.port != 5060:
        uri += f":{trunk.port}"
    if trunk.transport != "udp":
        uri += f";transport={trunk.transport}"
    return uri


def _always_half() -> float:
    return 0.5


class TrunkRegistration:
    """Keeps one trunk registered to its operator.

    ``contact`` is the softswitch's Contact for this trunk (``sip:…`` or
    ``<sip:…>``). ``jitter`` returns a number in [0, 1) that places each
    refresh between the policy's fractions of the interval (pass
    ``random.random`` in production; the default is the middle). ``destination``
    overrides where requests go (the endpoint resolves the registrar URI
    otherwise, which needs an IP address for ``host``).
    """

    def __init__(self, trunk: Trunk, endpoint: Endpoint, contact: str, *,
                 policy: RetryPolicy | None = None,
                 jitter: Callable[[], float] | None = None,
                 destination: Address | None = None) -> None:
        if trunk.username is None or trunk.password is None:
            raise LocalProtocolError(f"trunk {trunk.name} has no username/password to register")
        self.trunk = trunk
        self.endpoint = endpoint
        self.policy = policy or RetryPolicy()
        self.contact = NameAddr.parse(contact.strip())
        self.registrar = registrar_uri(trunk)
        self.aor = f"<sip:{trunk.username}@{_host(trunk.host)}>"
        self.call_id = endpoint.ids.call_id()
        self._username = trunk.username
        self._password = trunk.password.get_secret_value()
        self._jitter = jitter or _always_half
        self._destination = destination
        self._from = f"{self.aor};tag={endpoint.ids.tag()}"
        self._cseq = 0
        self._expires = trunk.register_expires
        self._state = State.UNREGISTERED
        self._key: str | None = None           # its transaction
        self._superseded: set[str] = set()     # older transactions still running
        self._timer: float | None = None       # next refresh or retry
        self._expires_at: float | None = None
        self._failures = 0
        self._answered = 0                     # challenges answered in this attempt
        self._stale_answered = False
        self._last: tuple[int | None, str | None, bool] = (None, None, False)

    # -- the application's side ---------------------------------------------------

    @property
    def state(self) -> RegistrationState:
        return self._state

    @property
    def status(self) -> TrunkStatus:
        status, reason, local = self._last
        return TrunkStatus(self.trunk.name, self.registrar, self._state, self._expires_at,
                           status, reason, local,
                           self._timer if self._key is None else None, self._failures)

    @property
    def cseq(self) -> int:
        """The CSeq number of the last REGISTER sent."""
        return self._cseq

    @property
    def expires(self) -> int:
        """The interval asked for (the configured one, or a registrar's Min-Expires)."""
        return self._expires

    def start(self, now: float) -> None:
        """Send the first REGISTER."""
        if self._state is not State.UNREGISTERED:
            raise LocalProtocolError(f"trunk {self.trunk.name}: start while {self._state.value}")
        self._failures = 0
        self._enter(State.REGISTERING, "starting")
        self._attempt(now, self._expires)

    def stop(self, now: float) -> None:
        """Remove the binding (``Expires: 0``); no more refreshes or retries."""
        self._timer = None
        if self._state in (State.REGISTERED, State.REGISTERING):
            self._enter(State.UNREGISTERING, "stopping")
            self._attempt(now, 0)
        elif self._state is State.FAILED:
            self._expires_at = None
            self._enter(State.UNREGISTERED, "stopped")

    def owns(self, key: str) -> bool:
        """Whether a ResponseEvent with ``key`` answers one of our REGISTERs."""
        return key == self._key or key in self._superseded

    def get_timer(self) -> float | None:
        """The next deadline: a refresh or retry, or the binding's expiry while a
        refresh is in flight."""
        if self._key is None:
            return self._timer
        return self._expires_at if self._state is State.REGISTERED else None

    def handle_timer(self, now: float) -> None:
        """Act on a deadline that has come (a call before it is harmless)."""
        due = self.get_timer()
        if due is None or now < due:
            return
        if self._key is not None:  # the refresh is late and the binding has lapsed
            self._expires_at = None
            self._enter(State.REGISTERING, "binding expired while refreshing")
            return
        self._timer = None
        if self._state is State.REGISTERED:
            log.debug("trunk %s: refreshing registration", self.trunk.name)
            self._attempt(now, self._expires)
        elif self._state is State.FAILED:
            self._enter(State.REGISTERING, f"retry after {self._failures} failure(s)")
            self._attempt(now, self._expires)
        else:
            raise LocalProtocolError(f"trunk {self.trunk.name}: timer in {self._state.value}")

    def on_response(self, event: ResponseEvent, now: float) -> None:
        """A response to a REGISTER we sent (provisional ones are ignored)."""
        response = event.response
        if response.is_provisional:
            return
        if event.key != self._key:
            self._superseded.discard(event.key)
            return
        if self._state not in _SENDING:
            raise LocalProtocolError(
                f"trunk {self.trunk.name}: response while {self._state.value}")
        self._key = None
        self._last = (response.status, response.reason, event.local)
        status = response.status
        if status in _CHALLENGE_HEADERS and not event.local:
            self._on_challenge(event.request, response, now)
        elif self._state is State.UNREGISTERING:
            self._unregistered(response, event.local)
        elif response.is_success:
            self._on_success(response, now)
        elif status == 423 and not event.local:
            self._on_too_brief(response, now)
        else:
            self._on_failure(now, retry_after(response) if not event.local else None)

    # -- outcomes ---------------------------------------------------------------

    def _on_success(self, response: Response, now: float) -> None:
        granted = granted_expires(response, self.contact.uri, self._expires)
        if granted <= 0:
            self._last = (response.status, "registrar granted no binding", False)
            self._on_failure(now, None)
            return
        self._failures = 0
        self._expires_at = now + granted
        delay = self.policy.refresh_delay(granted, self._jitter())
        self._timer = now + delay
        if self._state is State.REGISTERED:
            log.debug("trunk %s: refreshed for %d s", self.trunk.name, granted)
        else:
            self._enter(State.REGISTERED, f"{granted} s granted, refresh in {delay:.0f} s")

    def _on_challenge(self, request: Request, response: Response, now: float) -> None:
        stale = self._is_stale(response)
        if self._answered and not (stale and not self._stale_answered):
            self._last = (response.status, "credentials refused", False)
            self._give_up(now)
            return
        self._stale_answered = self._stale_answered or (self._answered > 0 and stale)
        self._answered += 1
        try:
            retry = authorize(request, response, self._username, self._password,
                              self.endpoint.ids.tag(), branch=self.endpoint.ids.branch())
        except SipError as exc:
            self._last = (response.status, f"cannot answer the challenge: {exc.message}", False)
            self._give_up(now)
            return
        self._send(retry, now)

    def _on_too_brief(self, response: Response, now: float) -> None:
        try:
            minimum = response.header_int("Min-Expires")
        except SipError:
            minimum = None
        if minimum is None or minimum <= self._expires:
            self._on_failure(now, None)
            return
        log.info("trunk %s: registrar wants at least %d s (asked %d s)",
                 self.trunk.name, minimum, self._expires)
        self._expires = minimum
        self._attempt(now, minimum)

    def _give_up(self, now: float) -> None:
        """A failure of this attempt; an unregistration just ends."""
        if self._state is State.UNREGISTERING:
            self._unregistered(None, False)
        else:
            self._on_failure(now, None)

    def _on_failure(self, now: float, server_delay: float | None) -> None:
        self._failures += 1
        delay = self.policy.backoff_delay(self._failures, server_delay)
        self._timer = now + delay
        self._expires_at = None
        status, reason, _ = self._last
        detail = f"{status} {reason}; retry in {delay:.0f} s"
        self._enter(State.FAILED, detail, logging.WARNING)

    def _unregistered(self, response: Response | None, local: bool) -> None:
        self._expires_at = None
        self._timer = None
        if response is not None and response.is_success:
            self._enter(State.UNREGISTERED, "binding removed")
            return
        status, reason, _ = self._last
        self._enter(State.UNREGISTERED, f"unregistration failed: {status} {reason}",
                    logging.WARNING)

    # -- sending ------------------------------------------------------------------

    def _attempt(self, now: float, expires: int) -> None:
        """A fresh REGISTER (no credentials yet) asking for ``expires`` seconds."""
        self._answered = 0
        self._stale_answered = False
        request = self.endpoint.new_request(
            "REGISTER", self.registrar, from_=self._from, to=self.aor,
            call_id=self.call_id, cseq=self._cseq + 1,
            headers=[("Contact", str(self.contact)), ("Expires", str(expires))])
        self._send(request, now)

    def _send(self, request: Request, now: float) -> None:
        if self._key is not None:
            self._superseded.add(self._key)
        self._cseq = request.cseq.seq
        try:
            self._key = self.endpoint.send_request(request, now, self._destination)
        except SipError as exc:
            self._key = None
            self._last = (503, f"cannot send: {exc.message}", True)
            self._give_up(now)

    def _enter(self, state: RegistrationState, detail: str, level: int = logging.INFO) -> None:
        previous, self._state = self._state, state
        log.log(level, "trunk %s: %s -> %s (%s) registrar %s as %s", self.trunk.name,
                previous.value, state.value, detail, self.registrar, self._username)

    @staticmethod
    def _is_stale(response: Response) -> bool:
        name = _CHALLENGE_HEADERS[response.status]
        try:
            return any(c.stale for c in select_challenges(response.headers.get_lines(name)))
        except SipError:
            return False
