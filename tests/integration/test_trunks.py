"""Trunks with SIPp as the operator (F-ROUTE-1, F-OUT-1, F-OUT-5, F-SEC-1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, Sipp, free_port
from switch import SwitchProcess

pytestmark = pytest.mark.integration

SIPP = Path(__file__).resolve().parents[2] / "bench" / "sipp"


def test_to_header_routing_from_allowed_address_reaches_102(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-ROUTE-1
    with SwitchProcess(tmp_path) as switch:
        bob = phones(user="102")
        assert bob.register(registrar=switch.registrar, user="102", password="demo102") == 200
        bob.set_auto_answer(200, delay=0.2)
        result = Sipp("uac", target=switch.registrar, service="102", calls=1,
                      local_ip="127.0.0.1").run(timeout=30)
        assert result.all_successful, result.summary()
        incoming = bob.incoming_calls()
        assert len(incoming) == 1
        [record] = switch.wait_calls(1)
    assert record.direction == "inbound" and record.trunk == "demo-operator"
    assert (record.callee, record.disposition) == ("102", "answered")


def test_did_routes_to_its_extension(phones: Callable[..., Phone], tmp_path: Path) -> None:
    with SwitchProcess(tmp_path) as switch:
        alice = phones(user="101")
        assert alice.register(registrar=switch.registrar, user="101",
                              password="demo101") == 200
        alice.set_auto_answer(200, delay=0.2)
        result = Sipp("uac", target=switch.registrar, service="390212345678",
                      calls=1).run(timeout=30)
        assert result.all_successful, result.summary()
        [record] = switch.wait_calls(1)
    assert record.callee == "101" and record.direction == "inbound"


def test_call_from_address_not_allowed_is_refused_with_403(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SEC-1
    with SwitchProcess(tmp_path) as switch:
        bob = phones(user="102")
        assert bob.register(registrar=switch.registrar, user="102", password="demo102") == 200
        result = Sipp(SIPP / "trunk_call_refused.xml", target=switch.registrar,
                      service="102", calls=1, local_ip="127.0.0.2").run(timeout=30)
        assert result.all_successful, result.summary()
        assert bob.incoming_calls() == []
        assert switch.calls() == []


def test_outbound_call_answers_the_operators_challenge(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-OUT-1, F-OUT-5
    operator_port = free_port()
    trunk_extra = 'username = "acme"\npassword = "s3cret"\n'
    with SwitchProcess(tmp_path, trunk_port=operator_port, trunk_extra=trunk_extra) as switch:
        operator = Sipp(SIPP / "operator_uas_auth.xml", local_port=operator_port, calls=1,
                        variables={"user": "acme", "password": "s3cret"}).start().wait_ready()
        with operator:
            alice = phones(user="101")
            assert alice.register(registrar=switch.registrar, user="101",
                                  password="demo101") == 200
            call = alice.call(switch.uri("0039021111111"))
            alice.wait_state(call, "CONFIRMED", timeout=10)
            alice.hangup(call)
            alice.wait_state(call, "DISCONNECTED", timeout=10)
            result = operator.wait(15)
        assert result.all_successful, result.summary()
        [record] = switch.wait_calls(1)
    assert record.direction == "outbound" and record.trunk == "demo-operator"
    assert (record.caller, record.callee) == ("101", "0039021111111")
    assert record.disposition == "answered"
