"""The registrar seen by real pjsua2 phones (F-SIP-5): registrations are
bounded by min_expires (423 with Min-Expires, RFC 3261 §10.3 step 7) and
end when they expire without refresh."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone
from switch import SwitchProcess
from test_b2bua_calls import registered

pytestmark = pytest.mark.integration

SHORT_REGISTRATIONS = "[registrar]\nmin_expires = 2\nmax_expires = 3600\ndefault_expires = 60\n"


def test_too_brief_registration_is_raised_to_min_expires(
        phones: Callable[..., Phone], tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path) as switch:  # min_expires = 60
        phone = phones(user="102")
        code = phone.register(registrar=switch.registrar, user="102", password="demo102",
                              expires=30)
        assert code == 200, "pjsua should retry with the Min-Expires of the 423"
        assert "refused: 423 interval too brief" in switch.log()
        final = phone.events("reg_state")[-1]
        assert 55 <= final.get("expiration") <= 60, final.fields


def test_an_expired_registration_is_not_called(phones: Callable[..., Phone],
                                               tmp_path: Path) -> None:  # F-SIP-5
    with SwitchProcess(tmp_path, extra=SHORT_REGISTRATIONS) as switch:
        alice = registered(phones, switch, "101")
        gone = phones(user="102")
        code = gone.register(registrar=switch.registrar, user="102", password="demo102",
                             expires=2)
        assert code == 200
        gone.close()  # the phone vanishes without unregistering
        time.sleep(2.5)
        call = alice.call(switch.uri("102"))
        ended = alice.wait_state(call, "DISCONNECTED", timeout=10)
        [record] = switch.wait_calls(1)
    assert ended.code == 480 and record.disposition == "unavailable"
