"""Messages between the softswitch process and its media workers.

One AF_UNIX SOCK_SEQPACKET socket per worker carries pickled tuples, one per
packet (message boundaries are kept), and the RTP/RTCP sockets of a new leg
travel with their command as file descriptors (SCM_RIGHTS): the main process
binds, so it knows the port it puts in the SDP at once, and the worker owns
the socket from then on.
"""

from __future__ import annotations

import pickle
import socket
from typing import Any

MAX_MESSAGE = 65536

# Commands (main -> worker): (name, call_id, *args)
OPEN = "open"            # (OPEN, call_id, rtp_timeout)
LEG = "leg"              # (LEG, call_id, leg) + fds [rtp, rtcp]
CONFIGURE = "configure"  # (CONFIGURE, call_id, leg, LegConfig)
PLAY = "play"            # (PLAY, call_id, leg, prompt, language, loop)
STOP_PLAY = "stop_play"  # (STOP_PLAY, call_id, leg)
HOLD = "hold"            # (HOLD, call_id, leg, on, language)
INBAND = "inband"        # (INBAND, call_id, leg, on)
BRIDGE = "bridge"        # (BRIDGE, call_id, on)
RECORD = "record"        # (RECORD, call_id, path)
STOP_RECORD = "stop_record"  # (STOP_RECORD, call_id)
CLOSE = "close"          # (CLOSE, call_id)
STATS = "stats"          # (STATS, "") -> STATS event with the worker's counters
QUIT = "quit"            # (QUIT, "")

# Events (worker -> main): (name, call_id, *args)
DIGIT = "digit"          # (DIGIT, call_id, leg, digit, source)
TIMEOUT = "timeout"      # (TIMEOUT, call_id, leg, silent_for)
PLAYED = "played"        # (PLAYED, call_id, leg, prompt)
RECORDED = "recorded"    # (RECORDED, call_id, path, seconds)
ERROR = "error"          # (ERROR, call_id, message)


def send(sock: socket.socket, message: tuple[Any, ...], fds: list[int] | None = None) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


def receive(sock: socket.socket) -> tuple[tuple[Any, ...] | None, list[int]]:
    """One message and the descriptors that came with it; (None, []) at EOF."""
    data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 4)
    if not data:
        return None, fds
    message = pickle.loads(data)
    if not isinstance(message, tuple):
        raise ValueError("malformed control message")
    return message, fds
