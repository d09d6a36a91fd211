"""Finding the dialog of an in-dialog message (RFC 3261 §12.2.2, §12.2.1.2).

A request whose To header carries a tag claims to belong to a dialog. If we
hold no such dialog, §12.2.2 says the UAS answers 481 (Call/Transaction Does
Not Exist); an ACK is never answered, so it is dropped. This table raises
:class:`~sipstack.errors.RemoteProtocolError` with ``status_hint`` 481 (``None``
for an ACK); the endpoint turns that into the response at its one boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from sipstack.dialog.dialog import DialogId
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.message import Request, Response

T = TypeVar("T")


class DialogTable(Generic[T]):
    """Dialog id -> owner (an INVITE session, a subscription, a dialog)."""

    __slots__ = ("_owners",)

    def __init__(self) -> None:
        self._owners: dict[DialogId, T] = {}

    def add(self, dialog_id: DialogId, owner: T) -> None:
        current = self._owners.get(dialog_id)
        if current is not None and current is not owner:
            raise LocalProtocolError(f"dialog {dialog_id} already registered")
        self._owners[dialog_id] = owner

    def remove(self, dialog_id: DialogId) -> None:
        self._owners.pop(dialog_id, None)

    def get(self, dialog_id: DialogId) -> T | None:
        return self._owners.get(dialog_id)

    def match_request(self, request: Request) -> T | None:
        """The owner of an in-dialog request; None for a request with no To
        tag (out of dialog: a new INVITE, OPTIONS, a CANCEL …).

        Raises :class:`RemoteProtocolError` (481; ``None`` for ACK, which is
        silently dropped) when the To tag names a dialog we do not hold.
        """
        if request.to.tag is None:
            return None
        # RFC 2543 peers send no From tag: such dialogs are kept with an empty one.
        dialog_id = DialogId(request.call_id, request.to.tag, request.from_.tag or "")
        owner = self._owners.get(dialog_id)
        if owner is None:
            hint = None if request.method == "ACK" else 481
            raise RemoteProtocolError(
                f"no dialog for {request.method} (Call-ID {request.call_id})", hint)
        return owner

    def match_response(self, response: Response) -> T | None:
        """The owner of the dialog a response names, if we hold it."""
        dialog_id = DialogId.of_response(response)
        return None if dialog_id is None else self._owners.get(dialog_id)

    def __len__(self) -> int:
        return len(self._owners)

    def __contains__(self, dialog_id: object) -> bool:
        return dialog_id in self._owners

    def __iter__(self) -> Iterator[DialogId]:
        return iter(self._owners)
