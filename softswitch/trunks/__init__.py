"""Trunks to cloud or office PBX operators (the SIP connector, F-SIP-4, F-OUT-5).

Outbound registration (RFC 3261 §10.2): :class:`TrunkRegistrations` keeps every
trunk with ``register = true`` registered to its operator with the trunk's
digest credentials, refreshing before expiry and retrying with back-off;
:class:`TrunkStatus` is what logs, the API and metrics show of each.
"""

from softswitch.trunks.collection import TrunkRegistrations
from softswitch.trunks.registration import TrunkRegistration, registrar_uri
from softswitch.trunks.status import RegistrationState, TrunkStatus
from softswitch.trunks.timing import RetryPolicy, granted_expires, retry_after, same_contact

__all__ = [
    "RegistrationState",
    "RetryPolicy",
    "TrunkRegistration",
    "TrunkRegistrations",
    "TrunkStatus",
    "granted_expires",
    "registrar_uri",
    "retry_after",
    "same_contact",
]
