"""asyncio adapters that drive the sans-IO endpoint: UDP, TCP, one loop timer."""

from sipstack.transport.loop import install_uvloop, new_event_loop, tune_gc
from sipstack.transport.runner import Runner, SansIO

__all__ = ["Runner", "SansIO", "install_uvloop", "new_event_loop", "tune_gc"]
