"""Event loop choice: uvloop when it is installed, stock asyncio otherwise."""

from __future__ import annotations

import asyncio
import logging
import time

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


def tune_gc(threshold: int = 50_000) -> None:
    """Collect garbage less often and never re-scan what exists at start-up.

    Transactions keep their messages for up to 64*T1 (32 s), so under load
    the young generation fills with objects that are still alive and every
    full collection walks all of them. Raising the first threshold and
    freezing the start-up heap (modules, configuration) keeps collections
    short; reference counting still frees almost everything at once.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, 50, 100)
    gc.callbacks.append(_GcTimer().callback)


class _GcTimer:
    """Logs a garbage collection that stopped the process for long: every
    packet waits for it, so a pause past a SIP retransmission timer (500 ms)
    shows up as retransmissions and failed calls at modest CPU."""

    SLOW = 0.1  # seconds

    def __init__(self) -> None:
        self._began = 0.0

    def callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        took = time.perf_counter() - self._began
        if took >= self.SLOW:
            log.warning("garbage collection of generation %d took %.2f s (%d collected)",
                        info.get("generation", -1), took, info.get("collected", 0))
