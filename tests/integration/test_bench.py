"""The benchmark suites in their --quick form against a real ``softswitch run``.

Each suite must produce a JSON report with the machine, the versions and
every step's figures, with plausible values (light loads set up every call;
CPU and times are in range), and a PNG plot. No speed is asserted. The SIPp
scenarios for testers that no suite runs are exercised here too.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bench import config
from bench.__main__ import main
from bench.procs import Switch, free_port
from bench.sippctl import Background, Sipp
from bench.stepping import Step
from bench.suites import SUITES
from bench.suites.common import QUICK_RATES

pytestmark = pytest.mark.integration

STEP_FIELDS = set(Step.__slots__)


@pytest.fixture(autouse=True)
def _sipp() -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (Debian package sip-tester)")


def _report(out: Path) -> dict[str, Any]:
    files = list(out.glob("suites-*.json"))
    assert len(files) == 1, files
    report: dict[str, Any] = json.loads(files[0].read_text())
    return report


def _check_steps(steps: list[dict[str, Any]], cores: int) -> None:
    assert steps
    for step in steps:
        assert set(step) == STEP_FIELDS
        assert step["attempted"] == step["successful"] + step["failed"] > 0
        assert 0 <= step["failure_ratio"] <= 1
        assert 0 <= step["cpu_percent"] <= 100 * cores + 5
        assert step["rss_mib"] > 0
        assert step["p95_ms"] is None or step["p95_ms"] >= step["p50_ms"] >= 0


def _check_media(result: dict[str, Any], recorded: bool) -> None:
    """Calls through the switch; packets are the attempts: one stream a call
    at 50 packets/s over the measured seconds, each relayed twice (there and
    echoed back), so relayed ≈ 100/s a call."""
    assert result["recorded"] is recorded and result["workers"] == 1
    seconds = result["seconds_per_step"]
    for step in result["systems"]["softswitch"]["steps"]:
        calls = int(step["load"])
        expected = calls * 50 * seconds
        assert 0.8 * expected <= step["attempted"] <= 1.1 * expected, step
        assert 0.8 * calls * 100 <= step["achieved_rate"] <= 1.1 * calls * 100
        assert step["p95_ms"] <= 1000 and abs(step["seconds"] - seconds) < 1
        assert f"{calls}/{calls} calls completed" in step["note"], step["note"]
        assert ("WAV files" in step["note"]) is recorded
        if recorded:
            assert f"; {calls} WAV files" in step["note"], step["note"]


@pytest.mark.timeout(170)
@pytest.mark.parametrize("suite", list(SUITES))
def test_quick_suite_writes_json_and_plot(suite: str, tmp_path: Path) -> None:
    assert main([suite, "--quick", "--out", str(tmp_path)]) == 0
    report = _report(tmp_path)
    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["python"]
    assert machine["git"] != ""
    figures = report["figures"]
    assert "SIPp" in figures["versions"]["sipp"]
    assert set(figures["versions"]) >= {"kamailio", "sippy"}  # a version or "not installed"
    result = figures["suites"][suite]
    assert result["unit"] and result["x"]
    ours = result["systems"]["softswitch"]
    _check_steps(ours["steps"], machine["cores"])
    lightest = ours["steps"][0]
    assert lightest["failed"] == 0 and lightest["successful"] == lightest["attempted"]
    assert lightest["p95_ms"] is not None  # every call timed
    assert ours["ceiling"] is not None and ours["ceiling"] >= lightest["load"]
    assert isinstance(ours["capped"], bool)
    for name, peer in result["systems"].items():
        if name != "softswitch" and peer["steps"]:
            _check_steps(peer["steps"], machine["cores"])
    if suite.startswith("rtp-"):
        _check_media(result, recorded=suite == "rtp-recorded")
    if suite == "setup-rate":
        assert "sipp-only" in result["ratios"]
        common = result["ratios_at_common_load"]["sipp-only"]
        assert common["load"] in QUICK_RATES  # ours passes the first
        assert common["cpu_percent"] is None or common["cpu_percent"] > 0
        assert result["systems"]["sipp-only"]["ceiling"] is not None
    png = Path(result["plot"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tester_scenarios_register_and_take_a_trunk_call(tmp_path: Path) -> None:
    """register_auth.xml registers a SIPp port as extension 1000 with digest
    auth; uas_answer.xml on that port answers trunk_call.xml's calls to the DID."""
    port = free_port()
    switch = Switch(tmp_path, config.switch_config(port, tmp_path / "var", 2)).start()
    target = f"127.0.0.1:{port}"
    try:
        uas_port = free_port()
        registered = Sipp("register_auth.xml", tmp_path / "register", target=target, calls=1,
                          service="1000", port=uas_port,
                          extra=["-ap", config.password("1000")]).run(20)
        assert registered.successful == 1, registered.workdir
        wrong = Sipp("register_auth.xml", tmp_path / "wrong", target=target, calls=1,
                     service="1001", extra=["-ap", "not-the-password"]).run(20)
        assert wrong.successful == 0 and wrong.failed == 1
        with Background(Sipp("uas_answer.xml", tmp_path / "uas", port=uas_port,
                             extra=["-aa"])):
            called = Sipp("trunk_call.xml", tmp_path / "call", target=target, calls=3,
                          rate=10, service=config.DID).run(30)
        assert called.successful == 3, (called.workdir, switch.log()[-2000:])
        assert len(called.rtts_ms) == 3
    finally:
        switch.stop()


@pytest.mark.timeout(90)
def test_tester_scenario_plays_rtp_from_a_pcap(tmp_path: Path) -> None:
    """trunk_call_pcap.xml plays sip-tester's g711a.pcap into a trunk call to
    the DID, answered by a SIPp UAS registered as the extension, which echoes
    the RTP and sees the call through to the BYE. (SIPp does not count the
    RTP it receives, so the relay itself is the rtp-* suites' to measure.)"""
    pcap = Path("/usr/share/sip-tester/g711a.pcap")
    if not pcap.exists():
        pytest.fail(f"{pcap} is missing (Debian package sip-tester ships it)")
    port = free_port()
    switch = Switch(tmp_path, config.switch_config(port, tmp_path / "var", 2)).start()
    target = f"127.0.0.1:{port}"
    try:
        uas_port = free_port()
        registered = Sipp("register_auth.xml", tmp_path / "register", target=target, calls=1,
                          service="1000", port=uas_port,
                          extra=["-ap", config.password("1000")]).run(20)
        assert registered.successful == 1, registered.workdir
        with Background(Sipp("uas_answer.xml", tmp_path / "uas", port=uas_port,
                             extra=["-aa", "-rtp_echo"])):
            called = Sipp("trunk_call_pcap.xml", tmp_path / "call", target=target, calls=1,
                          rate=1, service=config.DID).run(40)
        assert called.successful == 1, (called.workdir, switch.log()[-2000:])
        callee = (tmp_path / "uas" / "stderr.log").read_text()
        assert "Dead call" not in callee and "aborted" not in callee, callee[-2000:]
    finally:
        switch.stop()
