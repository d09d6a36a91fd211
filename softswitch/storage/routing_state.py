"""Routing state changed at run time, made durable (F-ROUTE-5, F-ROUTE-8).

An employee's working state set from the phone (status feature codes) and the
numbers the switch blacklisted by itself (out-of-hours routing) outlive a
restart: :class:`~softswitch.storage.sql.SqlStorage` runs these statements in
its own transactions. Statuses are stored as their configuration spelling
(``working``, ``break``, ``not_started``) and numbers as digits; this layer
does not interpret either. The writes are a delete and an insert (or an
existence check and an insert) in one transaction, portable to every dialect;
they are rare, one per phone key press or per blacklisted caller.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from softswitch.storage.tables import blacklist_additions, member_status

__all__ = ["add_blacklisted", "blacklisted", "member_statuses", "save_member_status"]


def save_member_status(conn: Connection, extension: str, status: str, at: datetime) -> None:
    """Record ``extension``'s latest working state, replacing the one before."""
    conn.execute(delete(member_status).where(member_status.c.extension == extension))
    conn.execute(insert(member_status).values(extension=extension, status=status,
                                              changed_at=at))


def member_statuses(conn: Connection) -> dict[str, str]:
    """Every stored working state, by extension."""
    rows = conn.execute(select(member_status.c.extension, member_status.c.status))
    return {str(extension): str(status) for extension, status in rows}


def add_blacklisted(conn: Connection, number: str, at: datetime) -> bool:
    """Add ``number`` (digits) to the stored blacklist; False when it was there."""
    found = conn.execute(select(blacklist_additions.c.number)
                         .where(blacklist_additions.c.number == number)).first()
    if found is not None:
        return False
    conn.execute(insert(blacklist_additions).values(number=number, added_at=at))
    return True


def blacklisted(conn: Connection) -> list[str]:
    """Every number the switch blacklisted at run time, oldest first."""
    rows = conn.execute(select(blacklist_additions.c.number)
                        .order_by(blacklist_additions.c.added_at, blacklist_additions.c.number))
    return [str(number) for (number,) in rows]
