"""The ``[[extensions]]`` tables: the employees' phones the registrar accepts.

Each extension is an address-of-record of the registrar (RFC 3261 §10) whose
digest credentials are its number and password; its outbound line (F-OUT-1)
is its own ``outbound_trunk`` or else the global ``default_outbound_trunk``.
"""

from __future__ import annotations

from pydantic import Field

from softswitch.config.types import ExtensionNumber, Flag, Password, PhoneNumber, Section, TrunkName

__all__ = ["Extension"]


class Extension(Section):
    """An employee's extension."""

    number: ExtensionNumber = Field(
        description="Extension number, 1 to 15 digits; also the digest user name."
    )
    display_name: str = Field(
        default="", description="Name shown to called parties and in call details."
    )
    password: Password = Field(description="Digest password of the extension's phones.")
    mobile: PhoneNumber | None = Field(
        default=None, description="Employee's mobile number, for forwarding when unanswered."
    )
    enabled: Flag = Field(
        default=True, description="A disabled extension neither registers nor receives calls."
    )
    outbound_trunk: TrunkName | None = Field(
        default=None,
        description="Trunk for this employee's external calls; the global default when unset.",
    )
