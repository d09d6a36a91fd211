"""The SQLAlchemy implementation of :class:`~softswitch.storage.Storage`.

Every method is synchronous and runs in its own transaction, committed before
it returns. The instance is thread-safe: with SQLite, writes are serialised by
one lock (SQLite has a single writer; serialising in-process avoids
``database is locked`` between our own threads), while reads on a file
database run beside them thanks to WAL. An in-memory database has a single
shared connection, so there reads take the lock too. With PostgreSQL nothing
is serialised here; the server does its own locking.

The asyncio application does not call these methods on the event loop: it
hands them to :class:`~softswitch.storage.worker.StorageWorker`, one thread
that runs them in submission order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Executable, and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from softswitch.storage import rows
from softswitch.storage.engine import is_memory, is_sqlite, make_engine
from softswitch.storage.records import (
    Binding,
    CallEnd,
    CallRecord,
    CallState,
    LegEnd,
    LegRecord,
)
from softswitch.storage.tables import add_missing_columns, call_legs, calls, metadata, registrations

_ACTIVE = CallState.ACTIVE.value
_BINDING_KEY = ("aor", "contact")


class SqlStorage:
    """Call records and registrar bindings in any SQLAlchemy database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        serialise = is_sqlite(engine.url)
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if serialise else nullcontext()
        )
        self._read_lock = self._write_lock if is_memory(engine.url) else nullcontext()
        metadata.create_all(engine)
        with engine.begin() as conn:
            add_missing_columns(conn)

    @classmethod
    def open(cls, url: str) -> SqlStorage:
        return cls(make_engine(url))

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._write_lock, self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self._read_lock, self._engine.connect() as conn:
            yield conn

    # -- call detail records ----------------------------------------------

    def insert_call(self, call: CallRecord) -> None:
        with self._writing() as conn:
            conn.execute(insert(calls).values(rows.call_to_row(call)))

    def answer_call(self, call_id: str, at: datetime) -> bool:
        stmt = (
            update(calls)
            .where(calls.c.id == call_id, calls.c.state == _ACTIVE,
                   calls.c.answer_time.is_(None))
            .values(answer_time=at, heartbeat=at)
        )
        with self._writing() as conn:
            return conn.execute(stmt).rowcount == 1

    def set_recording(self, call_id: str, path: str) -> bool:
        stmt = update(calls).where(calls.c.id == call_id).values(recording=path)
        with self._writing() as conn:
            return conn.execute(stmt).rowcount == 1

    def end_call(self, call_id: str, end: CallEnd) -> bool:
        with self._writing() as conn:
            found = conn.execute(
                select(calls.c.start_time, calls.c.answer_time)
                .where(calls.c.id == call_id, calls.c.state == _ACTIVE)
            ).first()
            if found is None:
                return False
            start, answer = found
            at = max(end.at, start, answer or start)
            values = _end_values(start, answer, at, end)
            conn.execute(update(calls).where(calls.c.id == call_id).values(values))
            conn.execute(
                update(call_legs)
                .where(call_legs.c.call_id == call_id, call_legs.c.end_time.is_(None))
                .values(end_time=at, hangup_side=end.hangup_side.value)
            )
            return True

    def heartbeat(self, node: str, at: datetime) -> int:
        stmt = (
            update(calls)
            .where(calls.c.state == _ACTIVE, calls.c.node == node)
            .values(heartbeat=at)
        )
        with self._writing() as conn:
            return conn.execute(stmt).rowcount

    def active_calls(self, node: str | None = None) -> list[CallRecord]:
        stmt = select(calls).where(calls.c.state == _ACTIVE).order_by(calls.c.start_time)
        if node is not None:
            stmt = stmt.where(calls.c.node == node)
        with self._reading() as conn:
            return [rows.call_from_row(r) for r in conn.execute(stmt).mappings()]

    def get_call(self, call_id: str) -> CallRecord | None:
        with self._reading() as conn:
            row = conn.execute(select(calls).where(calls.c.id == call_id)).mappings().first()
        return None if row is None else rows.call_from_row(row)

    def list_calls(
        self, limit: int = 100, offset: int = 0, since: datetime | None = None
    ) -> list[CallRecord]:
        stmt = select(calls).order_by(calls.c.start_time.desc(), calls.c.id)
        if since is not None:
            stmt = stmt.where(calls.c.start_time >= since)
        with self._reading() as conn:
            result = conn.execute(stmt.limit(limit).offset(offset)).mappings()
            return [rows.call_from_row(r) for r in result]

    def insert_leg(self, leg: LegRecord) -> None:
        with self._writing() as conn:
            conn.execute(insert(call_legs).values(rows.leg_to_row(leg)))

    def answer_leg(self, call_id: str, index: int, at: datetime) -> bool:
        stmt = (
            update(call_legs)
            .where(_leg_key(call_id, index), call_legs.c.answer_time.is_(None),
                   call_legs.c.end_time.is_(None))
            .values(answer_time=at)
        )
        with self._writing() as conn:
            return conn.execute(stmt).rowcount == 1

    def end_leg(self, call_id: str, index: int, end: LegEnd) -> bool:
        side = None if end.hangup_side is None else end.hangup_side.value
        stmt = (
            update(call_legs)
            .where(_leg_key(call_id, index), call_legs.c.end_time.is_(None))
            .values(end_time=end.at, final_status=end.final_status, reason=end.reason,
                    hangup_side=side)
        )
        with self._writing() as conn:
            return conn.execute(stmt).rowcount == 1

    def legs(self, call_id: str) -> list[LegRecord]:
        stmt = select(call_legs).where(call_legs.c.call_id == call_id).order_by(
            call_legs.c.leg_index
        )
        with self._reading() as conn:
            return [rows.leg_from_row(r) for r in conn.execute(stmt).mappings()]

    # -- registrar bindings ------------------------------------------------

    def save_binding(self, binding: Binding) -> None:
        row = rows.binding_to_row(binding)
        with self._writing() as conn:
            upsert = _upsert_binding(conn.dialect.name, row)
            if upsert is not None:
                conn.execute(upsert)
                return
            conn.execute(delete(registrations).where(_binding_key(binding.aor, binding.contact)))
            conn.execute(insert(registrations).values(row))

    def remove_binding(self, aor: str, contact: str) -> bool:
        with self._writing() as conn:
            stmt = delete(registrations).where(_binding_key(aor, contact))
            return conn.execute(stmt).rowcount > 0

    def remove_all(self, aor: str) -> int:
        with self._writing() as conn:
            return conn.execute(delete(registrations).where(registrations.c.aor == aor)).rowcount

    def bindings(self, aor: str, now: datetime) -> list[Binding]:
        return self._select_bindings(now, registrations.c.aor == aor)

    def all_bindings(self, now: datetime) -> list[Binding]:
        return self._select_bindings(now)

    def purge_expired(self, now: datetime) -> int:
        stmt = delete(registrations).where(registrations.c.expires_at <= now)
        with self._writing() as conn:
            return conn.execute(stmt).rowcount

    def _select_bindings(self, now: datetime, *where: Any) -> list[Binding]:
        stmt = (
            select(registrations)
            .where(registrations.c.expires_at > now, *where)
            .order_by(registrations.c.aor, registrations.c.id)
        )
        with self._reading() as conn:
            return [rows.binding_from_row(r) for r in conn.execute(stmt).mappings()]


def _end_values(
    start: datetime, answer: datetime | None, at: datetime, end: CallEnd
) -> dict[str, Any]:
    return {
        "end_time": at,
        "duration": rows.seconds_between(start, at),
        "billable_seconds": 0.0 if answer is None else rows.seconds_between(answer, at),
        "disposition": end.disposition.value,
        "sip_status": end.sip_status,
        "sip_cause": end.sip_cause,
        "hangup_side": end.hangup_side.value,
        "end_reason": end.end_reason,
        "state": CallState.ENDED.value,
        "heartbeat": at,
    }


def _leg_key(call_id: str, index: int) -> Any:
    return and_(call_legs.c.call_id == call_id, call_legs.c.leg_index == index)


def _binding_key(aor: str, contact: str) -> Any:
    return and_(registrations.c.aor == aor, registrations.c.contact == contact)


def _upsert_binding(dialect: str, row: dict[str, Any]) -> Executable | None:
    """INSERT .. ON CONFLICT (aor, contact) DO UPDATE, where the dialect has it."""
    changed = {k: v for k, v in row.items() if k not in _BINDING_KEY}
    if dialect == "sqlite":
        lite = sqlite.insert(registrations).values(row)
        return lite.on_conflict_do_update(index_elements=_BINDING_KEY, set_=changed)
    if dialect == "postgresql":
        pg = postgresql.insert(registrations).values(row)
        return pg.on_conflict_do_update(index_elements=_BINDING_KEY, set_=changed)
    return None
