"""When a trunk registration sends its next REGISTER (RFC 3261 §10.2.1, §10.2.4).

A refresh goes out well before the binding lapses: at a fraction of the
granted interval between ``refresh_min`` and ``refresh_max`` (spread by a
jitter value in [0, 1) so many trunks do not refresh in step), and never later
than ``refresh_margin`` seconds before expiry. A failed attempt is retried
after an exponential back-off (``backoff_base`` doubling up to
``backoff_max``, the shape RFC 5626 §4.5 recommends for registration
recovery); a ``Retry-After`` from the server (§20.33, typically on 503) takes
the place of the back-off, bounded by ``retry_after_min`` (no tight loop on
``Retry-After: 0``) and ``retry_after_max``.

The granted interval is read as §10.2.4 says: the ``expires`` parameter of
the Contact in the 200 that is ours (§19.1.4 comparison of scheme, user, host
and port), else the ``Expires`` header, else what was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipstack.errors import RemoteProtocolError
from sipstack.headers import NameAddr
from sipstack.message import Response
from sipstack.uri import URI, SipURI

__all__ = ["RetryPolicy", "granted_expires", "retry_after", "same_contact"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Refresh and back-off timing of trunk registrations (seconds)."""

    refresh_min: float = 0.5
    refresh_max: float = 0.8
    refresh_margin: float = 5.0
    backoff_base: float = 30.0
    backoff_max: float = 900.0
    retry_after_min: float = 1.0
    retry_after_max: float = 3600.0

    def refresh_delay(self, granted: float, jitter: float) -> float:
        """Seconds from a 200 granting ``granted`` seconds to the refresh."""
        fraction = self.refresh_min + (self.refresh_max - self.refresh_min) * jitter
        delay = granted * fraction
        if granted - self.refresh_margin >= 1.0:
            delay = min(delay, granted - self.refresh_margin)
        return max(delay, 0.0)

    def backoff_delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure."""
        if retry_after is not None:
            return max(min(retry_after, self.retry_after_max), self.retry_after_min)
        exponent = max(failures - 1, 0)
        if self.backoff_base * 2.0 ** min(exponent, 64) >= self.backoff_max:
            return self.backoff_max
        return float(self.backoff_base * 2.0**exponent)


def _host(uri: SipURI) -> str:
    return uri.host.lower()


def same_contact(a: URI, b: URI) -> bool:
    """Whether two Contact URIs name the same binding (RFC 3261 §19.1.4 for the
    parts a registrar may not change: scheme, user, host and port)."""
    if not isinstance(a, SipURI) or not isinstance(b, SipURI):
        return str(a) == str(b)
    return (a.scheme == b.scheme and a.user == b.user and _host(a) == _host(b)
            and (a.port or 5060) == (b.port or 5060))


def _contact_expires(contact: NameAddr) -> int | None:
    value = contact.param("expires")
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def granted_expires(response: Response, ours: URI, requested: int) -> int:
    """The interval a 2xx to REGISTER granted to the binding ``ours``."""
    try:
        contacts = response.contacts
    except RemoteProtocolError:
        contacts = ()
    for contact in contacts:
        if same_contact(contact.uri, ours):
            expires = _contact_expires(contact)
            if expires is not None:
                return expires
    try:
        header = response.header_int("Expires")
    except RemoteProtocolError:
        header = None
    return requested if header is None else header


def retry_after(response: Response) -> float | None:
    """The delta-seconds of a ``Retry-After`` header, or None (absent or malformed)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    digits = value.strip().split(";", 1)[0].split("(", 1)[0].strip()
    return float(digits) if digits.isdigit() else None
