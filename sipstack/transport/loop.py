"""Event loop choice: uvloop when it is installed, stock asyncio otherwise."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop, uvloop's when available (several times faster for
    packet-per-callback work such as SIP over UDP)."""
    try:
        import uvloop
    except ImportError:
        log.info("uvloop not installed; using the stock asyncio loop")
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def install_uvloop() -> bool:
    """Make ``asyncio.run`` use uvloop; returns whether it could."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True
