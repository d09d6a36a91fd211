"""Engine set-up: SQLite tuned for a single-writer switch, or any other URL as is.

SQLite connections get, on every connect:

- ``journal_mode=WAL`` (file databases): readers (the REST API reading call
  records) never block the writer and the writer never blocks them;
- ``synchronous=NORMAL``: in WAL mode a committed transaction survives the
  process being killed (the WAL is written before ``commit`` returns); only an
  operating-system crash or power loss may lose the last commits, which is the
  usual trade for not syncing on every call event;
- ``foreign_keys=ON`` (SQLite leaves it off by default) and a ``busy_timeout``
  so that an outside reader holding a lock makes us wait, not fail.

An in-memory SQLite URL (``sqlite://`` or ``sqlite:///:memory:``) gets one
shared connection (``StaticPool``), otherwise each thread would see its own
empty database. The data directory of a file URL is created if missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS = 5000


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_memory(url: URL) -> bool:
    """True for a private in-memory SQLite database."""
    database = url.database or ""
    return is_sqlite(url) and database in ("", ":memory:")


def _ensure_data_dir(url: URL) -> None:
    database = url.database or ""
    if is_memory(url) or database.startswith("file:"):
        return
    Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(memory: bool) -> list[str]:
    pragmas = [
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    ]
    return pragmas if memory else ["PRAGMA journal_mode=WAL", *pragmas]


def _install_pragmas(engine: Engine, memory: bool) -> None:
    statements = _sqlite_pragmas(memory)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``; SQLite gets the pragmas above."""
    parsed = make_url(url)
    if not is_sqlite(parsed):
        return create_engine(parsed, pool_pre_ping=True)
    memory = is_memory(parsed)
    if memory:
        engine = create_engine(
            parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        _ensure_data_dir(parsed)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
    _install_pragmas(engine, memory)
    return engine
