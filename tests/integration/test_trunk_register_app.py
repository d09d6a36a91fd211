"""The running softswitch registers its trunk to the operator (F-OUT-5)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from peers import Sipp, free_port
from peers.sipp import SCENARIOS
from switch import SwitchProcess

pytestmark = pytest.mark.integration


def test_softswitch_registers_to_the_operator_and_unregisters_on_stop(tmp_path: Path) -> None:
    port = free_port()
    extra = ('username = "acme"\npassword = "s3cret"\nregister = true\n'
             'register_expires = 300\n')
    registrar = Sipp(SCENARIOS / "registrar_digest.xml", local_port=port, calls=1,
                     variables={"user": "acme", "password": "s3cret", "realm": "op.test"})
    with registrar.start().wait_ready() as operator, \
            SwitchProcess(tmp_path, trunk_port=port, trunk_extra=extra) as switch:
        deadline = time.monotonic() + 10
        while "-> registered" not in switch.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "trunk demo-operator: registering -> registered" in switch.log(), \
            switch.log()[-2000:]
        switch.stop()
        assert "registered -> unregistering" in switch.log()
        result = operator.wait(10)
    assert result.all_successful, result.summary()
