"""Message framing on stream transports (RFC 3261 §18.3, §7.5; RFC 5626 §3.5.1).

On TCP/TLS a message ends where its Content-Length says, so the header is
mandatory there; a missing, negative, malformed or conflicting value leaves
the stream unframeable and the connection must be closed.  CRLFs between
messages are skipped (§7.5); a double CRLF is an RFC 5626 keep-alive ping,
counted so the transport can answer each with a single CRLF pong.

:class:`StreamFramer` is sans-IO: ``feed()`` bytes as they arrive, then call
``next_message()`` until it returns ``None``.  Each message it returns is the
exact bytes of one message, ready for :func:`sipstack.parser.parse_message`.
"""

from __future__ import annotations

import re

from sipstack.constants import MAX_MESSAGE_SIZE
from sipstack.errors import RemoteProtocolError

PING = b"\r\n\r\n"
PONG = b"\r\n"
_FOLD_RE = re.compile(rb"\r\n[ \t]+")
_CONTENT_LENGTH_RE = re.compile(
    rb"^(?:content-length|l)[ \t]*:(.*)$", re.I | re.M
)


class StreamFramer:
    """Splits a byte stream into SIP messages by Content-Length."""

    __slots__ = ("_buffer", "_need", "_pings", "_scanned", "max_message_size")

    def __init__(self, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer known to hold no header end
        self._need: int | None = None  # total size of the message being read
        self._pings = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        """Append bytes received from the stream."""
        self._buffer += data

    def take_pings(self) -> int:
        """How many CRLF CRLF pings arrived since the last call (answer each
        with :data:`PONG`)."""
        pings, self._pings = self._pings, 0
        return pings

    def next_message(self) -> bytes | None:
        """The bytes of the next complete message, or ``None`` until more data
        arrives.  Raises :class:`RemoteProtocolError` when the stream cannot
        be framed; the connection must then be closed."""
        if self._need is None:
            self._skip_keepalives()
            if not self._buffer:
                return None
            self._need = self._frame_head()
            if self._need is None:
                return None
        need = self._need
        if len(self._buffer) < need:
            return None
        message = bytes(self._buffer[:need])
        del self._buffer[:need]
        self._need = None
        self._scanned = 0
        return message

    def _skip_keepalives(self) -> None:
        buffer = self._buffer
        while buffer and buffer[0] in (13, 10):
            if buffer.startswith(PING):
                self._pings += 1
                del buffer[:4]
            elif len(buffer) < 4 and PING.startswith(buffer):
                return  # maybe the first half of a ping: wait
            else:
                del buffer[: 2 if buffer.startswith(PONG) else 1]

    def _frame_head(self) -> int | None:
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n", max(0, self._scanned - 3))
        if end < 0:
            self._scanned = len(buffer)
            if len(buffer) > self.max_message_size:
                raise RemoteProtocolError("header section too large", 513)
            return None
        head = bytes(buffer[:end])
        total = end + 4 + _content_length(head)
        if total > self.max_message_size:
            raise RemoteProtocolError("message too large", 513)
        return total


def _content_length(head: bytes) -> int:
    """The one Content-Length of a header section (lines unfolded first)."""
    hint = None if head[:4].upper() == b"SIP/" else 400
    fields = _FOLD_RE.sub(b" ", head.partition(b"\r\n")[2])
    values = {v.strip() for v in _CONTENT_LENGTH_RE.findall(fields)}
    if not values:
        raise RemoteProtocolError("Content-Length is mandatory on a stream", hint)
    if len(values) > 1:
        raise RemoteProtocolError("conflicting Content-Length values", hint)
    value = values.pop()
    if not value.isdigit() or len(value) > 10:
        raise RemoteProtocolError(f"invalid Content-Length {value[:20]!r}", hint)
    return int(value)
