"""Fixtures for integration tests with real SIP peers on 127.0.0.1.

``phones`` starts pjsua2 phones and ``sipp_servers`` background SIPp UASes;
both close what they started when the test ends.  Logs of every peer go to
the test's tmp_path; when a test fails, their paths and last lines are
printed in the test's teardown output.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:  # `peers` must import the same way whatever the rootdir
    sys.path.insert(0, HERE)

from peers import Phone, SippProcess, sipp_uas  # noqa: E402

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
        item: pytest.Item,
        call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.stash.get(_FAILED, False))


@pytest.fixture
def phones(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Phone]]:
    """``phones(user='alice', **Phone.start options)`` -> a started Phone."""
    started: list[Phone] = []

    def start(**options: Any) -> Phone:
        options.setdefault("log_dir", tmp_path / "phones")
        phone = Phone.start(**options)
        started.append(phone)
        return phone

    yield start
    for phone in started:
        phone.close()
    if _failed(request):
        for phone in started:
            print(f"\n=== phone log {phone.log_path} ===")
            print("\n".join(phone.log_path.read_text(errors="replace").splitlines()[-40:]))


@pytest.fixture
def sipp_servers(request: pytest.FixtureRequest,
                 tmp_path: Path) -> Iterator[Callable[..., SippProcess]]:
    """``sipp_servers(port=0, scenario='uas', **Sipp options)`` -> a listening SIPp."""
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (Debian package sip-tester)")
    started: list[SippProcess] = []

    def start(**options: Any) -> SippProcess:
        options.setdefault("workdir", tmp_path / f"sipp-{len(started)}")
        server = sipp_uas(**options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
        if _failed(request):
            print(f"\n=== sipp files in {server.workdir} ===\n{server.result().summary()}")
