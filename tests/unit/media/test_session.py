"""The media of one call, sans-IO on a fake clock (F-MEDIA-1, F-MEDIA-2, F-MEDIA-3):
relay with header rewriting into one continuous stream per leg (RFC 3550 §5.1),
PCMU<->PCMA transcoding by table, source latching (RFC 4961), RFC 4733 and
in-band DTMF, hold music, prompts, RTP timeout and recording."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from media.codecs import (
    ALAW_TO_ULAW,
    ULAW_TO_ALAW,
    alaw_decode,
    alaw_encode,
    ulaw_decode,
    ulaw_encode,
)
from media.dtmf import DtmfSender
from media.rtp import RtpPacket, seq_diff
from media.session import (
    CallMedia,
    Digit,
    LegConfig,
    MediaEvent,
    MediaTimeout,
    PlaybackDone,
)

PHONE_A = ("10.0.0.1", 4000)
PHONE_B = ("10.0.0.2", 5000)
NAT_A = ("192.0.2.9", 61000)  # where phone A's packets really come from
STRANGER = ("198.51.100.7", 9999)
SSRC_A = 0x11111111
SSRC_B = 0x22222222
PT = {"PCMU": 0, "PCMA": 8}
VOICE = bytes(range(40, 200))  # 160 octets of "audio"


def make_call(codec_a: str = "PCMU", codec_b: str = "PCMU", *, rtp_timeout: float = 60.0,
              remote_a: tuple[str, int] | None = PHONE_A) -> CallMedia:
    """Caller "a" with telephone-event 101 both ways, callee "b" with 100 out and
    96 in (so rewriting the event payload type is visible)."""
    counter = itertools.count(0x1000)
    call = CallMedia("call-1", lambda: next(counter) * 7919, rtp_timeout=rtp_timeout)
    call.add_leg("a")
    call.add_leg("b")
    call.configure("a", LegConfig(remote_a, codec_a, PT[codec_a], PT[codec_a], 101, 101), 0.0)
    call.configure("b", LegConfig(PHONE_B, codec_b, PT[codec_b], PT[codec_b], 100, 96), 0.0)
    return call


def rtp(seq: int, ts: int, ssrc: int = SSRC_A, pt: int = 0, payload: bytes = VOICE,
        marker: bool = False, **extra: object) -> bytes:
    return bytes(RtpPacket(pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc, payload, marker,
                           **extra))  # type: ignore[arg-type]


def events(call: CallMedia) -> list[MediaEvent]:
    out = []
    while (event := call.next_event()) is not None:
        out.append(event)
    return out


def relay(call: CallMedia, leg: str, packets: list[bytes], source: tuple[str, int],
          start: float = 0.0) -> list[tuple[RtpPacket, tuple[str, int]] | None]:
    """Feed packets 20 ms apart; the parsed relayed packet (and target) of each."""
    out: list[tuple[RtpPacket, tuple[str, int]] | None] = []
    for i, data in enumerate(packets):
        result = call.receive(leg, data, source, start + 0.02 * i)
        out.append(None if result is None else (RtpPacket.parse(result[0]), result[1]))
    return out


def relayed(results: list[tuple[RtpPacket, tuple[str, int]] | None]) -> list[RtpPacket]:
    return [r[0] for r in results if r is not None]


def assert_continuous(packets: list[RtpPacket], ssrc: int, step: int = 160) -> None:
    assert packets
    for before, after in itertools.pairwise(packets):
        assert after.ssrc == before.ssrc == ssrc
        assert seq_diff(after.sequence, before.sequence) == 1
        assert (after.timestamp - before.timestamp) % (1 << 32) == step


# -- relay ---------------------------------------------------------------------------


def test_relay_rewrites_ssrc_sequence_timestamp_into_one_stream() -> None:
    call = make_call()
    first = [rtp(65530 + i, 0xFFFFFF00 + 160 * i) for i in range(10)]  # both wrap
    # the phone restarts its stream: another SSRC, sequence and timestamp
    second = [rtp(7 + i, 123456 + 160 * i, ssrc=0x33333333) for i in range(5)]
    results = relay(call, "a", first + second, PHONE_A)
    assert all(r is not None and r[1] == PHONE_B for r in results)
    out = relayed(results)
    assert_continuous(out, call.legs["b"].ssrc)
    assert out[0].ssrc != SSRC_A
    assert [p.marker for p in out] == [True] + [False] * 9 + [True] + [False] * 4
    assert all(p.payload == VOICE and p.payload_type == 0 for p in out)


def test_relay_keeps_the_sources_gaps_and_both_directions_have_their_own_stream() -> None:
    call = make_call()
    a = relayed(relay(call, "a", [rtp(100, 1000), rtp(101, 1160), rtp(104, 1640)], PHONE_A))
    assert seq_diff(a[2].sequence, a[1].sequence) == 3  # loss stays visible
    assert a[2].timestamp - a[1].timestamp == 480
    b = relay(call, "b", [rtp(9, 90, SSRC_B), rtp(10, 250, SSRC_B)], PHONE_B)
    assert [r[1] for r in b if r is not None] == [PHONE_A, PHONE_A]
    assert_continuous(relayed(b), call.legs["a"].ssrc)
    assert call.legs["a"].ssrc != call.legs["b"].ssrc


def test_same_codec_fast_path_keeps_payload_bytes_and_header_extras() -> None:
    call = make_call()
    packet = rtp(1, 160, csrc=(5, 6), padding=4)
    data, target = call.receive("a", packet, PHONE_A, 0.0) or (b"", None)
    out = RtpPacket.parse(data)
    assert target == PHONE_B
    assert (out.payload, out.csrc, out.padding) == (VOICE, (5, 6), 4)
    assert data.endswith(packet[12:])


@pytest.mark.parametrize(("codec_a", "codec_b", "table"), [
    ("PCMU", "PCMA", ULAW_TO_ALAW), ("PCMA", "PCMU", ALAW_TO_ULAW)])
def test_transcoding_between_pcmu_and_pcma(codec_a: str, codec_b: str, table: bytes) -> None:
    call = make_call(codec_a, codec_b)
    payload = bytes(range(256))[:160]
    packets = [rtp(i, 160 * i, pt=PT[codec_a], payload=payload) for i in range(3)]
    out = relayed(relay(call, "a", packets, PHONE_A))
    assert len(out) == 3
    assert all(p.payload == payload.translate(table) for p in out)
    assert all(p.payload_type == PT[codec_b] for p in out)
    back = relayed(relay(call, "b", [rtp(50, 0, SSRC_B, PT[codec_b], out[0].payload)], PHONE_B))
    assert back[0].payload_type == PT[codec_a]
    assert back[0].payload == out[0].payload.translate(
        ALAW_TO_ULAW if table is ULAW_TO_ALAW else ULAW_TO_ALAW)


def test_transcoding_drops_csrc_extension_and_padding_consistently() -> None:
    call = make_call("PCMU", "PCMA")
    packet = rtp(1, 160, csrc=(5,), padding=3)
    data, _ = call.receive("a", packet, PHONE_A, 0.0) or (b"", None)
    out = RtpPacket.parse(data)
    assert (out.csrc, out.extension, out.padding) == ((), None, 0)
    assert out.payload == VOICE.translate(ULAW_TO_ALAW)


# -- latching ---------------------------------------------------------------------------


def test_unexpected_address_is_relayed_only_once_latched() -> None:
    call = make_call()
    results = relay(call, "a", [rtp(i, 160 * i) for i in range(5)], NAT_A)
    assert [r is not None for r in results] == [False, False, True, True, True]
    # replies now go where phone A really sends from, not to its SDP address
    back = relay(call, "b", [rtp(1, 160, SSRC_B)], PHONE_B, start=1.0)
    assert back[0] is not None and back[0][1] == NAT_A


def test_without_sdp_address_the_leg_is_reached_once_it_has_latched() -> None:
    call = make_call(remote_a=None)
    assert call.receive("b", rtp(1, 160, SSRC_B), PHONE_B, 0.0) is None  # nowhere to send
    relay(call, "a", [rtp(i, 160 * i) for i in range(3)], NAT_A)
    back = call.receive("b", rtp(2, 320, SSRC_B), PHONE_B, 0.1)
    assert back is not None and back[1] == NAT_A


def test_stray_packets_do_not_steal_a_live_stream() -> None:
    call = make_call()
    relay(call, "a", [rtp(i, 160 * i) for i in range(5)], PHONE_A)
    stray = [call.receive("a", rtp(500 + i, 0, ssrc=0x666), STRANGER, 0.1 + 0.001 * i)
             for i in range(5)]
    assert stray == [None] * 5
    back = call.receive("b", rtp(1, 160, SSRC_B), PHONE_B, 0.2)
    assert back is not None and back[1] == PHONE_A
    assert call.legs["a"].target == PHONE_A


@pytest.mark.parametrize("pt", [13, 18, 96, 127])
def test_payload_types_not_negotiated_are_ignored(pt: int) -> None:
    call = make_call()
    assert call.receive("a", rtp(1, 160, pt=pt), PHONE_A, 0.0) is None
    assert events(call) == []


@pytest.mark.parametrize("data", [
    b"", b"\x80\x00\x00", b"\x40" + bytes(171),  # short, RTP version 1
    bytes(RtpPacket(72, 1, 1, 1, bytes(20), marker=True)),  # RTCP SR on a muxed port
    b"\xa0\x00\x00\x01" + bytes(8) + VOICE[:-1] + b"\xff",  # padding longer than the packet
    b"\x9f\x00\x00\x01" + bytes(8) + bytes(20),  # CSRC count beyond the packet
])
def test_malformed_datagrams_are_dropped(data: bytes) -> None:
    call = make_call()
    assert call.receive("a", data, PHONE_A, 0.0) is None
    assert call.receive("a", rtp(1, 160), PHONE_A, 0.02) is not None  # still working


# -- DTMF ---------------------------------------------------------------------------------


def press(digit: str, seq: int, ts: int, ssrc: int = SSRC_A, pt: int = 101) -> list[bytes]:
    burst = DtmfSender().press(digit, seq, ts)
    return [rtp(p.seq, p.timestamp, ssrc, pt, p.payload, p.marker) for p in burst.packets]


def test_telephone_event_gives_one_digit_per_press_and_is_forwarded() -> None:
    call = make_call()
    audio = relayed(relay(call, "a", [rtp(10 + i, 1600 + 160 * i) for i in range(3)],
                          PHONE_A))
    tone = press("5", 13, 2080)
    tone = tone + tone[-1:]  # a duplicated end packet
    out = relay(call, "a", tone, PHONE_A, start=0.06)
    assert events(call) == [Digit("a", "5", "rfc4733")]
    forwarded = relayed(out)
    assert len(forwarded) == len(tone) and all(r[1] == PHONE_B for r in out if r)
    assert {p.payload_type for p in forwarded} == {100}
    assert {p.timestamp for p in forwarded} == {audio[-1].timestamp + 160}  # one event
    assert [p.payload for p in forwarded] == [RtpPacket.parse(t).payload for t in tone]
    assert forwarded[0].sequence == (audio[-1].sequence + 1) & 0xFFFF
    assert forwarded[0].ssrc == audio[0].ssrc
    relay(call, "a", press("#", 30, 4000) + press("#", 40, 6000), PHONE_A, start=1.0)
    assert events(call) == [Digit("a", "#", "rfc4733"), Digit("a", "#", "rfc4733")]


def test_telephone_event_is_not_forwarded_to_a_leg_without_telephone_event() -> None:
    call = make_call()
    call.configure("b", LegConfig(PHONE_B, "PCMU", 0, 0), 0.0)
    assert [r for r in relay(call, "a", press("1", 1, 160), PHONE_A) if r] == []
    assert events(call) == [Digit("a", "1", "rfc4733")]


def test_callee_event_payload_type_is_its_own() -> None:
    call = make_call()
    out = relayed(relay(call, "b", press("9", 1, 160, SSRC_B, pt=96), PHONE_B))
    assert out and {p.payload_type for p in out} == {101}
    assert events(call) == [Digit("b", "9", "rfc4733")]
    assert call.receive("b", press("8", 20, 8000, SSRC_B, pt=100)[0], PHONE_B, 1.0) is None
    assert events(call) == []  # 100 is what b is sent, not what it sends


LOW = {"1": 697, "2": 697, "3": 697, "4": 770, "5": 770, "6": 770,
       "7": 852, "8": 852, "9": 852, "*": 941, "0": 941, "#": 941}
HIGH = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336,
        "8": 1336, "0": 1336, "3": 1477, "6": 1477, "9": 1477, "#": 1477}


def dtmf_tone(digit: str, ms: int) -> np.ndarray:
    """The key's tone pair (ITU-T Q.23), each tone about -14 dBFS."""
    t = np.arange(8 * ms) / 8000
    pair = np.sin(2 * np.pi * LOW[digit] * t) + np.sin(2 * np.pi * HIGH[digit] * t)
    return (6000 * pair).astype(np.int16)


def frames_of(pcm: np.ndarray, codec: str = "PCMU") -> list[bytes]:
    encode = ulaw_encode if codec == "PCMU" else alaw_encode
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % 160, np.int16)])
    return [encode(pcm[i:i + 160]) for i in range(0, len(pcm), 160)]


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_inband_tones_give_the_digit_when_detection_is_on(codec: str) -> None:
    silence = np.zeros(1600, np.int16)
    pcm = np.concatenate([silence, dtmf_tone("7", 100), silence, dtmf_tone("0", 100), silence])
    payloads = frames_of(pcm, codec)
    packets = [rtp(i, 160 * i, pt=PT[codec], payload=p) for i, p in enumerate(payloads)]
    off = make_call(codec)
    relay(off, "a", packets, PHONE_A)
    assert events(off) == []
    on = make_call(codec)
    on.detect_inband("a")
    results = relay(on, "a", packets, PHONE_A)
    assert events(on) == [Digit("a", "7", "inband"), Digit("a", "0", "inband")]
    assert all(r is not None for r in results)  # the tones are relayed all the same
    on.detect_inband("a", False)
    relay(on, "a", [rtp(100 + i, 16000 + 160 * i, pt=PT[codec], payload=p)
                    for i, p in enumerate(payloads)], PHONE_A)
    assert events(on) == []


# -- hold, prompts -----------------------------------------------------------------------


MUSIC = [bytes([0x10 + i]) * 160 for i in range(3)]


def test_hold_loops_music_to_the_held_leg_and_unhold_restores_relay() -> None:
    call = make_call()
    before = relayed(relay(call, "a", [rtp(i, 160 * i) for i in range(3)], PHONE_A))
    call.hold("b", MUSIC)  # a holds b: b hears the music
    assert relay(call, "a", [rtp(3, 480)], PHONE_A, start=0.06) == [None]
    ticks = [call.tick(0.1 + 0.02 * i) for i in range(7)]
    assert all(len(t) == 1 and t[0][0] == "b" and t[0][2] == PHONE_B for t in ticks)
    music = [RtpPacket.parse(t[0][1]) for t in ticks]
    assert [p.payload for p in music] == MUSIC * 2 + MUSIC[:1]
    assert music[0].marker and not any(p.marker for p in music[1:])
    call.hold("b", None)
    assert call.tick(0.3) == []
    after = relayed(relay(call, "a", [rtp(20 + i, 3200 + 160 * i) for i in range(2)],
                          PHONE_A, start=0.3))
    assert len(after) == 2 and after[0].marker
    assert_continuous(before + music + after, call.legs["b"].ssrc)


def test_the_holder_is_not_sent_the_held_partys_audio() -> None:
    # a put b on hold (a's SDP is sendonly or inactive): the switch answered
    # recvonly/inactive, so it must not send a anything (RFC 3264 §6.1)
    call = make_call()
    call.hold("b", MUSIC)
    assert relay(call, "b", [rtp(1, 160, SSRC_B)], PHONE_B) == [None]
    tone = press("3", 2, 320, SSRC_B, pt=96)
    assert relay(call, "b", tone, PHONE_B) == [None] * len(tone)
    assert events(call) == [Digit("b", "3", "rfc4733")]  # still heard by the switch
    call.hold("b", None)
    assert relay(call, "b", [rtp(20, 3200, SSRC_B)], PHONE_B)[0] is not None


def test_play_without_loop_ends_with_playback_done() -> None:
    call = make_call()
    call.play("a", "welcome", MUSIC)
    sent = [call.tick(0.02 * i) for i in range(5)]
    assert [len(t) for t in sent] == [1, 1, 1, 0, 0]
    assert [RtpPacket.parse(t[0][1]).payload for t in sent[:3]] == MUSIC
    assert all(t[0][2] == PHONE_A and RtpPacket.parse(t[0][1]).payload_type == 0
               for t in sent[:3])
    assert events(call) == [PlaybackDone("a", "welcome")]


def test_looped_play_and_stop_play() -> None:
    call = make_call()
    call.play("b", "music", MUSIC[:2], loop=True)
    payloads = [RtpPacket.parse(call.tick(0.02 * i)[0][1]).payload for i in range(5)]
    assert payloads == [MUSIC[0], MUSIC[1]] * 2 + [MUSIC[0]]
    call.stop_play("b")
    assert call.tick(0.2) == [] and events(call) == []


def test_prompt_between_relayed_audio_keeps_one_rtp_stream() -> None:
    call = make_call()
    first = relayed(relay(call, "b", [rtp(i, 160 * i, SSRC_B) for i in range(4)], PHONE_B))
    call.play("a", "notice", MUSIC)
    # b's packets meanwhile are not relayed: the prompt has the leg
    assert relay(call, "b", [rtp(4, 640, SSRC_B)], PHONE_B, start=0.08) == [None]
    prompt = [RtpPacket.parse(call.tick(0.1 + 0.02 * i)[0][1]) for i in range(3)]
    assert call.tick(0.16) == []
    assert events(call) == [PlaybackDone("a", "notice")]
    after = relayed(relay(call, "b", [rtp(9 + i, 1440 + 160 * i, SSRC_B) for i in range(3)],
                          PHONE_B, start=0.2))
    assert [p.marker for p in prompt + after] == [True, False, False, True, False, False]
    assert_continuous(first + prompt + after, call.legs["a"].ssrc)


def test_playback_is_in_the_codec_the_leg_was_given() -> None:
    call = make_call("PCMU", "PCMA")
    call.play("b", "welcome", MUSIC[:1])
    (leg, data, target), = call.tick(0.0)
    assert (leg, target, RtpPacket.parse(data).payload_type) == ("b", PHONE_B, 8)


# -- RTP timeout -------------------------------------------------------------------------


def test_media_timeout_after_silence_reported_once() -> None:
    call = make_call(rtp_timeout=5.0)
    for i in range(250):  # b talks on; a goes quiet after one second
        now = 0.02 * i
        call.receive("b", rtp(i, 160 * i, SSRC_B), PHONE_B, now)
        if now < 1.0:
            call.receive("a", rtp(i, 160 * i), PHONE_A, now)
        call.tick(now)
    assert events(call) == []
    for i in range(250, 400):
        call.receive("b", rtp(i, 160 * i, SSRC_B), PHONE_B, 0.02 * i)
        call.tick(0.02 * i)
    (event,) = events(call)
    assert isinstance(event, MediaTimeout) and event.leg == "a"
    assert event.silent_for == pytest.approx(5.0, abs=0.021)
    call.tick(20.0)
    assert [e.leg for e in events(call) if isinstance(e, MediaTimeout)] == ["b"]
    call.tick(30.0)
    assert events(call) == []


def test_no_media_timeout_while_the_other_side_is_held() -> None:
    call = make_call(rtp_timeout=5.0)
    call.receive("a", rtp(1, 160), PHONE_A, 0.0)
    call.hold("b", MUSIC)  # a holds and stops sending; b keeps talking
    for i in range(1000):
        call.receive("b", rtp(i, 160 * i, SSRC_B), PHONE_B, 0.02 * i)
        call.tick(0.02 * i)
    assert events(call) == []
    call.hold("b", None)  # resumed: a's silence counts from now
    call.receive("b", rtp(1000, 160000, SSRC_B), PHONE_B, 24.0)
    call.tick(24.0)
    assert events(call) == []
    call.receive("b", rtp(1001, 160160, SSRC_B), PHONE_B, 25.1)
    call.tick(25.1)
    assert [(type(e), e.leg) for e in events(call)] == [(MediaTimeout, "a")]


def test_zero_timeout_disables_the_check() -> None:
    call = make_call(rtp_timeout=0)
    call.tick(1000.0)
    assert events(call) == []


# -- recording -----------------------------------------------------------------------------


class FakeRecorder:
    def __init__(self) -> None:
        self.ticks: list[tuple[np.ndarray | None, np.ndarray | None]] = []

    def write(self, left: np.ndarray | None, right: np.ndarray | None) -> None:
        self.ticks.append((left, right))


def recorded(recorder: FakeRecorder, side: int) -> np.ndarray:
    """One channel as written, silence before and after taken off."""
    parts = [tick[side] for tick in recorder.ticks if tick[side] is not None]
    return np.trim_zeros(np.concatenate(parts)) if parts else np.zeros(0, np.int16)


def talk_while_recording(call: CallMedia, ticks: int, start: float = 0.0,
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Both phones send one distinct frame per 20 ms tick; what each said."""
    said_a, said_b = [], []
    for i in range(ticks):
        now = start + 0.02 * i
        a = ulaw_encode(np.full(160, 1000 + 50 * i, np.int16))
        b = alaw_encode(np.full(160, -2000 - 50 * i, np.int16))
        call.receive("a", rtp(i, 160 * i, payload=a), PHONE_A, now + 0.003)
        call.receive("b", rtp(i, 160 * i, SSRC_B, 8, b), PHONE_B, now + 0.011)
        said_a.append(ulaw_decode(a))
        said_b.append(alaw_decode(b))
        call.tick(now + 0.02)
    return np.concatenate(said_a), np.concatenate(said_b)


def test_recording_gets_caller_left_and_callee_right() -> None:
    call = make_call("PCMU", "PCMA")
    recorder = FakeRecorder()
    call.start_recording(recorder)
    said_a, said_b = talk_while_recording(call, 25)
    for i in range(10):  # the phones stop; the clock goes on
        call.tick(0.52 + 0.02 * i)
    np.testing.assert_array_equal(recorded(recorder, 0), said_a)
    np.testing.assert_array_equal(recorded(recorder, 1), said_b)
    assert call.stop_recording() is recorder
    written = len(recorder.ticks)
    talk_while_recording(call, 5, start=1.0)
    assert len(recorder.ticks) == written  # stopped: nothing more


def test_recording_also_takes_the_audio_of_a_held_party() -> None:
    call = make_call("PCMU", "PCMA")
    recorder = FakeRecorder()
    call.start_recording(recorder)
    call.hold("a", MUSIC)
    said_a, _ = talk_while_recording(call, 10)
    for i in range(5):
        call.tick(0.22 + 0.02 * i)
    np.testing.assert_array_equal(recorded(recorder, 0), said_a)


def test_telephone_event_is_not_forwarded_to_a_leg_hearing_a_prompt() -> None:
    # interleaved with the prompt's frames, one key press would reach b as
    # several events (each re-based to a new timestamp)
    call = make_call()
    call.play("b", "notice", MUSIC * 4)
    sent: list[RtpPacket] = []
    for i, packet in enumerate(press("4", 1, 160)):
        assert call.receive("a", packet, PHONE_A, 0.02 * i) is None
        sent += [RtpPacket.parse(data) for _, data, _ in call.tick(0.02 * i)]
    assert events(call) == [Digit("a", "4", "rfc4733")]
    assert {p.payload_type for p in sent} == {0}
    assert_continuous(sent, call.legs["b"].ssrc)
