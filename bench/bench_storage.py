"""Storage write benchmarks (F-OPS-3 CDRs, F-SIP-5 bindings) on a SQLite file.

Every answered call through the B2BUA produces nine CDR facts (call started,
two legs started, call and two legs answered, two legs and the call ended).
Measured here, in CPU time of the whole process (all threads) per answered
call and facts per CPU second:

- ``per_fact``: :meth:`CdrRecorder.record`, one transaction per fact (what
  the tests and tools use);
- ``batched``: :meth:`CdrRecorder.record_many` with the facts of ``calls``
  calls interleaved in one transaction, as a batch window of a busy switch;
- ``persistence``: the switch's own path, :class:`Persistence` with its batch
  writer thread, facts put from the calling thread as the event loop does;
  ``loop_us_per_call`` is what the putting thread itself spends;
- ``bindings``: REGISTER refreshes through :class:`Persistence` (an upsert of
  the binding each), per second of CPU.

Run: ``python -m bench.bench_storage [--quick] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import write_report
from sipstack.events import Address
from softswitch.cdr import (
    CallAnswered,
    CallEnded,
    CallStarted,
    CdrFact,
    CdrRecorder,
    LegAnswered,
    LegEnded,
    LegStarted,
)
from softswitch.location import Binding
from softswitch.persistence import Persistence
from softswitch.storage import Direction, Disposition, HangupSide, LegRole, open_storage

FACTS_PER_CALL = 9
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def call_facts(n: int) -> list[CdrFact]:
    """The facts of answered call number ``n``, in the order the switch sends them."""
    cid, t = f"bench-{n:08d}", T0 + timedelta(milliseconds=n)
    answered, ended = t + timedelta(seconds=2), t + timedelta(seconds=30)
    return [
        CallStarted(cid, f"sip-{cid}", "+48601000111", "100", Direction.INBOUND, t,
                    caller_name="Jan", trunk="operator-a"),
        LegStarted(cid, 0, LegRole.CALLER, Direction.INBOUND, "udp:198.51.100.4:5060",
                   f"sip-{cid}", t),
        LegStarted(cid, 1, LegRole.CALLEE, Direction.INTERNAL, "sip:100@192.0.2.10",
                   f"b2b-{cid}", t),
        CallAnswered(cid, answered), LegAnswered(cid, 0, answered),
        LegAnswered(cid, 1, answered),
        CallEnded(cid, ended, Disposition.ANSWERED, HangupSide.CALLER, 200, "OK"),
        LegEnded(cid, 0, ended, 200, "BYE", HangupSide.CALLER),
        LegEnded(cid, 1, ended, 200, None, HangupSide.CALLER),
    ]


def interleaved(first: int, count: int) -> list[CdrFact]:
    """``count`` calls' facts, started together and ended together."""
    calls = [call_facts(n) for n in range(first, first + count)]
    return [fact for step in zip(*calls, strict=True) for fact in step]


def _figures(calls: int, cpu: float, wall: float, **extra: Any) -> dict[str, Any]:
    return {"calls": calls, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "ms_per_call": round(cpu / calls * 1000, 4),
            "facts_per_cpu_s": round(calls * FACTS_PER_CALL / cpu),
            "calls_per_cpu_s": round(calls / cpu), **extra}


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def bench_per_fact(url: str, calls: int) -> dict[str, Any]:
    storage = open_storage(url)
    recorder = CdrRecorder(storage, "bench")
    facts = [f for n in range(calls) for f in call_facts(n)]
    cpu, wall = _timed(lambda: [recorder.record(f) for f in facts])
    storage.close()
    return _figures(calls, cpu, wall)


def bench_batched(url: str, calls: int, batch_calls: int) -> dict[str, Any]:
    storage = open_storage(url)
    recorder = CdrRecorder(storage, "bench")
    batches = [interleaved(n, batch_calls) for n in range(0, calls, batch_calls)]
    cpu, wall = _timed(lambda: [recorder.record_many(b) for b in batches])
    storage.close()
    return _figures(calls, cpu, wall, calls_per_batch=batch_calls)


def bench_persistence(url: str, calls: int, batch_calls: int) -> dict[str, Any]:
    persistence = Persistence(url, node="bench")
    batches = [interleaved(n, batch_calls) for n in range(0, calls, batch_calls)]
    loop_cpu = 0.0

    def run() -> None:
        nonlocal loop_cpu
        for batch in batches:
            began = time.thread_time()
            for fact in batch:
                persistence.record(fact)
            loop_cpu += time.thread_time() - began
        persistence.sync()

    cpu, wall = _timed(run)
    asyncio.run(persistence.close())
    return _figures(calls, cpu, wall, calls_per_batch=batch_calls,
                    loop_us_per_call=round(loop_cpu / calls * 1e6, 2))


def bench_bindings(url: str, registers: int) -> dict[str, Any]:
    persistence = Persistence(url, node="bench")
    source = Address("udp", "198.51.100.4", 5060)
    expires = time.time() + 3600
    added = [(Binding(f"{n % 1000}", f"sip:{n % 1000}@198.51.100.4:5060", source, expires,
                      f"reg-{n % 1000}", n // 1000 + 1),) for n in range(registers)]

    def run() -> None:
        for binding in added:
            persistence.binding_changed(binding, ())
        persistence.sync()

    cpu, wall = _timed(run)
    asyncio.run(persistence.close())
    return {"registers": registers, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "us_per_register": round(cpu / registers * 1e6, 1),
            "registers_per_cpu_s": round(registers / cpu)}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (smoke check)")
    parser.add_argument("--out", type=Path, help="where to write the JSON")
    args = parser.parse_args(argv)
    calls = 300 if args.quick else 3000
    workdir = Path(tempfile.mkdtemp(prefix="bench-storage-"))

    def url(name: str) -> str:
        return f"sqlite:///{workdir / name}.db"

    figures = {
        "database": "sqlite file, WAL, synchronous=NORMAL",
        "facts_per_call": FACTS_PER_CALL,
        "per_fact": bench_per_fact(url("per-fact"), calls // 3),
        "batched": bench_batched(url("batched"), calls, 50),
        "persistence": bench_persistence(url("persistence"), calls, 50),
        "bindings": bench_bindings(url("bindings"), calls * 3),
    }
    path = write_report("storage", figures, args.out)
    print(path.read_text())
    return path


if __name__ == "__main__":
    main()
