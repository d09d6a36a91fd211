"""One thread between the asyncio application and the synchronous storage.

The storage API is synchronous (SQLAlchemy, SQLite). The event loop must not
wait on a disk, and call records must be written in the order the events
happened (a call's end after its start). A :class:`StorageWorker` is a
single-thread executor: :meth:`StorageWorker.run` awaits a result,
:meth:`StorageWorker.submit` queues a write without waiting for it. Both keep
submission order, and there is only ever one writer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)


class StorageWorker:
    """Runs storage calls, one at a time and in order, off the event loop."""

    def __init__(self, name: str = "storage") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the storage thread and await its result."""
        future = self._executor.submit(functools.partial(fn, *args, **kwargs))
        return await asyncio.wrap_future(future)

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue ``fn(*args, **kwargs)`` without waiting; a failure is logged."""
        future = self._executor.submit(functools.partial(fn, *args, **kwargs))
        future.add_done_callback(_log_failure)
        return future

    def shutdown(self) -> None:
        """Finish everything queued, then stop the thread."""
        self._executor.shutdown(wait=True)


def _log_failure(future: Future[Any]) -> None:
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        log.error("storage write failed", exc_info=error)
