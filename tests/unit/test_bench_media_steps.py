"""How a media step's record becomes a Step of the rtp-* suites: packets are
the attempts, and a step where not every call came up, completed or (when
recording) left its file fails whatever its packets did."""

from __future__ import annotations

import os
from typing import Any

from bench.suites.rtp import _step


def _measured(calls: int, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "calls": calls, "calls_up": calls, "calls_completed": calls, "setup_p95_ms": 4.0,
        "packets_sent": calls * 250, "packets_lost": 0, "relayed_pps": calls * 100,
        "worker_cpu_percent": 30.0, "main_cpu_percent": 1.0, "generator_cpu_percent": 5.0,
        "late_rounds": 0, "worst_late_ms": 0, "p50_delay_ms": 4.0, "p95_delay_ms": 6.0,
        "seconds": 5.0, "recorded_files": calls, "recorded_mib": 1.0,
        "shortest_recording_s": 9.0}
    return {**record, **changes}


def test_a_clean_step_passes_with_packets_as_attempts() -> None:
    step = _step(_measured(10), os.getpid(), record=True)
    assert step.passed and step.load == 10
    assert (step.attempted, step.successful, step.failed) == (2500, 2500, 0)
    assert step.achieved_rate == 1000 and step.cpu_percent == 30.0
    assert "10/10 calls completed" in step.note and "; 10 WAV files" in step.note


def test_lost_packets_a_missing_call_or_recording_or_a_busy_main_process_fail_it() -> None:
    assert not _step(_measured(10, packets_lost=5), os.getpid(), record=False).passed
    assert not _step(_measured(10, calls_completed=9), os.getpid(), record=False).passed
    assert not _step(_measured(10, recorded_files=9), os.getpid(), record=True).passed
    assert not _step(_measured(10, main_cpu_percent=85.0), os.getpid(), record=False).passed


def test_a_step_whose_calls_never_all_came_up_fails_with_no_packet_counted() -> None:
    record = {"calls": 10, "calls_up": 4, "calls_completed": 4, "setup_p95_ms": None,
              "packets_sent": 0, "packets_lost": 0, "seconds": 0.0,
              "note": "only 4 of 10 calls reached the callee"}
    step = _step(record, os.getpid(), record=False)
    assert not step.passed
    assert (step.attempted, step.failed, step.failure_ratio) == (0, 0, 1.0)
    assert "only 4 of 10 calls reached the callee" in step.note
