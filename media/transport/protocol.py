"""Messages between the softswitch process and its media workers.

One AF_UNIX SOCK_SEQPACKET socket per worker carries pickled tuples, one per
packet (message boundaries are kept), and the RTP/RTCP sockets of a new leg
travel with their command as file descriptors (SCM_RIGHTS): the main process
binds, so it knows the port it puts in the SDP at once, and the worker owns
the socket from then on.

Commands posted during one turn of the main loop travel together as one
``BATCH`` packet: ``(BATCH, "", ((command, descriptor count), …))`` with
every command's descriptors attached in order, so a new call costs one
send, not one per command. A packet never exceeds :data:`MAX_MESSAGE` bytes
nor :data:`MAX_FDS` descriptors (what the reader makes room for);
:func:`batches` and :func:`send_batch` cut longer runs of commands. A packet
that breaks these rules, or does not unpickle to a command, raises
:class:`ControlError` and its descriptors are closed.
"""

from __future__ import annotations

import array
import contextlib
import os
import pickle
import socket
from collections.abc import Iterable
from typing import Any

from media.errors import MediaError

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


class ControlError(MediaError):
    """A control packet that cannot be sent or is not a well-formed command."""


def close_fds(fds: Iterable[int]) -> None:
    """Close descriptors that arrived with a packet nobody will adopt."""
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def send(sock: socket.socket, message: tuple[Any, ...], fds: list[int] | None = None) -> None:
    """One packet; :class:`ControlError` (nothing sent) when the reader could
    not take it whole."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) > MAX_MESSAGE or len(fds or ()) > MAX_FDS:
        raise ControlError(f"{message[0]!r} is {len(data)} bytes with {len(fds or ())} "
                           f"descriptors (at most {MAX_MESSAGE} and {MAX_FDS})")
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


def send_batch(sock: socket.socket, posted: list[Posted]) -> list[tuple[Posted, ControlError]]:
    """``posted`` in one packet (a single command goes as itself), halved until
    each packet fits :data:`MAX_MESSAGE` and :data:`MAX_FDS`. Returns the
    commands too big for any packet (not sent), each with the reason."""
    if len(posted) == 1:
        message, sockets = posted[0]
        try:
            send(sock, message, [s.fileno() for s in sockets])
        except ControlError as exc:
            return [(posted[0], exc)]
        return []
    data = pickle.dumps((BATCH, "", tuple((m, len(s)) for m, s in posted)),
                        protocol=pickle.HIGHEST_PROTOCOL)
    fds = [s.fileno() for _, sockets in posted for s in sockets]
    if len(data) > MAX_MESSAGE or len(fds) > MAX_FDS:  # long paths or prompt names
        middle = len(posted) // 2
        return send_batch(sock, posted[:middle]) + send_batch(sock, posted[middle:])
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)
    return []


def unbatch(commands: object, fds: list[int]) -> list[tuple[tuple[Any, ...], list[int]]]:
    """A ``BATCH``'s commands, each with its own descriptors; raises
    :class:`ControlError` (closing nothing: ``fds`` stay the caller's) when
    ``commands`` is not a tuple of (command, count) pairs whose counts add up
    to the descriptors that came."""
    if not isinstance(commands, tuple):
        raise ControlError(f"batch of {type(commands).__name__}, not a tuple")
    out: list[tuple[tuple[Any, ...], list[int]]] = []
    at = 0
    for item in commands:
        if not (isinstance(item, tuple) and len(item) == 2 and _is_message(item[0])
                and type(item[1]) is int and item[1] >= 0):
            raise ControlError(f"batch entry {len(out)} is not a (command, count) pair")
        message, count = item
        out.append((message, fds[at:at + count]))
        at += count
    if at != len(fds):
        raise ControlError(f"batch claims {at} descriptors, {len(fds)} came")
    return out


def _is_message(message: object) -> bool:
    """A ``(name, call_id, *args)`` tuple."""
    return (isinstance(message, tuple) and len(message) >= 2
            and isinstance(message[0], str) and isinstance(message[1], str))


def receive(sock: socket.socket, flags: int = 0) -> tuple[tuple[Any, ...] | None, list[int]]:
    """One message and the descriptors that came with it; (None, []) at EOF.
    A packet cut short or not a command raises :class:`ControlError` and its
    descriptors are closed."""
    # socket.recv_fds of Python 3.11 drops ``flags`` (MSG_DONTWAIT): recvmsg here.
    data, ancillary, msg_flags, _ = sock.recvmsg(MAX_MESSAGE, FDS_SPACE, flags)
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    if not data:
        return None, list(fds)
    try:
        if msg_flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
            raise ControlError(f"control packet cut short (flags {msg_flags:#x})")
        message = _loads(data)
    except ControlError:
        close_fds(fds)
        raise
    return message, list(fds)


def _loads(data: bytes) -> tuple[Any, ...]:
    try:
        message = pickle.loads(data)
    except Exception as exc:  # unpickling fails in many ways, none a command
        raise ControlError(f"control packet does not unpickle: {exc!r}") from None
    if not _is_message(message):
        raise ControlError(f"control packet is not a command: {type(message).__name__}")
    result: tuple[Any, ...] = message
    return result
