"""Real SIP peers for integration tests: pjsua2 phones and SIPp, on 127.0.0.1."""

from .channel import Event, PhoneError
from .net import free_port, free_port_block, port_in_use
from .phone import CallState, IncomingCall, Phone
from .sipp import REGISTRAR_DIGEST, UAS_SHORT, Sipp, SippError, SippProcess, SippResult, sipp_uas

__all__ = [
    "REGISTRAR_DIGEST", "UAS_SHORT", "CallState", "Event", "IncomingCall", "Phone",
    "PhoneError", "Sipp", "SippError", "SippProcess", "SippResult", "free_port",
    "free_port_block", "port_in_use", "sipp_uas",
]
