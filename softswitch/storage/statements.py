"""Write statements built once, and the two ways of running them.

Building a SQLAlchemy statement per write (coercing every column and value,
computing its cache key) cost far more than SQLite took to run it. The
statements here are built once at import with :func:`~sqlalchemy.bindparam`
placeholders and executed with parameter dictionaries:

- :class:`CoreExecutor` hands them to a SQLAlchemy :class:`~sqlalchemy.Connection`
  (any database, PostgreSQL included);
- :class:`DbapiExecutor` (SQLite) compiles each one once to its SQL text,
  positional parameter order and the column types' own bind and result
  processors, then runs it on the DB-API cursor of the same transaction. The
  values stored are those SQLAlchemy itself would store (the processors are
  the types'), so reads through SQLAlchemy see no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Dialect,
    and_,
    bindparam,
    case,
    delete,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from softswitch.storage.records import CallState, Direction
from softswitch.storage.tables import call_legs, calls, registrations

Params = Mapping[str, Any]
_Processor = Callable[[Any], Any] | None


def _values(table: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.name: bindparam(c.name, type_=c.type) for c in table.c if c.name not in skip}


_ACTIVE: Any = bindparam("state_active", CallState.ACTIVE.value)
_LEG_KEY = and_(call_legs.c.call_id == bindparam("p_call"),
                call_legs.c.leg_index == bindparam("p_index"))
_BINDING_KEY = and_(registrations.c.aor == bindparam("p_aor"),
                    registrations.c.contact == bindparam("p_contact"))

INSERT_CALL = insert(calls).values(_values(calls))
ANSWER_CALL = (
    update(calls)
    .where(calls.c.id == bindparam("p_call"), calls.c.state == _ACTIVE,
           calls.c.answer_time.is_(None))
    .values(answer_time=bindparam("p_at"), heartbeat=bindparam("p_at"))
)
SET_RECORDING = (update(calls).where(calls.c.id == bindparam("p_call"))
                 .values(recording=bindparam("p_path")))
CALL_TIMES = select(calls.c.start_time, calls.c.answer_time).where(
    calls.c.id == bindparam("p_call"), calls.c.state == _ACTIVE)
# A call routing forwarded through a trunk ends as a forwarded call, billed as
# outbound (F-ROUTE-11), whatever direction it started with: its forwarded leg
# is the fact, so the end reads it rather than trusting a flag of its own.
_FORWARDED: Any = bindparam("direction_forwarded", Direction.FORWARDED.value)
_HAS_FORWARDED_LEG = exists().where(call_legs.c.call_id == calls.c.id,
                                    call_legs.c.direction == _FORWARDED)
END_CALL = (update(calls).where(calls.c.id == bindparam("p_call"))
            .values({name: bindparam(f"p_{name}") for name in (
                "end_time", "duration", "billable_seconds", "disposition", "sip_status",
                "sip_cause", "hangup_side", "end_reason", "state", "heartbeat")})
            .values(direction=case((_HAS_FORWARDED_LEG, _FORWARDED), else_=calls.c.direction)))
END_OPEN_LEGS = (
    update(call_legs)
    .where(call_legs.c.call_id == bindparam("p_call"), call_legs.c.end_time.is_(None))
    .values(end_time=bindparam("p_at"), hangup_side=bindparam("p_side"))
)
HEARTBEAT = (update(calls).where(calls.c.state == _ACTIVE, calls.c.node == bindparam("p_node"))
             .values(heartbeat=bindparam("p_at")))
INSERT_LEG = insert(call_legs).values(_values(call_legs))
ANSWER_LEG = (
    update(call_legs)
    .where(_LEG_KEY, call_legs.c.answer_time.is_(None), call_legs.c.end_time.is_(None))
    .values(answer_time=bindparam("p_at"))
)
END_LEG = (
    update(call_legs)
    .where(_LEG_KEY, call_legs.c.end_time.is_(None))
    .values(end_time=bindparam("p_at"), final_status=bindparam("p_status"),
            reason=bindparam("p_reason"), hangup_side=bindparam("p_side"))
)
INSERT_BINDING = insert(registrations).values(_values(registrations, skip=("id",)))
DELETE_BINDING = delete(registrations).where(_BINDING_KEY)
DELETE_AOR = delete(registrations).where(registrations.c.aor == bindparam("p_aor"))
PURGE_EXPIRED = delete(registrations).where(registrations.c.expires_at <= bindparam("p_now"))


def _binding_upsert(dialect: str) -> Executable | None:
    """INSERT .. ON CONFLICT (aor, contact) DO UPDATE, where the dialect has it."""
    key = ("aor", "contact")
    if dialect == "sqlite":
        lite = sqlite.insert(registrations).values(_values(registrations, skip=("id",)))
        changed = {c.name: lite.excluded[c.name] for c in registrations.c
                   if c.name not in (*key, "id")}
        return lite.on_conflict_do_update(index_elements=key, set_=changed)
    if dialect == "postgresql":
        pg = postgresql.insert(registrations).values(_values(registrations, skip=("id",)))
        changed = {c.name: pg.excluded[c.name] for c in registrations.c
                   if c.name not in (*key, "id")}
        return pg.on_conflict_do_update(index_elements=key, set_=changed)
    return None


UPSERT_BINDING = {name: _binding_upsert(name) for name in ("sqlite", "postgresql")}


class Executor(Protocol):
    """Runs the statements above inside one open transaction."""

    dialect: str

    def run(self, stmt: Executable, params: Params) -> int:
        """Execute once; the number of rows changed."""
        ...

    def run_many(self, stmt: Executable, params: Sequence[Params]) -> None:
        """Execute once per parameter set (executemany)."""
        ...

    def first(self, stmt: Executable, params: Params) -> tuple[Any, ...] | None:
        """The first row of a query, with the columns' types applied."""
        ...


class CoreExecutor:
    """Statements through a SQLAlchemy connection: any dialect."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect.name

    def run(self, stmt: Executable, params: Params) -> int:
        return int(self._conn.execute(stmt, dict(params)).rowcount)

    def run_many(self, stmt: Executable, params: Sequence[Params]) -> None:
        self._conn.execute(stmt, [dict(p) for p in params])

    def first(self, stmt: Executable, params: Params) -> tuple[Any, ...] | None:
        row = self._conn.execute(stmt, dict(params)).first()
        return None if row is None else tuple(row)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    defaults: tuple[Any, ...]
    binds: tuple[_Processor, ...]
    results: tuple[_Processor, ...]

    def args(self, params: Params) -> tuple[Any, ...]:
        out = []
        for name, default, process in zip(self.names, self.defaults, self.binds, strict=True):
            value = params.get(name, default)
            out.append(value if process is None or value is None else process(value))
        return tuple(out)


def _compile(stmt: Executable, dialect: Dialect) -> _Compiled:
    compiled: Any = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
    if not compiled.positional:
        raise ValueError(f"{dialect.name}: the DB-API path needs a positional paramstyle")
    names = tuple(compiled.positiontup)
    binds = tuple(compiled.binds[name] for name in names)
    columns = getattr(stmt, "selected_columns", ())
    return _Compiled(
        sql=compiled.string,
        names=names,
        defaults=tuple(b.value for b in binds),
        binds=tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds),
        results=tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                      for c in columns),
    )


class DbapiExecutor:
    """Statements straight on the DB-API cursor of a SQLAlchemy transaction
    (SQLite: its driver is in-process and positional)."""

    _cache: dict[tuple[int, str], _Compiled] = {}

    def __init__(self, conn: Connection) -> None:
        self._dialect = conn.dialect
        self.dialect = conn.dialect.name
        self._cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def _compiled(self, stmt: Executable) -> _Compiled:
        key = (id(stmt), self.dialect)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = _compile(stmt, self._dialect)
        return found

    def _execute(self, sql: str, args: Any, many: bool = False) -> Any:
        """Run on the cursor; a driver error becomes SQLAlchemy's, as on the Core path."""
        try:
            if many:
                return self._cursor.executemany(sql, args)
            return self._cursor.execute(sql, args)
        except self._dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, args, error, self._dialect.loaded_dbapi.Error,
                                      dialect=self._dialect) from error

    def run(self, stmt: Executable, params: Params) -> int:
        compiled = self._compiled(stmt)
        self._execute(compiled.sql, compiled.args(params))
        return int(self._cursor.rowcount)

    def run_many(self, stmt: Executable, params: Sequence[Params]) -> None:
        compiled = self._compiled(stmt)
        self._execute(compiled.sql, [compiled.args(p) for p in params], many=True)

    def first(self, stmt: Executable, params: Params) -> tuple[Any, ...] | None:
        compiled = self._compiled(stmt)
        row = self._execute(compiled.sql, compiled.args(params)).fetchone()
        if row is None:
            return None
        return tuple(v if p is None or v is None else p(v)
                     for v, p in zip(row, compiled.results, strict=True))

    def close(self) -> None:
        self._cursor.close()
