"""SIP transactions (RFC 3261 §17, RFC 6026): four state machines and the layer.

The endpoint uses :class:`TransactionLayer`; the events it yields are the
frozen dataclasses re-exported here.
"""

from sipstack.transaction.base import (
    AckReceived,
    RequestReceived,
    ResponseReceived,
    StrayResponse,
    TransactionEvent,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
    make_ack_for_error,
    make_cancel,
)
from sipstack.transaction.layer import TransactionLayer

__all__ = [
    "AckReceived",
    "RequestReceived",
    "ResponseReceived",
    "StrayResponse",
    "TransactionEvent",
    "TransactionLayer",
    "TransactionTerminated",
    "TransactionTimeout",
    "TransportError",
    "make_ack_for_error",
    "make_cancel",
]
