"""Voicemail when nobody in the queue answers: the greeting, a beep, the caller's
message recorded up to the limit and linked from the CDR (F-MEDIA-6, F-ROUTE-5)."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone
from peers.audio import dominant_frequency, read_wav, voiced, write_tone
from test_routing_greeting import greeted
from test_routing_lines import OPEN, employee, routed_switch

pytestmark = pytest.mark.integration

VOICEMAIL = """
[routing]
voicemail_max_seconds = 3

[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "office"

[[routing.plans]]
name = "office"
destination = "queue:sales"
{plan_extra}

[[routing.queues]]
name = "sales"
members = ["103"]
ring_time = 2
no_answer = "voicemail:office"
{queue_extra}

[[routing.voicemail]]
name = "office"
"""


def test_nobody_answers_the_caller_leaves_a_voicemail(  # F-MEDIA-6, F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tone = write_tone(tmp_path / "message.wav", freq=600.0, seconds=2.0)
    with routed_switch(tmp_path, monkeypatch, OPEN, routing=VOICEMAIL) as switch:
        member = employee(phones, switch, "103")
        member.set_auto_answer(None)
        caller, call = greeted(phones, switch)  # answered after 103 rang out
        caller.play_file(call, tone, loop=True)
        state = caller.wait_state(call, "DISCONNECTED", timeout=30)  # the switch hangs up
        [record] = switch.wait_calls(1)
    assert len(member.incoming_calls()) == 1
    assert state is not None
    assert record.disposition == "no_answer" and record.recording is not None
    path = Path(record.recording)
    assert path.is_relative_to(tmp_path / "var" / "voicemail")
    with wave.open(str(path), "rb") as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert 2.5 <= seconds <= 3.6
    samples, rate = read_wav(path)
    heard = voiced(samples, rate)
    assert heard.size > rate  # more than a second of the message
    assert abs(dominant_frequency(heard, rate) - 600.0) < 20
