"""How a load step measures the CPU of the system under test (F-OPS-6).

A step's CPU is read while the load is offered, not over the idle tail that
follows it, and a step starts only once the system is quiet again.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.procs import offered_cpu, settle


@contextmanager
def busy_then_idle(busy: float) -> Iterator[int]:
    """A child that spins for ``busy`` s, then sleeps; yields its pid."""
    code = (f"import time\nend = time.monotonic() + {busy!r}\n"
            "while time.monotonic() < end:\n    pass\ntime.sleep(120)\n")
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


def test_f_ops_6_cpu_is_read_while_the_load_is_offered() -> None:
    # Busy for the 1 s of "offering", idle after: measured over the window
    # only, it reads as a busy process (over 2 s with the tail it would be 50 %).
    with busy_then_idle(1.0) as pid:
        assert offered_cpu(pid, 1.0) > 60.0


def test_f_ops_6_an_idle_process_reads_near_zero() -> None:
    with busy_then_idle(0.0) as pid:
        time.sleep(0.3)  # the interpreter's start-up
        assert offered_cpu(pid, 0.5) < 20.0


def test_f_ops_6_a_step_waits_for_the_system_to_settle() -> None:
    with busy_then_idle(0.8) as pid:
        began = time.monotonic()
        assert settle(pid, limit=15.0) is None
        assert time.monotonic() - began >= 0.5


def test_f_ops_6_a_system_that_stays_busy_is_reported() -> None:
    with busy_then_idle(30.0) as pid:
        began = time.monotonic()
        busy = settle(pid, limit=0.4)
        assert busy is not None and busy > 20.0
        assert time.monotonic() - began < 3.0
