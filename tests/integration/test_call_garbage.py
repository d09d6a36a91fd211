"""A finished call is freed by reference counting (F-OPS-6).

A call, its legs and its routing driver refer to one another while the call
is up. If those cycles outlived the call, every call would leave its whole
object graph (dialogs, SDP, media handles: about 70 objects) to the cyclic
collector, whose pauses grow with the load: at 150 calls/s they reached
0.2-0.5 s, enough for SIP retransmissions and failed calls.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("gc_probe.py")
ROOT = Path(__file__).resolve().parents[2]


def test_f_ops_6_finished_calls_leave_nothing_to_the_cyclic_collector(tmp_path: Path) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (Debian package sip-tester)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(PROBE), str(tmp_path), "40"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    lines = done.stdout.strip().splitlines()
    if not lines:
        pytest.fail(f"the probe printed nothing: {done.stderr[-2000:]}")
    report = json.loads(lines[-1])
    assert report["calls"] == 40, report
    # Anchored calls through the trunk: none of them may leave a cycle behind
    # (a few incidental objects of the process itself are tolerated).
    assert report["garbage"] < 40, report
