"""The SQL schema: ``calls``, ``call_legs``, ``registrations``, and the routing
state changed at run time: ``member_status`` and ``blacklist_additions``.

SQLAlchemy Core tables, portable between SQLite and PostgreSQL. Times are
stored as UTC without a zone (SQLite has no zone-aware type, and a naive value
bound to a PostgreSQL ``timestamptz`` would be read in the session's zone), and
come back as aware UTC datetimes through :class:`UtcDateTime`. Enumerations
are stored as plain strings so that new dispositions need no schema change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime stored as a naive UTC timestamp."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: storage takes aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        return value.replace(tzinfo=UTC)


calls = Table(
    "calls",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("sip_call_id", Text, nullable=False),
    Column("node", String(64), nullable=False, default=""),
    Column("caller", String(128), nullable=False),
    Column("caller_name", Text),
    Column("callee", String(128), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("trunk", String(128)),
    Column("start_time", UtcDateTime, nullable=False),
    Column("answer_time", UtcDateTime),
    Column("end_time", UtcDateTime),
    Column("duration", Float),
    Column("billable_seconds", Float),
    Column("disposition", String(32)),
    Column("sip_status", Integer),
    Column("sip_cause", Text),
    Column("hangup_side", String(16)),
    Column("end_reason", Text),
    Column("recording", Text),
    Column("state", String(16), nullable=False),
    Column("heartbeat", UtcDateTime),
    Index("ix_calls_start_time", "start_time"),
    Index("ix_calls_state_node", "state", "node"),
    Index("ix_calls_sip_call_id", "sip_call_id"),
)

call_legs = Table(
    "call_legs",
    metadata,
    Column("call_id", String(64), ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
    Column("leg_index", Integer, primary_key=True),
    Column("role", String(16), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("peer", Text, nullable=False),
    Column("sip_call_id", Text, nullable=False),
    Column("start_time", UtcDateTime, nullable=False),
    Column("answer_time", UtcDateTime),
    Column("end_time", UtcDateTime),
    Column("final_status", Integer),
    Column("reason", Text),
    Column("hangup_side", String(16)),
)

registrations = Table(
    "registrations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("aor", String(255), nullable=False),
    Column("contact", String(1024), nullable=False),
    Column("received_transport", String(8)),
    Column("received_host", String(64)),
    Column("received_port", Integer),
    Column("path", JSON, nullable=False),
    Column("call_id", Text, nullable=False),
    Column("cseq", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("user_agent", Text),
    Column("q", Float),
    Column("instance_id", String(255)),
    Column("reg_id", Integer),
    UniqueConstraint("aor", "contact", name="uq_registrations_aor_contact"),
    Index("ix_registrations_expires_at", "expires_at"),
)

# Routing state changed at run time (F-ROUTE-5, F-ROUTE-8), laid over the
# configuration's starting point at start-up. One row per employee: the last
# status set; one row per number the switch blacklisted by itself.
member_status = Table(
    "member_status",
    metadata,
    Column("extension", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

blacklist_additions = Table(
    "blacklist_additions",
    metadata,
    Column("number", String(64), primary_key=True),
    Column("added_at", UtcDateTime, nullable=False),
)


def add_missing_columns(conn: Any) -> list[str]:
    """Bring a database made by an older release up to these tables: add the
    nullable columns it lacks (new columns are always nullable, so this is the
    whole migration story until a column changes). Returns what was added."""
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateColumn

    added = []
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise RuntimeError(f"cannot add NOT NULL column {table.name}.{column.name}")
            ddl = CreateColumn(column).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")
            added.append(f"{table.name}.{column.name}")
    return added
