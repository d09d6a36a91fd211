"""A sans-IO SIP stack (RFC 3261) with asyncio adapters in :mod:`sipstack.transport`."""

from sipstack.errors import LocalProtocolError, RemoteProtocolError, SipError

__all__ = ["LocalProtocolError", "RemoteProtocolError", "SipError"]
