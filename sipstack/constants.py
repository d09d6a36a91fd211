"""SIP constants in one place: reason phrases, header name forms, timer bases.

Sources: RFC 3261 §7.3.3 (compact forms), §20 (header names), §21 (status
codes), §17.1.1.1 (T1, T2, T4); RFC 3262, 3265, 3311, 3515, 3891, 4028, 6665.
"""

from __future__ import annotations

from typing import Final

SIP_VERSION: Final = "SIP/2.0"
DEFAULT_PORTS: Final = {"udp": 5060, "tcp": 5060, "tls": 5061, "ws": 80, "wss": 443}
BRANCH_MAGIC: Final = "z9hG4bK"

# RFC 3261 §17.1.1.1: RTT estimate, maximum retransmit interval for non-INVITE
# requests and INVITE responses, maximum time a message stays in the network.
T1: Final = 0.5
T2: Final = 4.0
T4: Final = 5.0

# Largest UDP request before §18.1.1 says "switch to a congestion-controlled
# transport": path MTU 1500 less 200 bytes of headroom.
UDP_MTU_LIMIT: Final = 1300
# Our own size cap for one message (answer 513 above it); RFC 4475 longreq is 3.5 kB.
MAX_MESSAGE_SIZE: Final = 65535

REASON_PHRASES: Final = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 199: "Early Dialog Terminated",
    200: "OK", 202: "Accepted", 204: "No Notification",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily",
    305: "Use Proxy", 380: "Alternative Service",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
    412: "Conditional Request Failed", 413: "Request Entity Too Large",
    414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
    422: "Session Interval Too Small", 423: "Interval Too Brief",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete",
    485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending",
    493: "Undecipherable",
    500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
    513: "Message Too Large", 580: "Precondition Failure",
    600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}

# Compact form -> canonical long name (RFC 3261 §7.3.3 and extensions).
COMPACT_FORMS: Final = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To",
    "v": "Via", "o": "Event", "r": "Refer-To", "b": "Referred-By", "x": "Session-Expires",
    "u": "Allow-Events", "a": "Accept-Contact", "j": "Reject-Contact", "d": "Request-Disposition",
    "y": "Identity",
}

_CANONICAL_NAMES: Final = (
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
    "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
    "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "In-Reply-To",
    "Max-Forwards", "Min-Expires", "Min-SE", "MIME-Version", "Organization", "P-Asserted-Identity",
    "Priority", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck",
    "Reason", "Record-Route", "Refer-To", "Referred-By", "Replaces", "Reply-To", "Require",
    "Retry-After", "Route", "RSeq", "Server", "Session-Expires", "Subject",
    "Subscription-State", "Supported", "Timestamp", "To", "Unsupported", "User-Agent",
    "Via", "Warning", "WWW-Authenticate",
)
# Lower-case name (long or compact) -> canonical spelling used when serialising.
CANONICAL_NAME: Final = {name.lower(): name for name in _CANONICAL_NAMES} | {
    short: long for short, long in COMPACT_FORMS.items()
}

# Headers whose values are comma-separated lists (RFC 3261 §7.3.1). Authorization
# and the challenge headers contain commas but are NOT lists of values.
LIST_HEADERS: Final = frozenset(
    name.lower()
    for name in (
        "Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require",
        "Proxy-Require", "Unsupported", "Accept", "Accept-Encoding", "Accept-Language",
        "Allow-Events", "Content-Encoding", "Content-Language", "In-Reply-To", "Warning",
        "Alert-Info", "Call-Info", "Error-Info", "Reply-To", "P-Asserted-Identity",
    )
)

# Headers that RFC 3261 requires exactly one of (RFC 4475 §3.3.8).
SINGLE_HEADERS: Final = frozenset(("call-id", "to", "from", "cseq", "max-forwards",
                                   "content-length"))

# Methods this stack knows; anything else is an extension method (501 at a UAS).
METHODS: Final = frozenset(
    ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "UPDATE",
     "INFO", "REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE", "PUBLISH")
)


def reason_phrase(status: int) -> str:
    """The standard reason phrase for ``status`` (a class default if unknown)."""
    phrase = REASON_PHRASES.get(status)
    if phrase is not None:
        return phrase
    return REASON_PHRASES.get(status - status % 100, "Unknown")
