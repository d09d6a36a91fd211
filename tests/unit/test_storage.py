"""Storage layer: SQLite set-up, round trips of every record, bindings (F-SIP-5)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from sipstack.events import Address
from softswitch.storage import (
    Binding,
    CallEnd,
    CallRecord,
    CallState,
    Direction,
    Disposition,
    HangupSide,
    LegEnd,
    LegRecord,
    LegRole,
    SqlStorage,
    StorageWorker,
    open_storage,
)
from softswitch.storage.tables import metadata
from softswitch.storage.worker import BatchWriter
from softswitch.storage.writes import (
    AnswerCall,
    AnswerLeg,
    EndCall,
    Heartbeat,
    InsertCall,
    InsertLeg,
    PurgeExpired,
    RemoveBinding,
    SaveBinding,
)

T0 = datetime(2026, 3, 2, 9, 30, 0, 250_000, tzinfo=UTC)


# The same tests run on PostgreSQL when this names an empty scratch database,
# e.g. postgresql+psycopg://postgres@127.0.0.1/softswitch_test (its rows are deleted).
POSTGRES_URL = os.environ.get("SOFTSWITCH_TEST_POSTGRES_URL", "")


def backend_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/data/switch.db"
    if not POSTGRES_URL:
        pytest.skip("SOFTSWITCH_TEST_POSTGRES_URL is not set")
    storage = open_storage(POSTGRES_URL)
    assert isinstance(storage, SqlStorage)
    with storage.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    storage.close()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStorage]:
    storage = open_storage(backend_url(request.param, tmp_path))
    assert isinstance(storage, SqlStorage)
    yield storage
    storage.close()


def _call(call_id: str = "c1", start: datetime = T0, **kw: object) -> CallRecord:
    fields: dict[str, object] = {
        "id": call_id, "sip_call_id": f"sip-{call_id}", "caller": "201",
        "callee": "+48221234567", "direction": Direction.OUTBOUND, "start_time": start,
        "caller_name": "Anna Nowak", "trunk": "operator-a", "node": "n1",
    }
    fields.update(kw)
    return CallRecord(**fields)  # type: ignore[arg-type]


def _binding(contact: str = "sip:201@192.0.2.10:5062", **kw: object) -> Binding:
    fields: dict[str, object] = {
        "aor": "201", "contact": contact, "expires_at": T0 + timedelta(seconds=3600),
        "call_id": "reg-1", "cseq": 1, "received": Address("udp", "203.0.113.7", 40123),
        "path": ("<sip:edge.example.net;lr>",), "user_agent": "Yealink T46U",
        "q": 0.7, "instance_id": "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>",
        "reg_id": 1,
    }
    fields.update(kw)
    return Binding(**fields)  # type: ignore[arg-type]


def test_sqlite_file_gets_wal_normal_sync_and_foreign_keys(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path}/data/switch.db")
    assert isinstance(store, SqlStorage)
    assert (tmp_path / "data" / "switch.db").exists()
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()


def test_call_round_trip_through_answer_and_end(store: SqlStorage) -> None:
    # F-OPS-3
    store.insert_call(_call())
    active = store.get_call("c1")
    assert active == _call(heartbeat=T0)
    assert active is not None and active.state is CallState.ACTIVE
    assert store.answer_call("c1", T0 + timedelta(seconds=5))
    end = CallEnd(T0 + timedelta(seconds=65, milliseconds=500), Disposition.ANSWERED,
                  HangupSide.CALLEE, 200, "OK", None)
    assert store.end_call("c1", end)
    done = store.get_call("c1")
    assert done == _call(
        answer_time=T0 + timedelta(seconds=5), end_time=end.at, duration=65.5,
        billable_seconds=60.5, disposition=Disposition.ANSWERED, sip_status=200,
        sip_cause="OK", hangup_side=HangupSide.CALLEE, state=CallState.ENDED,
        heartbeat=end.at,
    )
    assert done is not None and done.start_time.tzinfo is UTC


def test_unanswered_call_bills_nothing_and_stale_updates_are_refused(store: SqlStorage) -> None:
    store.insert_call(_call())
    busy = CallEnd(T0 + timedelta(seconds=3), Disposition.BUSY, HangupSide.CALLEE,
                   486, "Busy Here")
    assert store.end_call("c1", busy)
    assert not store.end_call("c1", busy)
    assert not store.answer_call("c1", T0 + timedelta(seconds=4))
    assert not store.end_call("unknown", busy)
    call = store.get_call("c1")
    assert call is not None
    assert (call.duration, call.billable_seconds, call.answer_time) == (3.0, 0.0, None)
    assert call.disposition is Disposition.BUSY


def test_end_time_is_never_before_start_or_answer(store: SqlStorage) -> None:
    store.insert_call(_call())
    store.answer_call("c1", T0 + timedelta(seconds=2))
    store.end_call("c1", CallEnd(T0 - timedelta(seconds=30), Disposition.ANSWERED,
                                 HangupSide.CALLER))
    call = store.get_call("c1")
    assert call is not None
    assert call.end_time == T0 + timedelta(seconds=2)
    assert (call.duration, call.billable_seconds) == (2.0, 0.0)


def test_leg_round_trip_and_open_legs_end_with_the_call(store: SqlStorage) -> None:
    store.insert_call(_call())
    caller = LegRecord("c1", 0, LegRole.CALLER, Direction.INTERNAL, "sip:201@192.0.2.10",
                       "sip-c1", T0)
    callee = LegRecord("c1", 1, LegRole.CALLEE, Direction.OUTBOUND,
                       "sip:+48221234567@trunk.example", "b2b-1", T0 + timedelta(seconds=1))
    store.insert_leg(caller)
    store.insert_leg(callee)
    assert store.answer_leg("c1", 1, T0 + timedelta(seconds=4))
    bye = LegEnd(T0 + timedelta(seconds=30), 200, "BYE", HangupSide.CALLEE)
    assert store.end_leg("c1", 1, bye)
    assert not store.end_leg("c1", 1, bye)
    store.end_call("c1", CallEnd(T0 + timedelta(seconds=31), Disposition.ANSWERED,
                                 HangupSide.CALLEE))
    assert store.legs("c1") == [
        LegRecord("c1", 0, LegRole.CALLER, Direction.INTERNAL, "sip:201@192.0.2.10", "sip-c1",
                  T0, end_time=T0 + timedelta(seconds=31), hangup_side=HangupSide.CALLEE),
        LegRecord("c1", 1, LegRole.CALLEE, Direction.OUTBOUND,
                  "sip:+48221234567@trunk.example", "b2b-1", T0 + timedelta(seconds=1),
                  T0 + timedelta(seconds=4), bye.at, 200, "BYE", HangupSide.CALLEE),
    ]


def test_a_leg_needs_its_call(store: SqlStorage) -> None:
    orphan = LegRecord("nope", 0, LegRole.CALLER, Direction.INBOUND, "x", "y", T0)
    with pytest.raises(IntegrityError):
        store.insert_leg(orphan)


def test_naive_datetimes_are_refused(store: SqlStorage) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        store.insert_call(_call(start=datetime(2026, 1, 1, 12, 0)))
    assert store.get_call("c1") is None


def test_times_in_other_zones_are_stored_as_utc(store: SqlStorage) -> None:
    warsaw = timezone(timedelta(hours=1))
    store.insert_call(_call(start=datetime(2026, 3, 2, 10, 30, 0, 250_000, tzinfo=warsaw)))
    call = store.get_call("c1")
    assert call is not None and call.start_time == T0 and call.start_time.tzinfo is UTC


def test_list_calls_newest_first_with_paging_and_since(store: SqlStorage) -> None:
    for n in range(5):
        store.insert_call(_call(f"c{n}", start=T0 + timedelta(minutes=n)))
    assert [c.id for c in store.list_calls()] == ["c4", "c3", "c2", "c1", "c0"]
    assert [c.id for c in store.list_calls(limit=2, offset=1)] == ["c3", "c2"]
    assert [c.id for c in store.list_calls(since=T0 + timedelta(minutes=3))] == ["c4", "c3"]


def test_active_calls_and_heartbeat_are_per_node(store: SqlStorage) -> None:
    store.insert_call(_call("a", node="n1"))
    store.insert_call(_call("b", node="n2"))
    later = T0 + timedelta(seconds=30)
    assert store.heartbeat("n1", later) == 1
    assert [c.id for c in store.active_calls("n1")] == ["a"]
    assert {c.id for c in store.active_calls()} == {"a", "b"}
    a, b = store.get_call("a"), store.get_call("b")
    assert a is not None and a.heartbeat == later
    assert b is not None and b.heartbeat == T0


def test_binding_round_trip(store: SqlStorage) -> None:
    # F-SIP-5
    store.save_binding(_binding())
    assert store.bindings("201", T0) == [_binding()]
    bare = _binding("sip:202@192.0.2.11", aor="202", received=None, path=(), q=None,
                    user_agent=None, instance_id=None, reg_id=None)
    store.save_binding(bare)
    assert store.bindings("202", T0) == [bare]


def test_re_register_refreshes_the_binding_instead_of_duplicating(store: SqlStorage) -> None:
    # F-SIP-5
    store.save_binding(_binding())
    refreshed = _binding(expires_at=T0 + timedelta(seconds=7200), cseq=2,
                         received=Address("udp", "203.0.113.7", 40999))
    store.save_binding(refreshed)
    assert store.bindings("201", T0) == [refreshed]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM registrations")).scalar() == 1


def test_several_contacts_per_aor_expire_separately(store: SqlStorage) -> None:
    # F-SIP-5
    desk = _binding("sip:201@192.0.2.10", expires_at=T0 + timedelta(seconds=60))
    soft = _binding("sip:201@192.0.2.20", expires_at=T0 + timedelta(seconds=600))
    other = _binding("sip:301@192.0.2.30", aor="301", expires_at=T0 + timedelta(seconds=600))
    for binding in (desk, soft, other):
        store.save_binding(binding)
    assert store.bindings("201", T0) == [desk, soft]
    at_expiry = T0 + timedelta(seconds=60)
    assert store.bindings("201", at_expiry) == [soft]
    assert store.all_bindings(at_expiry) == [soft, other]
    assert store.purge_expired(at_expiry) == 1
    assert store.all_bindings(T0) == [soft, other]


def test_remove_binding_and_remove_all(store: SqlStorage) -> None:
    store.save_binding(_binding("sip:201@a"))
    store.save_binding(_binding("sip:201@b"))
    store.save_binding(_binding("sip:301@c", aor="301"))
    assert store.remove_binding("201", "sip:201@a")
    assert not store.remove_binding("201", "sip:201@a")
    assert [b.contact for b in store.bindings("201", T0)] == ["sip:201@b"]
    assert store.remove_all("201") == 1
    assert store.bindings("201", T0) == []
    assert len(store.all_bindings(T0)) == 1


def test_data_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/switch.db"
    first = open_storage(url)
    first.insert_call(_call())
    first.save_binding(_binding())
    first.close()
    second = open_storage(url)
    assert second.get_call("c1") == _call(heartbeat=T0)
    assert second.all_bindings(T0) == [_binding()]
    second.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_memory_database_is_shared_by_threads(url: str) -> None:
    storage = open_storage(url)
    worker = threading.Thread(target=storage.insert_call, args=(_call(),))
    worker.start()
    worker.join()
    assert storage.get_call("c1") == _call(heartbeat=T0)
    storage.close()


def test_concurrent_writers_in_one_process_do_not_collide(store: SqlStorage) -> None:
    def write(n: int) -> None:
        for i in range(20):
            store.insert_call(_call(f"t{n}-{i}"))
            store.save_binding(_binding(f"sip:201@host{i}", cseq=n))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.list_calls(limit=1000)) == 80
    assert len(store.bindings("201", T0)) == 20


def test_worker_runs_in_order_on_one_thread(store: SqlStorage) -> None:
    worker = StorageWorker()
    threads: list[str] = []

    def note(call_id: str) -> None:
        threads.append(threading.current_thread().name)
        store.insert_call(_call(call_id))

    async def main() -> CallRecord | None:
        for n in range(10):
            worker.submit(note, f"c{n}")
        end = CallEnd(T0 + timedelta(seconds=1), Disposition.CANCELLED, HangupSide.CALLER, 487)
        worker.submit(store.end_call, "c9", end)
        return await worker.run(store.get_call, "c9")

    call = asyncio.run(main())
    worker.shutdown()
    assert call is not None and call.state is CallState.ENDED
    assert len(set(threads)) == 1 and threads[0] != threading.current_thread().name


def test_worker_logs_a_failed_write(store: SqlStorage, caplog: pytest.LogCaptureFixture) -> None:
    worker = StorageWorker()
    orphan = LegRecord("nope", 0, LegRole.CALLER, Direction.INBOUND, "x", "y", T0)
    future = worker.submit(store.insert_leg, orphan)
    worker.shutdown()
    assert isinstance(future.exception(), IntegrityError)
    assert "storage write failed" in caplog.text


def test_a_database_from_an_older_release_gains_the_new_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    storage = open_storage(f"sqlite:///{path}")
    storage.close()
    with sqlite3.connect(path) as db:  # what a release before recordings made
        db.execute("ALTER TABLE calls DROP COLUMN recording")
    storage = open_storage(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(calls)")}
    storage.close()
    assert "recording" in columns


def test_a_batch_of_writes_is_applied_in_order_in_one_call(store: SqlStorage) -> None:
    legs = [LegRecord(f"c{n}", i, LegRole.CALLER if i == 0 else LegRole.CALLEE,
                      Direction.INBOUND, "x", f"sip-{n}-{i}", T0)
            for n in range(3) for i in range(2)]
    end = CallEnd(T0 + timedelta(seconds=9), Disposition.ANSWERED, HangupSide.CALLER, 200)
    counts = store.write([
        InsertCall(_call("c0")), InsertCall(_call("c1")), InsertCall(_call("c2")),
        *[InsertLeg(leg) for leg in legs],
        AnswerCall("c0", T0 + timedelta(seconds=2)), AnswerLeg("c0", 1, T0 + timedelta(seconds=2)),
        EndCall("c0", end),
        AnswerCall("c0", T0 + timedelta(seconds=10)),  # after its end: stale, changes nothing
        Heartbeat("n1", T0 + timedelta(seconds=5)),
        SaveBinding(_binding()), RemoveBinding("201", "sip:nobody@192.0.2.1"),
        PurgeExpired(T0),
    ])
    assert counts == [1] * 9 + [1, 1, 1, 0, 2, 1, 0, 0]
    c0 = store.get_call("c0")
    assert c0 is not None and (c0.state, c0.billable_seconds) == (CallState.ENDED, 7.0)
    assert [leg.end_time for leg in store.legs("c0")] == [end.at, end.at]
    assert [c.heartbeat for c in store.active_calls("n1")] == [T0 + timedelta(seconds=5)] * 2
    assert len(store.bindings("201", T0)) == 1


def test_a_failed_batch_costs_only_its_bad_write(store: SqlStorage,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    orphan = LegRecord("nope", 0, LegRole.CALLER, Direction.INBOUND, "x", "y", T0)
    counts = store.write([InsertCall(_call("c1")), InsertLeg(orphan),
                          AnswerCall("c1", T0 + timedelta(seconds=1))])
    assert counts == [1, 0, 1]
    call = store.get_call("c1")
    assert call is not None and call.answer_time == T0 + timedelta(seconds=1)
    assert store.legs("nope") == []
    assert "storage write failed" in caplog.text


def test_batch_writer_writes_everything_in_order_in_few_batches() -> None:
    batches: list[list[int]] = []
    writer: BatchWriter[int] = BatchWriter(batches.append, window=0.05, limit=100)
    for n in range(250):
        writer.put(n)
    assert writer.flush(timeout=5)
    writer.put(250)
    writer.close()
    assert [n for batch in batches for n in batch] == list(range(251))
    assert 2 <= len(batches) <= 5 and max(len(b) for b in batches) <= 250
    with pytest.raises(RuntimeError):
        writer.put(251)


def test_batch_writer_waits_for_its_window_unless_told(tmp_path: Path) -> None:
    batches: list[list[str]] = []
    writer: BatchWriter[str] = BatchWriter(batches.append, window=30.0)
    writer.put("a")
    writer.put("b")
    threading.Event().wait(0.2)
    assert batches == []  # still inside the window
    writer.flush_soon()
    for _ in range(100):
        if batches:
            break
        threading.Event().wait(0.02)
    assert batches == [["a", "b"]]
    writer.put("c")
    writer.close()  # a stop writes what is queued
    assert batches == [["a", "b"], ["c"]]


def test_batch_writer_survives_a_failed_batch(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[list[int]] = []

    def write(items: list[int]) -> None:
        seen.append(items)
        if 0 in items:
            raise RuntimeError("disk on fire")

    writer: BatchWriter[int] = BatchWriter(write, window=0.01)
    writer.put(0)
    assert writer.flush(timeout=5)
    writer.put(1)
    writer.close()
    assert seen == [[0], [1]] and "storage batch of 1 items failed" in caplog.text
