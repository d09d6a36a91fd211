"""Real SIP peers for integration tests: pjsua2 phones and SIPp, on 127.0.0.1."""

from .channel import Event, PhoneError
from .phone import CallState, IncomingCall, Phone

__all__ = ["CallState", "Event", "IncomingCall", "Phone", "PhoneError"]
