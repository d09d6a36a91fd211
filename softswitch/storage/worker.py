"""One thread between the asyncio application and the synchronous storage.

The storage API is synchronous (SQLAlchemy, SQLite). The event loop must not
wait on a disk, and call records must be written in the order the events
happened (a call's end after its start). Two ways across, both keeping
submission order with only ever one writer:

- :class:`BatchWriter` (what the switch uses for CDR facts and bindings):
  :meth:`BatchWriter.put` appends to a list under a lock and returns; the
  thread wakes on the first item, lets the batch fill for ``window`` seconds
  (or until ``limit`` items, or :meth:`BatchWriter.flush_soon`), then hands
  everything accumulated to one write call (one transaction). A process killed
  meanwhile loses what was put in the last window and not yet committed: the
  price of one commit per batch instead of one per fact.
- :class:`StorageWorker`: a single-thread executor, one call at a time;
  :meth:`StorageWorker.run` awaits a result, :meth:`StorageWorker.submit`
  queues a call without waiting for it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, ParamSpec, TypeVar

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


BATCH_WINDOW = 0.1  # seconds a batch may fill before it is written
BATCH_LIMIT = 1000  # items that make a batch be written at once


class BatchWriter(Generic[T]):
    """Collects items from any thread and writes them in batches, in order,
    from one thread of its own: ``write`` gets each batch as a list."""

    def __init__(self, write: Callable[[list[T]], object], window: float = BATCH_WINDOW,
                 limit: int = BATCH_LIMIT, name: str = "storage-batch") -> None:
        self._write = write
        self._window = window
        self._limit = limit
        self._cond = threading.Condition()
        self._pending: list[T] = []
        self._queued = 0  # items ever put
        self._written = 0  # items whose batch has been written (or failed)
        self._urgent = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, item: T) -> None:
        """Queue ``item`` for the next batch; never blocks on the database."""
        with self._cond:
            if self._closing:
                raise RuntimeError("batch writer is closed")
            self._pending.append(item)
            self._queued += 1
            if len(self._pending) == 1 or len(self._pending) >= self._limit:
                self._cond.notify_all()

    def flush_soon(self) -> None:
        """Write what is queued now, without waiting for the window to pass."""
        with self._cond:
            self._urgent = True
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything put before this call is written; False on timeout."""
        with self._cond:
            target = self._queued
            self._urgent = True
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._written >= target, timeout)

    def close(self) -> None:
        """Write everything queued, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()

    def _ready(self) -> bool:
        return self._closing or self._urgent or len(self._pending) >= self._limit

    def _next_batch(self) -> list[T] | None:
        with self._cond:
            self._cond.wait_for(lambda: bool(self._pending) or self._closing)
            if not self._ready():
                self._cond.wait_for(self._ready, self._window)
            items, self._pending = self._pending, []
            self._urgent = False
            return None if not items and self._closing else items

    def _run(self) -> None:
        while (items := self._next_batch()) is not None:
            try:
                self._write(items)
            except Exception:
                log.exception("storage batch of %d items failed", len(items))
            with self._cond:
                self._written += len(items)
                self._cond.notify_all()


def _log_failure(future: Future[Any]) -> None:
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        log.error("storage write failed", exc_info=error)
