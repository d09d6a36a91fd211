"""Messages between the softswitch process and its media workers.

One AF_UNIX SOCK_SEQPACKET socket per worker carries pickled tuples, one per
packet (message boundaries are kept), and the RTP/RTCP sockets of a new leg
travel with their command as file descriptors (SCM_RIGHTS): the main process
binds, so it knows the port it puts in the SDP at once, and the worker owns
the socket from then on.

Commands posted during one turn of the main loop travel together as one
``BATCH`` packet: ``(BATCH, "", ((command, descriptor count), …))`` with
every command's descriptors attached in order, so a new call costs one
send, not one per command.
"""

from __future__ import annotations

import array
import pickle
import socket
from typing import Any

MAX_MESSAGE = 65536
# Descriptors one packet may carry (the kernel's SCM_MAX_FD is 253).
MAX_FDS = 64
BATCH_COMMANDS = 64
FDS_SPACE = socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize)

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
BATCH = "batch"          # (BATCH, "", ((command, fd count), ...)) + every command's fds

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


Posted = tuple[tuple[Any, ...], tuple[socket.socket, ...]]


def batches(posted: list[Posted]) -> list[list[Posted]]:
    """``posted`` commands in order, cut where a packet would carry too many."""
    out: list[list[Posted]] = []
    current: list[Posted] = []
    fds = 0
    for item in posted:
        if current and (len(current) >= BATCH_COMMANDS or fds + len(item[1]) > MAX_FDS):
            out.append(current)
            current, fds = [], 0
        current.append(item)
        fds += len(item[1])
    if current:
        out.append(current)
    return out


def send_batch(sock: socket.socket, posted: list[Posted]) -> None:
    """One packet for ``posted`` (a single command goes as itself)."""
    if len(posted) == 1:
        message, sockets = posted[0]
        send(sock, message, [s.fileno() for s in sockets])
        return
    data = pickle.dumps((BATCH, "", tuple((m, len(s)) for m, s in posted)),
                        protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) > MAX_MESSAGE:  # long paths or prompt names: halve until it fits
        middle = len(posted) // 2
        send_batch(sock, posted[:middle])
        send_batch(sock, posted[middle:])
        return
    fds = [s.fileno() for _, sockets in posted for s in sockets]
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


def unbatch(commands: tuple[tuple[tuple[Any, ...], int], ...], fds: list[int]
            ) -> list[tuple[tuple[Any, ...], list[int]]]:
    """A ``BATCH``'s commands, each with its own descriptors."""
    out: list[tuple[tuple[Any, ...], list[int]]] = []
    at = 0
    for message, count in commands:
        out.append((message, fds[at:at + count]))
        at += count
    return out


def receive(sock: socket.socket, flags: int = 0) -> tuple[tuple[Any, ...] | None, list[int]]:
    """One message and the descriptors that came with it; (None, []) at EOF."""
    # socket.recv_fds of Python 3.11 drops ``flags`` (MSG_DONTWAIT): recvmsg here.
    data, ancillary, _, _ = sock.recvmsg(MAX_MESSAGE, FDS_SPACE, flags)
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    if not data:
        return None, list(fds)
    message = pickle.loads(data)
    if not isinstance(message, tuple):
        raise ValueError("malformed control message")
    return message, list(fds)
