"""The application's side of storage: CDR facts (F-OPS-3) and registrar
bindings (F-SIP-5), written in order by one thread so the event loop never
waits on the disk.

The event loop only appends to a :class:`~softswitch.storage.BatchWriter`;
its thread turns whatever has accumulated (at most ``BATCH_WINDOW`` = 0.1 s
of facts, or ``BATCH_LIMIT`` items) into storage writes and commits them in
one transaction. The heartbeat is queued behind the facts before it and
written at once; :meth:`Persistence.close` writes everything queued before it
ends the calls still up.

Trade-off, plainly: a process killed (SIGKILL, power loss aside) loses the
facts of the last batch window not yet committed, i.e. those of roughly the
last 0.1 s plus the time the batch takes to write. A call whose CallStarted
fact was among them has no row at all, so its CDR is lost; this can only
happen to a call that started within that window before the crash. Any call
whose start was committed keeps its ``active`` row, which start-up recovery
finishes at its last committed heartbeat or answer (an answer lost in the
window makes that call unbilled). A normal stop loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sipstack.events import Address
from softswitch.cdr import CdrFact, CdrRecorder
from softswitch.location import Binding, LocationService
from softswitch.storage import BatchWriter, Storage, Write, open_storage
from softswitch.storage.records import Binding as StoredBinding
from softswitch.storage.worker import BATCH_WINDOW
from softswitch.storage.writes import PurgeExpired, RemoveBinding, SaveBinding

log = logging.getLogger(__name__)


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def to_stored(binding: Binding) -> StoredBinding:
    return StoredBinding(aor=binding.aor, contact=binding.contact,
                         expires_at=_utc(binding.expires_at), call_id=binding.call_id,
                         cseq=binding.cseq, received=binding.source,
                         user_agent=binding.user_agent or None, q=binding.q)


def from_stored(row: StoredBinding) -> Binding | None:
    source = row.received
    if source is None:
        log.warning("binding %s of %s has no source address; dropped", row.contact, row.aor)
        return None
    return Binding(row.aor, row.contact, Address(source.transport, source.host, source.port),
                   row.expires_at.timestamp(), row.call_id, row.cseq,
                   1.0 if row.q is None else row.q, row.user_agent or "")


Item = CdrFact | Binding | Write  # a Binding queued is one to save


class Persistence:
    """Storage, the CDR recorder and the batch writer that feeds them."""

    def __init__(self, url: str, node: str = "", window: float = BATCH_WINDOW) -> None:
        self.storage: Storage = open_storage(url)
        self.recorder = CdrRecorder(self.storage, node)
        self.writer: BatchWriter[Item] = BatchWriter(self._write, window)

    def recover(self, location: LocationService, now: float) -> list[str]:
        """At start-up: finish the CDRs of calls cut short by a crash and load
        the bindings that have not expired. Returns the recovered call ids."""
        recovered = self.recorder.recover_interrupted()
        for row in self.storage.all_bindings(_utc(now)):
            binding = from_stored(row)
            if binding is not None:
                location.put(binding)
        return recovered

    def record(self, fact: CdrFact) -> None:
        self.writer.put(fact)

    def heartbeat(self) -> None:
        """Stamp the active calls now, after writing every fact queued before."""
        self.writer.put(self.recorder.heartbeat_write())
        self.writer.flush_soon()

    def binding_changed(self, added: tuple[Binding, ...], removed: tuple[Binding, ...]) -> None:
        for binding in added:
            self.writer.put(binding)
        for binding in removed:
            self.writer.put(RemoveBinding(binding.aor, binding.contact))

    def purge(self, now: float) -> None:
        self.writer.put(PurgeExpired(_utc(now)))

    def sync(self) -> None:
        """Block until everything queued so far is committed."""
        self.writer.flush()

    async def close(self) -> None:
        """Flush: write what is queued, end every call still up as interrupted, close."""
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        self.writer.close()
        self.recorder.flush()
        self.storage.close()

    def _write(self, items: list[Item]) -> None:
        self.storage.write([self._write_of(item) for item in items])

    def _write_of(self, item: Item) -> Write:
        if isinstance(item, Binding):
            return SaveBinding(to_stored(item))
        if isinstance(item, CdrFact):
            return self.recorder.write_of(item)
        return item
