"""The tester scenario bench/sipp/phone_call.xml against a real ``softswitch run``.

A phone (SIPp as extension 101, registered from the port it calls from, so
the switch knows it for a phone and not for the demo trunk's 127.0.0.1) calls
extension 102 (SIPp registered with register_auth.xml, then answering with
uas_answer.xml on that port): INVITE, 407 Proxy-Authenticate (RFC 3261
§22.3), ACK, INVITE with Proxy-Authorization, 180/200, ACK, BYE. The switch
runs the demo configuration (MD5 offered first) on a free port.

SIPp's digest uri is ``sip:`` + ``-auth_uri``, by default the switch's
host:port; the switch checks it names the Request-URI (RFC 3261 §22.4), so the
scenario is run with ``-auth_uri 102@host:port``, and a run without it fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from switch import SwitchProcess, demo_config

from bench.procs import free_port
from bench.sippctl import SCENARIOS, Background, Sipp, SippOutcome
from softswitch.storage.records import CallRecord, CallState, Direction, Disposition

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CALLER_CSV = SCENARIOS / "demo_phone_101.csv"


@dataclass(frozen=True, slots=True)
class Office:
    """A running switch with 102 answering and 101 registered from ``phone_port``."""

    switch: SwitchProcess
    callee: Sipp
    phone_port: int
    tmp: Path

    @property
    def target(self) -> str:
        return self.switch.registrar

    def call(self, name: str, calls: int, rate: float, *, hold_ms: int = 300,
             inf: Path = CALLER_CSV, auth_uri: bool = True, timeout: float = 40,
             extra: tuple[str, ...] = ()) -> SippOutcome:
        """Run phone_call.xml from the registered phone's port, to 102."""
        if auth_uri:
            extra += ("-auth_uri", f"102@{self.target}")
        return Sipp("phone_call.xml", self.tmp / name, target=self.target, calls=calls,
                    rate=rate, service="102", inf=inf, hold_ms=hold_ms,
                    port=self.phone_port, extra=extra).run(timeout)


def _register(tmp: Path, target: str, extension: str, port: int) -> None:
    registered = Sipp("register_auth.xml", tmp / f"register-{extension}", target=target,
                      calls=1, service=extension, port=port,
                      extra=["-ap", f"demo{extension}"]).run(20)
    assert registered.successful == 1, registered.workdir


@contextmanager
def _office(tmp: Path) -> Iterator[Office]:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (Debian package sip-tester)")
    port = free_port()
    # The demo configuration offers MD5 first, which SIPp 3.6 needs.
    config = demo_config(port, tmp / "var").replace(
        "[sip]\n", '[sip]\ndigest_algorithms = ["MD5", "SHA-256"]\n', 1)
    with SwitchProcess(tmp, config=config, port=port) as switch:
        callee_port, phone_port = free_port(), free_port()
        _register(tmp, switch.registrar, "102", callee_port)
        _register(tmp, switch.registrar, "101", phone_port)
        callee = Sipp("uas_answer.xml", tmp / "callee", port=callee_port, extra=["-aa"])
        with Background(callee):
            yield Office(switch, callee, phone_port, tmp)


def _check_records(records: list[CallRecord], count: int) -> None:
    """``count`` internal calls 101 -> 102, each answered and hung up by 101;
    the challenged first INVITEs leave no record."""
    assert len(records) == count, records
    for record in records:
        assert (record.caller, record.callee) == ("101", "102"), record
        assert record.direction is Direction.INTERNAL and record.trunk is None, record
        assert record.state is CallState.ENDED, record
        assert record.disposition is Disposition.ANSWERED, record
        assert record.answer_time is not None and record.end_time is not None, record
        assert record.billable_seconds is not None and record.billable_seconds > 0.1, record
        assert record.end_reason == "caller hung up", record


def _callee_calls(callee: Sipp) -> int:
    """Calls the SIPp callee saw through to the BYE (its last statistics row)."""
    return callee.outcome(0, 0).successful


def test_phone_calls_an_extension_through_the_407_challenge(tmp_path: Path) -> None:
    with _office(tmp_path) as office:
        called = office.call("call", calls=3, rate=5, hold_ms=500)
        assert called.returncode == 0 and called.successful == 3, \
            (called.workdir, office.switch.log()[-2000:])
        assert len(called.rtts_ms) == 3  # authenticated INVITE to 200, per call
        records = office.switch.wait_calls(3)
        assert len({r.sip_call_id for r in records}) == 3
        _check_records(records, 3)
    assert _callee_calls(office.callee) == 3, office.callee.workdir


def test_repeated_phone_calls_quick_form(tmp_path: Path) -> None:
    """The quick form a tester runs first: -m 20 -r 10, each call challenged anew."""
    with _office(tmp_path) as office:
        called = office.call("calls", calls=20, rate=10, hold_ms=200, timeout=60)
        assert called.returncode == 0 and called.successful == 20 and called.failed == 0, \
            (called.workdir, office.switch.log()[-2000:])
        _check_records(office.switch.wait_calls(20), 20)
    assert _callee_calls(office.callee) == 20, office.callee.workdir


def test_without_auth_uri_or_with_a_wrong_password_the_call_is_refused(
        tmp_path: Path) -> None:
    """SIPp's default digest uri names the switch, not the Request-URI: the
    switch challenges again and the call fails; so does a wrong password."""
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("SEQUENTIAL\n101;[authentication username=101 password=nope]\n")
    with _office(tmp_path) as office:
        # A refused call ends when SIPp gives up waiting for the 200: 2 s, not
        # the bench's 8 s (the later option wins).
        quick_give_up = ("-recv_timeout", "2000")
        default_uri = office.call("default-uri", calls=1, rate=1, auth_uri=False, timeout=20,
                                  extra=("-trace_msg", *quick_give_up))
        assert default_uri.successful == 0 and default_uri.returncode != 0, \
            default_uri.workdir
        messages = "".join(p.read_text(errors="replace")
                           for p in default_uri.workdir.glob("*_messages.log"))
        assert f'uri="sip:{office.target}"' in messages
        assert messages.count("SIP/2.0 407 ") >= 2  # the credentials were challenged again
        bad_password = office.call("bad-password", calls=1, rate=1, inf=wrong, timeout=20,
                                   extra=quick_give_up)
        assert bad_password.successful == 0 and bad_password.returncode != 0, \
            bad_password.workdir
        good = office.call("good", calls=1, rate=1)
        assert good.successful == 1, good.workdir
        _check_records(office.switch.wait_calls(1), 1)  # the refused calls left no record
    assert _callee_calls(office.callee) == 1, office.callee.workdir
