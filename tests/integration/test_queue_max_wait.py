"""A queue's maximum wait (F-ROUTE-5): members ring round after round until
``max_wait`` is over, then the call goes to the queue's ``no_answer``. SIPp is
the operator (the caller, and the far end of the forward); pjsua2 phones are
members who never answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, free_port
from test_routing_lines import ANSWERED, OPEN, client_call, employee, operator, routed_switch

pytestmark = pytest.mark.integration

MAX_WAIT = 7.0
RING_TIME = 2.0

QUEUE = f"""
[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "sales"

[[routing.plans]]
name = "sales"
destination = "queue:sales"
{{plan_extra}}

[[routing.queues]]
name = "sales"
members = ["103", "104"]
strategy = "in_turn"
ring_time = {RING_TIME}
max_wait = {MAX_WAIT}
no_answer = "forward:+39 06 4444 4444"
{{queue_extra}}
"""


def _member(peer: str) -> str | None:
    """The member a callee leg rang (its peer is the phone's contact URI)."""
    match = re.match(r"<?sips?:(10[34])@", peer)
    return match.group(1) if match else None


def test_queue_rings_rounds_until_max_wait_then_no_answer(  # F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=QUEUE,
                       operator_port=port) as switch:
        team = {number: employee(phones, switch, number) for number in ("103", "104")}
        with operator(port, "390644444444", "390611112222") as far:
            result = client_call(switch, "+390611112222", ANSWERED).run(40)
            forwarded = far.wait(15)
        assert result.all_successful, result.summary()
        assert forwarded.all_successful, forwarded.summary()
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    # Rounds repeat: each member's phone was offered the call more than once.
    for number, phone in team.items():
        assert len(phone.incoming_calls()) >= 2, (number, phone.incoming_calls())
    members = [leg for leg in legs if leg.role == "callee" and _member(leg.peer)]
    assert [_member(leg.peer) for leg in members][:4] == ["103", "104", "103", "104"]
    assert all(leg.answer_time is None for leg in members)
    [forward] = [leg for leg in legs if leg.direction == "forwarded"]
    waited = (forward.start_time - record.start_time).total_seconds()
    # The forward leaves when max_wait is over, not after one pass (2 x 2 s)
    # nor after whole rounds past it (4 x 2 s); the margin covers a busy machine.
    assert MAX_WAIT - 0.5 <= waited <= MAX_WAIT + 2.5, waited
    assert forward.answer_time is not None
    assert record.disposition == "answered"
