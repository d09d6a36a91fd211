"""Dialogs and INVITE sessions (RFC 3261 §12-§15, RFC 3311, RFC 6026), sans-IO.

:class:`Dialog` keeps §12 dialog state and builds in-dialog requests;
:class:`DialogTable` finds the owner of an in-dialog request (481 otherwise);
:class:`InviteSession` is one call leg on top, driven by requests, responses
and ``now``, returning :mod:`~sipstack.dialog.events` outputs.
"""

from sipstack.dialog.dialog import Dialog, DialogId, DialogState, ViaConfig
from sipstack.dialog.events import (
    Answered,
    By,
    Confirmed,
    InDialogRequest,
    Output,
    Progress,
    Reinvited,
    RequestAnswered,
    SendRequest,
    SendResponse,
    Terminated,
    Updated,
)
from sipstack.dialog.invite_session import InviteSession
from sipstack.dialog.session_timer import Negotiated, SessionExpires, TimerConfig
from sipstack.dialog.states import Role, SessionState
from sipstack.dialog.table import DialogTable

__all__ = [
    "Answered",
    "By",
    "Confirmed",
    "Dialog",
    "DialogId",
    "DialogState",
    "DialogTable",
    "InDialogRequest",
    "InviteSession",
    "Negotiated",
    "Output",
    "Progress",
    "Reinvited",
    "RequestAnswered",
    "Role",
    "SendRequest",
    "SendResponse",
    "SessionExpires",
    "SessionState",
    "Terminated",
    "TimerConfig",
    "Updated",
    "ViaConfig",
]
