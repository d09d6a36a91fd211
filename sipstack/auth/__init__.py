"""Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760), sans-IO.

:class:`DigestServer` challenges and verifies (registrar, proxy); :func:`authorize`
builds the retried request on the client side; :class:`Challenge` and
:class:`Credentials` are the header values.
"""

from sipstack.auth.challenge import Challenge, Credentials, auth_scheme, is_digest
from sipstack.auth.digest import (
    ALGORITHMS,
    authorize,
    build_credentials,
    digest_hash,
    ha1,
    hash_name,
    is_supported,
    request_digest,
    select_challenges,
    session_ha1,
)
from sipstack.auth.server import AuthResult, AuthStatus, DigestServer, HA1Lookup

__all__ = [
    "ALGORITHMS",
    "AuthResult",
    "AuthStatus",
    "Challenge",
    "Credentials",
    "DigestServer",
    "HA1Lookup",
    "auth_scheme",
    "authorize",
    "build_credentials",
    "digest_hash",
    "ha1",
    "hash_name",
    "is_digest",
    "is_supported",
    "request_digest",
    "select_challenges",
    "session_ha1",
]
