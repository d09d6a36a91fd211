"""The SQLAlchemy implementation of :class:`~softswitch.storage.Storage`.

Writes are :mod:`~softswitch.storage.writes` values applied by :meth:`SqlStorage.write`,
in order, in one transaction committed before it returns; the single-row methods
are the one-write case. The statements are built once
(:mod:`~softswitch.storage.statements`): on SQLite they run on the DB-API cursor
of the transaction, elsewhere through SQLAlchemy Core. Should a batch fail, it is
rolled back and each of its writes is retried in a transaction of its own, so a
bad write (a leg of an unknown call) costs only itself.

The instance is thread-safe: with SQLite, writes are serialised by one lock
(SQLite has a single writer; serialising in-process avoids ``database is
locked`` between our own threads), while reads on a file database run beside
them thanks to WAL. An in-memory database has a single shared connection, so
there reads take the lock too. With PostgreSQL nothing is serialised here; the
server does its own locking.

The asyncio application does not call these methods on the event loop: it
hands them to a worker thread (:mod:`~softswitch.storage.worker`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from softswitch.storage import routing_state, rows
from softswitch.storage import statements as st
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
from softswitch.storage.writes import (
    AnswerCall,
    AnswerLeg,
    EndCall,
    EndLeg,
    Heartbeat,
    InsertCall,
    InsertLeg,
    PurgeExpired,
    RemoveAll,
    RemoveBinding,
    SaveBinding,
    SetRecording,
    Write,
)

_ACTIVE = CallState.ACTIVE.value

log = logging.getLogger(__name__)


class SqlStorage:
    """Call records and registrar bindings in any SQLAlchemy database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        serialise = is_sqlite(engine.url)
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if serialise else nullcontext()
        )
        self._read_lock = self._write_lock if is_memory(engine.url) else nullcontext()
        self._dbapi = serialise
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

    def write(self, writes: Sequence[Write]) -> list[int]:
        """Apply ``writes`` in order in one transaction; rows changed by each.

        If a transaction of several writes fails it is rolled back and every
        write is retried alone, in order; one that fails alone is logged and
        counts 0. The error of a single write is raised to the caller.
        """
        if not writes:
            return []
        try:
            return self._write_all(writes)
        except Exception:
            if len(writes) == 1:
                raise
            log.exception("storage batch of %d writes failed; retrying one by one",
                          len(writes))
        return [self._write_alone(w) for w in writes]

    def _write_all(self, writes: Sequence[Write]) -> list[int]:
        with self._writing() as conn:
            executor = self._executor(conn)
            try:
                return apply_writes(executor, writes)
            finally:
                if isinstance(executor, st.DbapiExecutor):
                    executor.close()

    def _write_alone(self, write: Write) -> int:
        try:
            return self._write_all((write,))[0]
        except Exception:
            log.exception("storage write failed: %r", write)
            return 0

    def _executor(self, conn: Connection) -> st.Executor:
        return st.DbapiExecutor(conn) if self._dbapi else st.CoreExecutor(conn)

    # -- call detail records ----------------------------------------------

    def insert_call(self, call: CallRecord) -> None:
        self._write_all((InsertCall(call),))

    def answer_call(self, call_id: str, at: datetime) -> bool:
        return self._write_all((AnswerCall(call_id, at),)) == [1]

    def set_recording(self, call_id: str, path: str) -> bool:
        return self._write_all((SetRecording(call_id, path),)) == [1]

    def end_call(self, call_id: str, end: CallEnd) -> bool:
        return self._write_all((EndCall(call_id, end),)) == [1]

    def heartbeat(self, node: str, at: datetime) -> int:
        return self._write_all((Heartbeat(node, at),))[0]

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
        self._write_all((InsertLeg(leg),))

    def answer_leg(self, call_id: str, index: int, at: datetime) -> bool:
        return self._write_all((AnswerLeg(call_id, index, at),)) == [1]

    def end_leg(self, call_id: str, index: int, end: LegEnd) -> bool:
        return self._write_all((EndLeg(call_id, index, end),)) == [1]

    def legs(self, call_id: str) -> list[LegRecord]:
        stmt = select(call_legs).where(call_legs.c.call_id == call_id).order_by(
            call_legs.c.leg_index
        )
        with self._reading() as conn:
            return [rows.leg_from_row(r) for r in conn.execute(stmt).mappings()]

    # -- registrar bindings ------------------------------------------------

    def save_binding(self, binding: Binding) -> None:
        self._write_all((SaveBinding(binding),))

    def remove_binding(self, aor: str, contact: str) -> bool:
        return self._write_all((RemoveBinding(aor, contact),))[0] > 0

    def remove_all(self, aor: str) -> int:
        return self._write_all((RemoveAll(aor),))[0]

    def bindings(self, aor: str, now: datetime) -> list[Binding]:
        return self._select_bindings(now, registrations.c.aor == aor)

    def all_bindings(self, now: datetime) -> list[Binding]:
        return self._select_bindings(now)

    def purge_expired(self, now: datetime) -> int:
        return self._write_all((PurgeExpired(now),))[0]

    # -- routing state changed at run time (F-ROUTE-5, F-ROUTE-8) -----------

    def save_member_status(self, extension: str, status: str, at: datetime) -> None:
        with self._writing() as conn:
            routing_state.save_member_status(conn, extension, status, at)

    def member_statuses(self) -> dict[str, str]:
        with self._reading() as conn:
            return routing_state.member_statuses(conn)

    def add_blacklisted(self, number: str, at: datetime) -> bool:
        with self._writing() as conn:
            return routing_state.add_blacklisted(conn, number, at)

    def blacklisted(self) -> list[str]:
        with self._reading() as conn:
            return routing_state.blacklisted(conn)

    def _select_bindings(self, now: datetime, *where: Any) -> list[Binding]:
        stmt = (
            select(registrations)
            .where(registrations.c.expires_at > now, *where)
            .order_by(registrations.c.aor, registrations.c.id)
        )
        with self._reading() as conn:
            return [rows.binding_from_row(r) for r in conn.execute(stmt).mappings()]


def apply_writes(ex: st.Executor, writes: Sequence[Write]) -> list[int]:
    """Run ``writes`` in order on ``ex``; a run of inserts into the same table
    goes as one executemany."""
    counts: list[int] = []
    i = 0
    while i < len(writes):
        write = writes[i]
        if isinstance(write, InsertCall | InsertLeg):
            kind = type(write)
            j = i
            while j < len(writes) and type(writes[j]) is kind:
                j += 1
            _insert_many(ex, writes[i:j])
            counts.extend([1] * (j - i))
            i = j
            continue
        counts.append(_apply(ex, write))
        i += 1
    return counts


def _insert_many(ex: st.Executor, writes: Sequence[Write]) -> None:
    if isinstance(writes[0], InsertCall):
        ex.run_many(st.INSERT_CALL, [rows.call_to_row(w.call) for w in writes
                                     if isinstance(w, InsertCall)])
    else:
        ex.run_many(st.INSERT_LEG, [rows.leg_to_row(w.leg) for w in writes
                                    if isinstance(w, InsertLeg)])


def _apply(ex: st.Executor, write: Write) -> int:
    match write:
        case AnswerCall(call_id, at):
            return ex.run(st.ANSWER_CALL, {"p_call": call_id, "p_at": at})
        case SetRecording(call_id, path):
            return ex.run(st.SET_RECORDING, {"p_call": call_id, "p_path": path})
        case EndCall(call_id, end):
            return _end_call(ex, call_id, end)
        case Heartbeat(node, at):
            return ex.run(st.HEARTBEAT, {"p_node": node, "p_at": at})
        case AnswerLeg(call_id, index, at):
            return ex.run(st.ANSWER_LEG, {"p_call": call_id, "p_index": index, "p_at": at})
        case EndLeg(call_id, index, end):
            return ex.run(st.END_LEG, _leg_end_params(call_id, index, end))
        case SaveBinding(binding):
            return _save_binding(ex, binding)
        case RemoveBinding(aor, contact):
            return ex.run(st.DELETE_BINDING, {"p_aor": aor, "p_contact": contact})
        case RemoveAll(aor):
            return ex.run(st.DELETE_AOR, {"p_aor": aor})
        case PurgeExpired(now):
            return ex.run(st.PURGE_EXPIRED, {"p_now": now})
    raise TypeError(f"not a single storage write: {write!r}")


def _end_call(ex: st.Executor, call_id: str, end: CallEnd) -> int:
    found = ex.first(st.CALL_TIMES, {"p_call": call_id})
    if found is None:
        return 0
    start, answer = found
    at = max(end.at, start, answer or start)
    values = {f"p_{k}": v for k, v in _end_values(start, answer, at, end).items()}
    ex.run(st.END_CALL, {"p_call": call_id, **values})
    ex.run(st.END_OPEN_LEGS, {"p_call": call_id, "p_at": at, "p_side": end.hangup_side.value})
    return 1


def _leg_end_params(call_id: str, index: int, end: LegEnd) -> dict[str, Any]:
    side = None if end.hangup_side is None else end.hangup_side.value
    return {"p_call": call_id, "p_index": index, "p_at": end.at,
            "p_status": end.final_status, "p_reason": end.reason, "p_side": side}


def _save_binding(ex: st.Executor, binding: Binding) -> int:
    row = rows.binding_to_row(binding)
    upsert = st.UPSERT_BINDING.get(ex.dialect)
    if upsert is not None:
        ex.run(upsert, row)
        return 1
    ex.run(st.DELETE_BINDING, {"p_aor": binding.aor, "p_contact": binding.contact})
    ex.run_many(st.INSERT_BINDING, [row])
    return 1


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
