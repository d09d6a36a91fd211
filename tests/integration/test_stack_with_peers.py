"""F-SIP-1..4 against real peers: pjsua2 and SIPp talk to our own stack.

A registrar + UAS made from sipstack alone (``stack_peer.StackPeer``) runs on
127.0.0.1; pjsua2 registers to it with digest auth and calls it, SIPp's
built-in ``uac`` scenario calls it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from peers import Phone, Sipp
from stack_peer import StackPeer

pytestmark = pytest.mark.integration


def test_pjsua2_registers_with_digest_and_wrong_password_is_refused(
        phones: Callable[..., Phone]) -> None:  # F-SIP-4, F-SIP-5
    with StackPeer({"101": "demo101"}) as stack:
        assert stack.address is not None
        registrar = f"127.0.0.1:{stack.address.port}"
        phone = phones(user="101")
        assert phone.register(registrar=registrar, user="101", password="demo101") == 200
        assert stack.wait(lambda r: "101" in r.registrations)
        with stack.record.lock:
            assert 401 in stack.record.register_codes  # challenged first
            [contact] = stack.record.registrations["101"]
        assert f":{phone.port}" in contact

        intruder = phones(user="102")
        code = intruder.register(registrar=registrar, user="101", password="wrong")
        assert code in (401, 403)
        with stack.record.lock:
            assert stack.record.registrations["101"] == [contact]


def test_pjsua2_call_answered_by_stack_and_ended_with_bye_from_stack(
        phones: Callable[..., Phone]) -> None:  # F-SIP-2
    with StackPeer({"101": "demo101"}, bye_after=1.0) as stack:
        assert stack.address is not None
        phone = phones(user="101")
        call = phone.call(f"sip:200@127.0.0.1:{stack.address.port}")
        phone.wait_state(call, "CONFIRMED", timeout=10)
        state = phone.wait_state(call, "DISCONNECTED", timeout=10)
        assert state is not None
        assert stack.wait(lambda r: len(r.ended) == 1)
        with stack.record.lock:
            [(_, reason, by)] = stack.record.ended
        assert (reason, by) == ("BYE", "local")


def test_pjsua2_hangs_up_a_call_answered_by_stack(phones: Callable[..., Phone]) -> None:
    with StackPeer() as stack:
        assert stack.address is not None
        phone = phones(user="101")
        call = phone.call(f"sip:200@127.0.0.1:{stack.address.port}")
        phone.wait_state(call, "CONFIRMED", timeout=10)
        assert stack.wait(lambda r: len(r.confirmed) == 1)
        phone.hangup(call)
        phone.wait_state(call, "DISCONNECTED", timeout=10)
        assert stack.wait(lambda r: len(r.ended) == 1)
        with stack.record.lock:
            [(_, reason, by)] = stack.record.ended
        assert (reason, by) == ("BYE", "remote")


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sipp_uac_calls_are_all_answered(transport: str) -> None:  # F-SIP-2, F-SIP-3
    with StackPeer() as stack:
        assert stack.address is not None
        result = Sipp("uac", target=f"127.0.0.1:{stack.address.port}", calls=20, rate=20,
                      transport=transport).run(timeout=60)
        assert result.all_successful, result.summary()
        assert result.successful == 20
        assert stack.wait(lambda r: len(r.ended) == 20)
        endpoint = stack.endpoint
        assert endpoint is not None
        assert len(endpoint.dialogs) == 0
