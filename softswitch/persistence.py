"""The application's side of storage: CDR facts and registrar bindings, written
in order by one worker thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sipstack.events import Address
from softswitch.cdr import CdrFact, CdrRecorder
from softswitch.location import Binding, LocationService
from softswitch.storage import Storage, StorageWorker, open_storage
from softswitch.storage.records import Binding as StoredBinding

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


class Persistence:
    """Storage, the CDR recorder and the worker thread that feeds them."""

    def __init__(self, url: str, node: str = "") -> None:
        self.storage: Storage = open_storage(url)
        self.recorder = CdrRecorder(self.storage, node)
        self.worker = StorageWorker()

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
        self.worker.submit(self.recorder.record, fact)

    def heartbeat(self) -> None:
        self.worker.submit(self.recorder.heartbeat)

    def binding_changed(self, added: tuple[Binding, ...], removed: tuple[Binding, ...]) -> None:
        for binding in added:
            self.worker.submit(self.storage.save_binding, to_stored(binding))
        for binding in removed:
            self.worker.submit(self.storage.remove_binding, binding.aor, binding.contact)

    def purge(self, now: float) -> None:
        self.worker.submit(self.storage.purge_expired, _utc(now))

    async def close(self) -> None:
        """Flush: every call still up is ended as interrupted, then close."""
        await self.worker.run(self.recorder.flush)
        self.worker.shutdown()
        self.storage.close()
