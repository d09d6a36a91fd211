"""Loopback ports for test peers: find free ones, see when one is taken.

Ports come from the kernel (bind to port 0), so parallel tests rarely
collide; ``port_in_use`` reads /proc/net instead of binding, so looking never
steals the port from the peer that is about to take it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOOPBACK = "127.0.0.1"
_KINDS = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}


def free_port(transport: str = "udp") -> int:
    """A port on 127.0.0.1 that is free for ``transport`` right now."""
    with socket.socket(socket.AF_INET, _KINDS[transport]) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _is_free(port: int) -> bool:
    for kind in _KINDS.values():
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                return False
    return True


def free_port_block(count: int, low: int = 20000, high: int = 60000, tries: int = 200) -> int:
    """The first of ``count`` consecutive ports free for both UDP and TCP."""
    for _ in range(tries):
        base = random.randrange(low, high - count)
        if all(_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no block of {count} free ports found in {tries} tries")


def port_in_use(port: int, transport: str = "udp") -> bool:
    """Whether some socket is bound to ``port`` (read from /proc/net, no bind)."""
    wanted = f":{port:04X}"
    for table in (f"/proc/net/{transport}", f"/proc/net/{transport}6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[1].endswith(wanted):
                if transport == "tcp" and parts[3] != "0A":  # only LISTEN sockets
                    continue
                return True
    return False
