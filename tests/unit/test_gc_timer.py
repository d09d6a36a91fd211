"""tune_gc's timer: a collection that stops the process for long is logged."""

from __future__ import annotations

import logging

import pytest

from sipstack.transport import loop


def test_a_slow_collection_is_logged_and_a_quick_one_is_not(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    timer = loop._GcTimer()
    clock = iter([10.0, 10.02, 20.0, 20.7])
    monkeypatch.setattr("time.perf_counter", lambda: next(clock))
    with caplog.at_level(logging.WARNING, "sipstack.transport.loop"):
        timer.callback("start", {"generation": 0})
        timer.callback("stop", {"generation": 0, "collected": 10})
        assert not caplog.records
        timer.callback("start", {"generation": 2})
        timer.callback("stop", {"generation": 2, "collected": 1234})
    assert [r.getMessage() for r in caplog.records] == [
        "garbage collection of generation 2 took 0.70 s (1234 collected)"]
