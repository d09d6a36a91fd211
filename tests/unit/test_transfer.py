"""BlindTransfer (F-SIP-6, RFC 3515 §2.4.5): NOTIFY progress, first answer
wins, best failure, ring timeout and abandonment, without SIP or sockets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from softswitch.callcontrol import Answer, Release, Ringing
from softswitch.legs import Leg
from softswitch.transfer import BlindTransfer, offer_for_target


@dataclass
class FakeLeg:
    name: str
    notified: list[tuple[str, bool]] = field(default_factory=list)
    ended: list[tuple[int, str | None]] = field(default_factory=list)

    def notify_transfer(self, status_line: str, final: bool) -> None:
        self.notified.append((status_line, final))

    def end(self, status: int = 480, reason: str | None = None) -> None:
        self.ended.append((status, reason))


@dataclass
class FakeTimer:
    fn: Callable[[], None]
    delay: float
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Outcome:
    answered: list[tuple[str, bytes]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def _rank(status: int) -> int:
    return 0 if status == 486 else 1


def make(count: int = 2) -> tuple[BlindTransfer, FakeLeg, list[FakeLeg], FakeTimer, Outcome]:
    transferor = FakeLeg("transferor")
    legs = [FakeLeg(f"target{i}") for i in range(count)]
    timers: list[FakeTimer] = []
    outcome = Outcome()

    def call_later(delay: float, fn: Callable[[], None]) -> FakeTimer:
        timers.append(FakeTimer(fn, delay))
        return timers[-1]

    transfer = BlindTransfer(
        cast(Leg, transferor), [cast(Leg, leg) for leg in legs], ring_timeout=3.0,
        call_later=call_later, rank=_rank,
        on_answered=lambda leg, body: outcome.answered.append(
            (cast(FakeLeg, leg).name, body)),
        on_failed=lambda status, reason: outcome.failed.append((status, reason)))
    return transfer, transferor, legs, timers[0], outcome


def leg(fake: FakeLeg) -> Leg:
    return cast(Leg, fake)


def test_progress_and_first_answer_wins() -> None:
    transfer, transferor, (first, second), timer, outcome = make()
    assert transferor.notified == [("SIP/2.0 100 Trying", False)]
    assert timer.delay == 3.0
    transfer.on_event(leg(first), Ringing(180))
    transfer.on_event(leg(second), Ringing(180))
    transfer.on_event(leg(second), Answer(b"sdp"))
    assert transferor.notified[1:] == [("SIP/2.0 180 Ringing", False),
                                       ("SIP/2.0 200 OK", True)]
    assert outcome.answered == [("target1", b"sdp")]
    assert first.ended == [(487, "answered elsewhere")] and second.ended == []
    assert timer.cancelled and transfer.over
    transfer.on_event(leg(first), Release(487, "cancelled", False))  # late: ignored
    assert outcome.failed == [] and len(transferor.notified) == 3


def test_all_refuse_reports_the_best_failure_once() -> None:
    transfer, transferor, (first, second), timer, outcome = make()
    transfer.on_event(leg(first), Release(603, "Decline", True))
    assert outcome.failed == [] and not transfer.over
    transfer.on_event(leg(second), Release(486, "Busy Here", True))
    assert outcome.failed == [(486, "Busy Here")]
    assert transferor.notified[-1] == ("SIP/2.0 486 Busy Here", True)
    assert timer.cancelled


def test_ring_timeout_cancels_and_reports_480() -> None:
    transfer, transferor, (first, second), timer, outcome = make()
    timer.fn()
    assert first.ended == [(480, "ring timeout")] and second.ended == [(480, "ring timeout")]
    transfer.on_event(leg(first), Release(487, "cancelled", False))
    transfer.on_event(leg(second), Release(487, "cancelled", False))
    assert outcome.failed == [(480, "Temporarily Unavailable")]
    assert transferor.notified[-1] == ("SIP/2.0 480 Temporarily Unavailable", True)


def test_abandon_stops_the_ringing_and_reports_nothing() -> None:
    transfer, transferor, (first, second), timer, outcome = make()
    transfer.abandon("caller hung up")
    assert first.ended == [(487, "caller hung up")] and second.ended == [(487, "caller hung up")]
    assert timer.cancelled
    transfer.on_event(leg(first), Answer(b"late"))
    transfer.on_event(leg(second), Release(487, "cancelled", False))
    assert outcome == Outcome() and transferor.notified == [("SIP/2.0 100 Trying", False)]


HELD = (b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        b"a=recvonly\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n"
        b"m=video 0 RTP/AVP 96\r\na=inactive\r\n")


def test_offer_for_target_turns_a_held_stream_two_way() -> None:
    offer = offer_for_target(HELD).decode()
    assert "a=recvonly" not in offer and "a=inactive" not in offer
    audio, video = offer.split("m=audio")[1].split("m=video")
    assert "a=sendrecv" in audio and "a=rtpmap:0 PCMU/8000" in audio
    assert "a=sendrecv" not in video  # a rejected stream stays as it was, port 0
    assert offer.startswith("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n")


def test_offer_for_target_leaves_what_is_not_sdp() -> None:
    assert offer_for_target(b"") == b""
    assert offer_for_target(b"not sdp") == b"not sdp"
