"""The ``[calls]`` section: timers that apply to every call the B2BUA bridges.

``ring_timeout`` bounds the time a callee's phones ring before the call moves
on; ``max_call_duration`` enforces F-ROUTE-10 (one hour by default);
``session_expires`` is the session-timer interval of RFC 4028 §4, which may not
be below the 90-second Min-SE floor of RFC 4028 §5.
"""

from __future__ import annotations

from pydantic import Field

from softswitch.config.types import Seconds, Section

__all__ = ["MIN_SESSION_EXPIRES", "CallSettings"]

#: RFC 4028 §5: the smallest Session-Expires any element may ask for.
MIN_SESSION_EXPIRES = 90


class CallSettings(Section):
    """Timers applied to every call."""

    ring_timeout: Seconds = Field(
        default=30.0, description="Seconds the called phones ring before the call moves on."
    )
    max_call_duration: Seconds = Field(
        default=3600.0,
        description="Seconds after answer when a call is hung up; a trunk may override it.",
    )
    session_expires: int = Field(
        default=1800,
        ge=MIN_SESSION_EXPIRES,
        strict=True,
        description="RFC 4028 session interval in seconds offered and accepted (at least 90).",
    )
