"""Call detail records (F-OPS-3): recorded from facts, never lost to a crash or a stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from softswitch.cdr import (
    CallAnswered,
    CallEnded,
    CallRecorded,
    CallStarted,
    CdrFact,
    CdrRecorder,
    LegAnswered,
    LegEnded,
    LegStarted,
)
from softswitch.persistence import Persistence
from softswitch.storage import (
    PROCESS_STOPPED,
    CallState,
    Direction,
    Disposition,
    HangupSide,
    LegRole,
    SqlStorage,
    Storage,
    open_storage,
)
from softswitch.storage.tables import metadata

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _started(call_id: str = "c1", at: datetime = T0) -> CallStarted:
    return CallStarted(call_id, f"sip-{call_id}", "+48601000111", "100", Direction.INBOUND, at,
                       caller_name="Jan", trunk="operator-a")


# As in test_storage: PostgreSQL too when this names an empty scratch database.
POSTGRES_URL = os.environ.get("SOFTSWITCH_TEST_POSTGRES_URL", "")


def backend_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/cdr/switch.db"
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
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request.param, tmp_path)


@pytest.fixture
def store(url: str) -> Iterator[Storage]:
    storage = open_storage(url)
    yield storage
    storage.close()


def test_answered_call_with_legs(store: Storage) -> None:
    # F-OPS-3
    cdr = CdrRecorder(store, node="n1")
    facts: list[CdrFact] = [
        _started(),
        LegStarted("c1", 0, LegRole.CALLER, Direction.INBOUND, "udp:198.51.100.4:5060",
                   "sip-c1", T0),
        LegStarted("c1", 1, LegRole.CALLEE, Direction.INTERNAL, "sip:100@192.0.2.10",
                   "b2b-1", _s(0.2)),
        LegAnswered("c1", 1, _s(7)),
        LegAnswered("c1", 0, _s(7)),
        CallAnswered("c1", _s(7)),
        LegEnded("c1", 0, _s(67), 200, "BYE", HangupSide.CALLER),
        LegEnded("c1", 1, _s(67), 200, None, HangupSide.CALLER),
        CallEnded("c1", _s(67), Disposition.ANSWERED, HangupSide.CALLER, 200, "OK"),
    ]
    assert all(cdr.record(fact) for fact in facts)
    call = store.get_call("c1")
    assert call is not None
    assert (call.caller, call.caller_name, call.callee, call.trunk, call.node) == (
        "+48601000111", "Jan", "100", "operator-a", "n1")
    assert (call.state, call.disposition, call.hangup_side) == (
        CallState.ENDED, Disposition.ANSWERED, HangupSide.CALLER)
    assert (call.answer_time, call.end_time, call.duration, call.billable_seconds) == (
        _s(7), _s(67), 67.0, 60.0)
    legs = store.legs("c1")
    assert [(leg.role, leg.answer_time, leg.end_time, leg.final_status) for leg in legs] == [
        (LegRole.CALLER, _s(7), _s(67), 200), (LegRole.CALLEE, _s(7), _s(67), 200)]


def test_max_duration_end_keeps_its_reason(store: Storage) -> None:
    cdr = CdrRecorder(store)
    cdr.record(_started())
    cdr.record(CallAnswered("c1", _s(1)))
    cdr.record(CallEnded("c1", _s(3601), Disposition.MAX_DURATION, HangupSide.SYSTEM,
                         end_reason="max call duration reached"))
    call = store.get_call("c1")
    assert call is not None
    assert (call.disposition, call.end_reason, call.billable_seconds) == (
        Disposition.MAX_DURATION, "max call duration reached", 3600.0)


def test_stale_facts_change_nothing(store: Storage) -> None:
    cdr = CdrRecorder(store)
    cdr.record(_started())
    assert cdr.record(CallEnded("c1", _s(9), Disposition.NO_ANSWER, HangupSide.SYSTEM, 408))
    assert not cdr.record(CallAnswered("c1", _s(10)))
    assert not cdr.record(CallEnded("c1", _s(11), Disposition.ANSWERED, HangupSide.CALLER))
    call = store.get_call("c1")
    assert call is not None
    assert (call.disposition, call.end_time, call.billable_seconds) == (
        Disposition.NO_ANSWER, _s(9), 0.0)


def test_recovery_after_a_crash_ends_the_call_at_its_last_heartbeat(url: str) -> None:
    # F-OPS-3: the engine goes away without flush, as in a crash.
    crashed = open_storage(url)
    cdr = CdrRecorder(crashed, node="n1")
    cdr.record(_started())
    cdr.record(CallAnswered("c1", _s(5)))
    assert cdr.heartbeat(_s(35)) == 1
    crashed.close()

    reopened = open_storage(url)
    recovered = CdrRecorder(reopened, node="n1").recover_interrupted(_s(600))
    assert recovered == ["c1"]
    call = reopened.get_call("c1")
    assert call is not None
    assert (call.state, call.disposition, call.end_reason, call.hangup_side) == (
        CallState.ENDED, Disposition.INTERRUPTED, PROCESS_STOPPED, HangupSide.SYSTEM)
    assert (call.end_time, call.duration, call.billable_seconds) == (_s(35), 35.0, 30.0)
    assert CdrRecorder(reopened, node="n1").recover_interrupted(_s(601)) == []
    reopened.close()


def test_recovery_of_an_unanswered_call_bills_nothing(store: Storage) -> None:
    CdrRecorder(store).record(_started())
    assert CdrRecorder(store).recover_interrupted(_s(100)) == ["c1"]
    call = store.get_call("c1")
    assert call is not None
    assert (call.end_time, call.duration, call.billable_seconds) == (T0, 0.0, 0.0)


def test_recovery_uses_the_answer_when_it_came_after_the_last_heartbeat(store: Storage) -> None:
    cdr = CdrRecorder(store)
    cdr.record(_started())
    cdr.heartbeat(_s(30))
    cdr.record(CallAnswered("c1", _s(40)))
    cdr.recover_interrupted(_s(100))
    call = store.get_call("c1")
    assert call is not None
    assert (call.end_time, call.billable_seconds) == (_s(40), 0.0)


def test_recovery_leaves_other_nodes_calls_alone(store: Storage) -> None:
    CdrRecorder(store, node="n1").record(_started("mine"))
    CdrRecorder(store, node="n2").record(_started("theirs"))
    assert CdrRecorder(store, node="n1").recover_interrupted(_s(60)) == ["mine"]
    theirs = store.get_call("theirs")
    assert theirs is not None and theirs.state is CallState.ACTIVE


def test_flush_on_shutdown_ends_every_active_call(store: Storage) -> None:
    # F-OPS-3
    cdr = CdrRecorder(store, node="n1")
    cdr.record(_started("up"))
    cdr.record(CallAnswered("up", _s(2)))
    cdr.record(_started("ringing", _s(10)))
    cdr.record(LegStarted("ringing", 0, LegRole.CALLER, Direction.INBOUND, "x", "sip-r", _s(10)))
    cdr.record(_started("done"))
    cdr.record(CallEnded("done", _s(1), Disposition.CANCELLED, HangupSide.CALLER, 487))
    assert sorted(cdr.flush(_s(20))) == ["ringing", "up"]
    up, ringing = store.get_call("up"), store.get_call("ringing")
    assert up is not None and ringing is not None
    assert (up.disposition, up.end_reason, up.end_time, up.billable_seconds) == (
        Disposition.INTERRUPTED, PROCESS_STOPPED, _s(20), 18.0)
    assert (ringing.disposition, ringing.duration, ringing.billable_seconds) == (
        Disposition.INTERRUPTED, 10.0, 0.0)
    assert [(leg.end_time, leg.hangup_side) for leg in store.legs("ringing")] == [
        (_s(20), HangupSide.SYSTEM)]
    assert store.active_calls() == []
    assert cdr.flush(_s(21)) == []


_CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from softswitch.cdr import CallAnswered, CallStarted, CdrRecorder
    from softswitch.storage import Direction, open_storage

    t0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    storage = open_storage(sys.argv[1])
    cdr = CdrRecorder(storage, node="n1")
    cdr.record(CallStarted("k1", "sip-k1", "201", "202", Direction.INTERNAL, t0))
    cdr.record(CallAnswered("k1", t0 + timedelta(seconds=3)))
    cdr.heartbeat(t0 + timedelta(seconds=33))
    print("ready", flush=True)
    time.sleep(60)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_process_loses_no_call(url: str) -> None:
    # F-OPS-3: what a SIGKILLed process committed (WAL, synchronous=NORMAL) is there.
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, url], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "ready\n", child.stderr.read() if child.stderr else line
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    storage = open_storage(url)
    assert CdrRecorder(storage, node="n1").recover_interrupted(_s(3600)) == ["k1"]
    call = storage.get_call("k1")
    assert call is not None
    assert (call.disposition, call.end_reason, call.end_time, call.billable_seconds) == (
        Disposition.INTERRUPTED, PROCESS_STOPPED, _s(33), 30.0)
    storage.close()


def test_recording_path_is_linked_from_the_call(tmp_path: Path) -> None:  # F-MEDIA-3
    storage = open_storage(f"sqlite:///{tmp_path / 'cdr.db'}")
    recorder = CdrRecorder(storage)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    recorder.record(CallStarted("c1", "sip1", "101", "102", Direction.INTERNAL, at))
    assert recorder.record(CallRecorded("c1", "recordings/2026-01/c1.wav"))
    call = storage.get_call("c1")
    assert call is not None and call.recording == "recordings/2026-01/c1.wav"
    assert not recorder.record(CallRecorded("nosuch", "x.wav"))
    storage.close()


def _call_facts(n: int) -> list[CdrFact]:
    """The nine facts of one answered call; call ``n`` lasts ``n`` seconds."""
    cid, t = f"m{n}", _s(n)
    return [
        _started(cid, t),
        LegStarted(cid, 0, LegRole.CALLER, Direction.INBOUND, "udp:x", f"sip-{cid}", t),
        LegStarted(cid, 1, LegRole.CALLEE, Direction.INTERNAL, "sip:y", f"b2b-{cid}", t),
        CallAnswered(cid, _s(n + 1)), LegAnswered(cid, 0, _s(n + 1)),
        LegAnswered(cid, 1, _s(n + 1)),
        LegEnded(cid, 0, _s(2 * n + 1), 200, "BYE", HangupSide.CALLER),
        LegEnded(cid, 1, _s(2 * n + 1), 200, None, HangupSide.CALLER),
        CallEnded(cid, _s(2 * n + 1), Disposition.ANSWERED, HangupSide.CALLER, 200, "OK"),
    ]


def test_a_batch_of_many_calls_is_written_in_order(url: str) -> None:
    # F-OPS-3: facts of 40 calls interleaved as a busy switch sends them, one batch.
    calls = [_call_facts(n) for n in range(40)]
    interleaved = [f for step in zip(*calls, strict=True) for f in step]
    # A late answer of m0 after its end must stay stale, which it is only in order.
    interleaved.append(CallAnswered("m0", _s(500)))
    persistence = Persistence(url, node="n1", window=30.0)
    for fact in interleaved:
        persistence.record(fact)
    persistence.sync()
    store = persistence.storage
    assert store.active_calls() == []
    for n in range(40):
        call = store.get_call(f"m{n}")
        assert call is not None
        assert (call.disposition, call.duration, call.billable_seconds) == (
            Disposition.ANSWERED, float(n + 1), float(n))
        assert [(leg.answer_time, leg.end_time) for leg in store.legs(call.id)] == [
            (_s(n + 1), _s(2 * n + 1))] * 2
    asyncio.run(persistence.close())


def test_close_writes_what_is_queued_then_ends_the_calls_still_up(url: str) -> None:
    # F-OPS-3: a stop inside the batch window loses nothing.
    persistence = Persistence(url, node="n1", window=30.0)
    persistence.record(_started("up"))
    persistence.record(CallAnswered("up", _s(2)))
    persistence.record(_started("done"))
    persistence.record(CallEnded("done", _s(1), Disposition.CANCELLED, HangupSide.CALLER, 487))
    asyncio.run(persistence.close())
    store = open_storage(url)
    up, done = store.get_call("up"), store.get_call("done")
    assert up is not None and done is not None
    assert (up.disposition, up.answer_time, up.end_reason) == (
        Disposition.INTERRUPTED, _s(2), PROCESS_STOPPED)
    assert done.disposition is Disposition.CANCELLED
    store.close()


def test_the_heartbeat_is_written_at_once_behind_the_facts_before_it(url: str) -> None:
    persistence = Persistence(url, node="n1", window=30.0)
    persistence.record(_started("c1"))
    persistence.heartbeat()
    for _ in range(200):
        call = persistence.storage.get_call("c1")
        if call is not None:
            break
        threading.Event().wait(0.01)
    assert call is not None and call.heartbeat is not None and call.heartbeat > T0
    asyncio.run(persistence.close())


_BATCH_CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from softswitch.cdr import CallAnswered, CallStarted
    from softswitch.persistence import Persistence
    from softswitch.storage import Direction

    window = float(sys.argv[2])
    t0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    persistence = Persistence(sys.argv[1], node="n1", window=window)
    persistence.record(CallStarted("old", "sip-old", "201", "202", Direction.INTERNAL, t0))
    persistence.record(CallAnswered("old", t0 + timedelta(seconds=3)))
    time.sleep(window * 1.5)  # one window passes: written without any flush
    persistence.record(CallStarted("new", "sip-new", "201", "203", Direction.INTERNAL, t0))
    print("ready", flush=True)  # killed within new's window
    time.sleep(60)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_kill_loses_at_most_the_last_batch_window(url: str) -> None:
    # F-OPS-3 trade-off: facts older than one batch window are committed; a
    # call started within the window before the kill has no row yet.
    window = 1.0
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    child = subprocess.Popen([sys.executable, "-c", _BATCH_CHILD, url, str(window)], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "ready\n", child.stderr.read() if child.stderr else line
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    storage = open_storage(url)
    assert storage.get_call("new") is None
    assert CdrRecorder(storage, node="n1").recover_interrupted(_s(3600)) == ["old"]
    old = storage.get_call("old")
    assert old is not None
    assert (old.disposition, old.answer_time, old.end_time) == (
        Disposition.INTERRUPTED, _s(3), _s(3))
    storage.close()
