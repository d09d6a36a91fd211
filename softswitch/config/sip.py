"""The ``[sip]`` and ``[registrar]`` sections: where the switch listens and how it registers phones.

Listeners are the local sockets of RFC 3261 §18 (UDP and TCP for now; TLS and
WebSocket transports will add values to ``transport``). The registrar limits
follow RFC 3261 §10.3: a registration shorter than ``min_expires`` is refused
with 423 Interval Too Brief, a longer one than ``max_expires`` is shortened,
and a REGISTER that asks for no expiry gets ``default_expires``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from softswitch.config.types import IpAddress, Port, Section, Transport

__all__ = ["Listener", "RegistrarSettings", "SipSettings"]


class Listener(Section):
    """One local SIP socket."""

    transport: Transport = Field(description="Transport of this socket: 'udp' or 'tcp'.")
    host: IpAddress = Field(
        description="Local IP address to bind ('0.0.0.0' or '::' for every interface)."
    )
    port: Port = Field(default=5060, description="Local port to bind.")

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport} {host}:{self.port}"


class SipSettings(Section):
    """SIP identity and sockets of the switch."""

    listeners: tuple[Listener, ...] = Field(
        min_length=1, description="The sockets the switch listens on; at least one."
    )
    domain: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "SIP domain of the switch, also the digest realm offered to phones; "
            "the first listener's host when unset."
        ),
    )
    user_agent: str = Field(
        default="softswitch",
        min_length=1,
        description="Value of the User-Agent and Server headers the switch sends.",
    )
    digest_algorithms: tuple[Literal["SHA-256", "MD5"], ...] = Field(
        default=("SHA-256", "MD5"),
        min_length=1,
        description=(
            "Digest algorithms offered to phones, most preferred first (RFC 8760). "
            "Clients that read only the first challenge (SIPp 3.6) need MD5 first."
        ),
    )

    @property
    def realm(self) -> str:
        """The digest realm and SIP domain in effect."""
        return self.domain if self.domain is not None else self.listeners[0].host


class RegistrarSettings(Section):
    """Limits on registration lifetimes (RFC 3261 §10.3), in seconds."""

    min_expires: int = Field(
        default=60, ge=1, strict=True,
        description="Shortest registration accepted; shorter ones get 423 with Min-Expires.",
    )
    max_expires: int = Field(
        default=3600, ge=1, strict=True,
        description="Longest registration granted; longer requests are shortened to this.",
    )
    default_expires: int = Field(
        default=3600, ge=1, strict=True,
        description="Lifetime granted when a REGISTER names no expiry.",
    )
