"""The ``[[clients]]`` list: known callers and their responsible employee (F-ROUTE-4).

Each entry names a client's phone number and the extension that looks after
the client. A routing plan with ``owner_routing`` rings that employee first
when the client calls. The list is the built-in client directory; a CRM link
may stand in for it (:class:`softswitch.routing.clients.ClientDirectory`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field

from softswitch.config.errors import Issue
from softswitch.config.types import ExtensionNumber, PhoneNumber, Section

if TYPE_CHECKING:
    from softswitch.config.root import Config

__all__ = ["Client", "client_rules"]


class Client(Section):
    """A known caller."""

    number: PhoneNumber = Field(description="The client's phone number, e.g. '+39 06 5551234'.")
    owner: ExtensionNumber = Field(description="Extension of the employee responsible for it.")
    name: str | None = Field(default=None, description="Who the client is, for the logs.")


def client_rules(config: Config) -> Iterator[Issue]:
    """Every owner is an extension, and a number is listed once."""
    seen: dict[str, int] = {}
    for index, client in enumerate(config.clients):
        if config.extension(client.owner) is None:
            yield Issue(f"clients[{index}].owner", f"no extension {client.owner}")
        if client.number in seen:
            yield Issue(f"clients[{index}].number",
                        f"{client.number} is already listed as clients[{seen[client.number]}]")
        else:
            seen[client.number] = index
