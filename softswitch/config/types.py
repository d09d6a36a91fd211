"""Field types shared by the configuration sections.

Each type validates one kind of value read from TOML and states its rule in
the error message, so a configuration error names what was expected. TOML
integers are accepted where a number is written in digits (``number = 101``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    Strict,
)

from softswitch.numbers import digits

__all__ = [
    "ExtensionNumber",
    "Flag",
    "Host",
    "IpAddress",
    "Network",
    "Password",
    "PhoneNumber",
    "Port",
    "Seconds",
    "Section",
    "Transport",
    "TrunkName",
]

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")
_EXTENSION = re.compile(r"[0-9]{1,15}")
_TRUNK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Section(BaseModel):
    """Base of every configuration table: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _int_as_text(value: Any) -> Any:
    """TOML may write a number without quotes; a non-negative integer reads as its digits."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value


def _phone_number(value: str) -> str:
    return digits(value)


def _extension_number(value: str) -> str:
    if not _EXTENSION.fullmatch(value):
        raise ValueError(f"an extension number is 1 to 15 digits, not {value!r}")
    return value


def _trunk_name(value: str) -> str:
    if not _TRUNK_NAME.fullmatch(value):
        raise ValueError(
            f"a trunk name is 1 to 64 letters, digits, '.', '_' or '-' "
            f"starting with a letter or digit, not {value!r}"
        )
    return value


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"not an IP address: {value!r}") from None


def _host(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if len(value) > 253 or not _HOST_NAME.fullmatch(value):
        raise ValueError(f"not an IP address or host name: {value!r}")
    return value


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address or CIDR network as a string, not {value!r}")
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IP address or CIDR network: {exc}") from None


def _non_empty_secret(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise ValueError("must not be empty")
    return value


Flag = Annotated[bool, Strict()]
"""A TOML boolean (``true``/``false``); strings such as ``"yes"`` are refused."""

Port = Annotated[int, Strict(), Field(ge=1, le=65535)]
"""A UDP/TCP port number."""

Seconds = Annotated[float, Strict(), Field(gt=0)]
"""A positive duration in seconds (integer or decimal)."""

Transport = Literal["udp", "tcp"]
"""A SIP transport the switch can speak on a listener or towards a trunk."""

PhoneNumber = Annotated[str, BeforeValidator(_int_as_text), AfterValidator(_phone_number)]
"""A phone number as written by people; stored as its digits (see ``softswitch.numbers``)."""

ExtensionNumber = Annotated[
    str, BeforeValidator(_int_as_text), AfterValidator(_extension_number)
]
"""An internal extension: 1 to 15 digits."""

TrunkName = Annotated[str, AfterValidator(_trunk_name)]
"""A trunk's name as other settings refer to it."""

IpAddress = Annotated[str, AfterValidator(_ip_address)]
"""An IPv4 or IPv6 address literal, stored in its canonical form."""

Host = Annotated[str, AfterValidator(_host)]
"""An IP address literal or a DNS host name."""

Network = Annotated[
    ipaddress.IPv4Network | ipaddress.IPv6Network,
    PlainValidator(_network),
    PlainSerializer(str, return_type=str),
]
"""An IP network in CIDR notation; a bare address means that single host."""

Password = Annotated[SecretStr, AfterValidator(_non_empty_secret)]
"""A non-empty secret; hidden in ``repr`` and logs, read with ``get_secret_value()``."""
