"""Roles and states of an INVITE session (RFC 3261 §12-§15).

The dialog states of §12 (Early, Confirmed, Terminated) plus the moments of
the INVITE exchange before a dialog exists and between a 2xx and its ACK.
"""

from __future__ import annotations

import enum


class Role(enum.Enum):
    UAC = "UAC"
    UAS = "UAS"


class SessionState(enum.Enum):
    """Where the call leg stands."""

    CALLING = "Calling"        # UAC: INVITE sent, no dialog yet
    INCOMING = "Incoming"      # UAS: INVITE received, no dialog yet
    EARLY = "Early"            # a 1xx with a To tag made an early dialog
    CONNECTING = "Connecting"  # UAS: 2xx sent, ACK not yet received
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"
