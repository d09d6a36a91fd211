"""The one error family of the SIP stack (DESIGN.md house rule 6).

``SipError`` knows the SIP status a UAS should answer with (``status_hint``).
``RemoteProtocolError`` means the peer sent something invalid; its
``status_hint`` is ``None`` when the right reaction is a silent discard (a
malformed response can never be answered). ``LocalProtocolError`` means our own
side asked the stack to do something the protocol forbids. The conversion to a
response happens at exactly one boundary: the endpoint.
"""

from __future__ import annotations


class SipError(Exception):
    """Base of every error raised by :mod:`sipstack`."""

    default_status: int | None = 400

    def __init__(
        self,
        message: str,
        status_hint: int | None = -1,
        *,
        unsupported: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_hint: int | None = (
            self.default_status if status_hint == -1 else status_hint
        )
        # Option tags for an Unsupported header when status_hint is 420.
        self.unsupported = unsupported


class RemoteProtocolError(SipError):
    """The peer sent bytes or a message that break RFC 3261."""


class LocalProtocolError(SipError):
    """Our side tried to send or do something the protocol does not allow."""

    default_status = 500
