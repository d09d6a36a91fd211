"""The ``[[trunks]]`` tables: lines to an operator or office PBX (the SIP connector).

A trunk either registers to the operator with its credentials (RFC 3261 §10,
digest per RFC 7616) or is recognised by the source address of its requests.
Calls it delivers are routed by DID (``numbers``) or, with
``to_header_routing``, by the extension named in the To header (F-ROUTE-1).
Calls leaving through it carry its ``caller_id`` (F-OUT-1, F-OUT-5) and are cut
after ``max_call_duration`` when set (F-ROUTE-10).
"""

from __future__ import annotations

import ipaddress

from pydantic import Field

from softswitch.config.types import (
    ExtensionNumber,
    Flag,
    Host,
    Network,
    Password,
    PhoneNumber,
    Port,
    Seconds,
    Section,
    Transport,
    TrunkName,
)

__all__ = ["Trunk", "TrunkNumber"]


class TrunkNumber(Section):
    """A number (DID) the operator delivers on this trunk, and the extension it rings."""

    did: PhoneNumber = Field(description="The dialled number as the operator sends it.")
    extension: ExtensionNumber = Field(description="Extension that receives calls to this DID.")


class Trunk(Section):
    """A SIP trunk to an operator."""

    name: TrunkName = Field(description="Unique name that other settings refer to.")
    host: Host = Field(description="Operator's SIP server: IP address or host name.")
    port: Port = Field(default=5060, description="Operator's SIP port.")
    transport: Transport = Field(default="udp", description="Transport towards the operator.")
    username: str | None = Field(
        default=None, min_length=1, description="Digest user name given by the operator."
    )
    password: Password | None = Field(
        default=None, description="Digest password given by the operator."
    )
    registers: Flag = Field(
        default=False,
        alias="register",
        description="TOML key 'register': register to the operator with username and password.",
    )
    register_expires: int = Field(
        default=3600, ge=60, strict=True, description="Registration lifetime asked for, seconds."
    )
    allowed_sources: tuple[Network, ...] = Field(
        default=(),
        description=(
            "Addresses or CIDR networks whose INVITEs are accepted as coming from this "
            "trunk without digest authentication."
        ),
    )
    to_header_routing: Flag = Field(
        default=False,
        description="Route an incoming call whose To user is an extension to that extension.",
    )
    numbers: tuple[TrunkNumber, ...] = Field(
        default=(), description="DIDs delivered on this trunk and the extensions they ring."
    )
    caller_id: PhoneNumber | None = Field(
        default=None, description="The line's own number, sent as From on outbound calls."
    )
    max_call_duration: Seconds | None = Field(
        default=None, description="Overrides calls.max_call_duration for calls on this trunk."
    )
    record_calls: Flag = Field(
        default=False, description="Record every call on this line (F-MEDIA-3)."
    )
    outbound: Flag = Field(
        default=True,
        description="Whether calls may leave through this trunk; false for an inbound-only line.",
    )

    def accepts_source(self, address: str) -> bool:
        """Whether a request from IP ``address`` matches ``allowed_sources``."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.allowed_sources)
