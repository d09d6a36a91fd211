"""Desk phones over TCP through the B2BUA (F-SIP-3 with F-SIP-5): a phone
registered over a TCP connection is called over that connection, and every
later request of the call (ACK, BYE, re-INVITE) must reach it there too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from media_checks import hears
from peers import Phone
from switch import SwitchProcess

pytestmark = pytest.mark.integration


def tcp_phone(phones: Callable[..., Phone], switch: SwitchProcess, user: str) -> Phone:
    phone = phones(user=user, transport="tcp")
    code = phone.register(registrar=f"{switch.registrar};transport=tcp", user=user,
                          password=f"demo{user}")
    assert code == 200, f"{user} could not register over TCP: {code}"
    return phone


def test_tcp_phones_call_each_other(phones: Callable[..., Phone],
                                    tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:
        alice = tcp_phone(phones, switch, "101")
        bob = tcp_phone(phones, switch, "102")
        call = alice.call(switch.uri("102") + ";transport=tcp")
        incoming = bob.wait_incoming(timeout=10)
        bob.answer(incoming.call)
        alice.wait_state(call, "CONFIRMED", timeout=10)
        bob.wait_state(incoming.call, "CONFIRMED", timeout=5)
        assert abs(hears(bob, incoming.call, alice, call, tmp_path) - 1000) < 30
        mark = alice.mark()
        alice.hold(call)  # the re-INVITE goes over TCP and is answered by the switch
        alice.wait_media(call, "LOCAL_HOLD", timeout=10, start=mark)
        assert bob.call_info(incoming.call)["state"] == "CONFIRMED"
        alice.hangup(call)
        bob.wait_state(incoming.call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert record.disposition == "answered" and record.hangup_side == "caller"
