"""A switch anchoring as many calls as its RTP port range allows refuses the
next one cleanly: the caller gets a final response, the calls already up
carry on, and the log says why in one line (no traceback)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import config
from bench.harness import start_callee_uas
from bench.procs import Switch, free_port
from bench.sippctl import Sipp

pytestmark = pytest.mark.integration


def _range_config(port: int, data: Path, low: int) -> str:
    """The bench configuration with RTP ports [low, low + 4): two port pairs,
    the two legs of one anchored call."""
    text = config.switch_config(port, data, 1)
    return text.replace("[media]\n", f"[media]\nport_min = {low}\nport_max = {low + 4}\n", 1)


@pytest.mark.timeout(90)
def test_second_call_beyond_the_port_range_is_refused_and_the_first_goes_on(
        tmp_path: Path) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (Debian package sip-tester)")
    port = free_port()
    low = 47000 + (port % 500) * 4  # a range of its own, away from other tests'
    switch = Switch(tmp_path, _range_config(port, tmp_path / "var", low)).start()
    target = f"127.0.0.1:{port}"
    try:
        callee = start_callee_uas(tmp_path, target, 1)  # registered and answering
        try:
            calls = Sipp("trunk_call.xml", tmp_path / "calls", target=target, calls=2,
                         rate=5, limit=2, service=config.DID, hold_ms=2000).run(40)
        finally:
            callee.__exit__(None, None, None)
        log = switch.log()
        assert calls.successful == 1 and calls.failed == 1, (calls.workdir, log[-3000:])
        assert f"no free RTP port pair in {low}-{low + 4}" in log, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        assert switch.alive()
    finally:
        switch.stop()
