"""Checking an offer before anything rings (RFC 3264 §6): :func:`common_codec`
agrees with :func:`answer` without building an answer, the bridge refuses an
unusable offer without binding a port, and the SDP model parses each stream's
rtpmap lines once and takes only ASCII digits as numbers (RFC 4566 §9)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from media.offer_answer import LocalCodecs, Origin, answer, common_codec
from media.sdp import Attribute, MediaDescription, RtpMap, SdpError, SessionDescription
from media.sdp_parser import parse
from media.session import LegConfig
from softswitch.media_bridge import MediaBridge

CODECS = LocalCodecs()


def offer(m_line: str, *attrs: str, extra: str = "") -> SessionDescription:
    lines = ["v=0", "o=- 7 7 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0",
             *([extra] if extra else []), m_line, *(f"a={a}" for a in attrs)]
    return parse("".join(f"{line}\r\n" for line in lines).encode())


ACCEPTABLE = {
    "pjsua": offer("m=audio 4000 RTP/AVP 96 97 3 0 8 121", "rtpmap:96 speex/16000",
                   "rtpmap:97 speex/8000", "rtpmap:121 telephone-event/8000"),
    "pcma first": offer("m=audio 4000 RTP/AVP 8 0 101", "rtpmap:101 telephone-event/8000"),
    "static, no rtpmap": offer("m=audio 4000 RTP/AVP 18 0"),
    "dynamic pcma": offer("m=audio 4000 RTP/AVP 100", "rtpmap:100 pcma/8000"),
}

UNUSABLE = {
    "no codec in common": offer("m=audio 4000 RTP/AVP 18 9", "rtpmap:9 G722/8000"),
    "only telephone-event": offer("m=audio 4000 RTP/AVP 101", "rtpmap:101 telephone-event/8000"),
    "video only": offer("m=video 5000 RTP/AVP 31", "rtpmap:31 H261/90000"),
    "audio refused": offer("m=audio 0 RTP/AVP 0"),
    "secure profile": offer("m=audio 4000 RTP/SAVP 0"),
}


def answered_codec(sd: SessionDescription) -> RtpMap:
    _, negotiated = answer(sd, CODECS, "203.0.113.1", 30000, Origin(1, "203.0.113.1"))
    return RtpMap(negotiated.send_pt, negotiated.codec, negotiated.clock_rate)


@pytest.mark.parametrize("name", sorted(ACCEPTABLE))
def test_common_codec_is_the_codec_answer_picks(name: str) -> None:
    sd = ACCEPTABLE[name]
    found = common_codec(sd, CODECS)
    assert found.pt == answered_codec(sd).pt
    assert found.encoding.upper() == answered_codec(sd).encoding
    assert CODECS.find(found) is not None


def test_common_codec_keeps_the_offerers_number_and_order() -> None:
    assert common_codec(ACCEPTABLE["pcma first"], CODECS) == RtpMap(8, "PCMA", 8000)
    assert common_codec(ACCEPTABLE["dynamic pcma"], CODECS) == RtpMap(100, "pcma", 8000)
    only_pcma = LocalCodecs(audio=(RtpMap(8, "PCMA", 8000),))
    assert common_codec(ACCEPTABLE["pjsua"], only_pcma).encoding == "PCMA"


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_common_codec_refuses_as_answer_does(name: str) -> None:
    sd = UNUSABLE[name]
    with pytest.raises(SdpError) as checked:
        common_codec(sd, CODECS)
    with pytest.raises(SdpError) as answered:
        answered_codec(sd)
    assert checked.value.status_hint == answered.value.status_hint == 488
    assert checked.value.message == answered.value.message


class FakeCall:
    """What MediaBridge asks of a MediaCall, recorded."""

    call_id = "call"
    address = "203.0.113.1"

    def __init__(self) -> None:
        self.legs: list[str] = []
        self.configured: dict[str, LegConfig] = {}

    def add_leg(self, leg: str) -> int:
        self.legs.append(leg)
        return 30000 + 2 * len(self.legs)

    def configure(self, leg: str, config: LegConfig) -> None:
        self.configured[leg] = config

    def detect_inband(self, leg: str, on: bool = True) -> None:
        pass

    def record(self, path: Path) -> None:
        pass


def bridge() -> tuple[MediaBridge, FakeCall]:
    call = FakeCall()
    return MediaBridge(call, 4000), call  # type: ignore[arg-type]


def test_bridge_refuses_an_unusable_offer_before_binding_a_port() -> None:
    made, call = bridge()
    with pytest.raises(SdpError) as info:
        made.caller_offered(bytes(UNUSABLE["no codec in common"]))
    assert info.value.status_hint == 488
    assert call.legs == [] and not made.caller_has_offer


def test_bridge_answers_the_caller_with_the_checked_codec() -> None:
    made, call = bridge()
    made.caller_offered(bytes(ACCEPTABLE["pcma first"]))
    assert call.legs == []  # checking binds nothing
    assert made.caller_has_offer and made.codecs.audio[0].encoding == "PCMA"
    body = SessionDescription.parse(made.answer_for("a"))
    assert body.media[0].formats == ("8", "101")
    assert call.legs == ["a"] and call.configured["a"].codec == "PCMA"


def test_rtpmaps_are_parsed_once_and_not_shared_with_callers() -> None:
    md = ACCEPTABLE["pjsua"].media[0]
    assert md.codec(96) == RtpMap(96, "speex", 16000)
    maps = md.rtpmaps()
    maps[96] = RtpMap(96, "PCMU", 8000)
    maps[0] = RtpMap(0, "PCMA", 8000)
    assert md.codec(96) == RtpMap(96, "speex", 16000)
    assert md.codec(0) == RtpMap(0, "PCMU", 8000)  # RFC 3551 static entry
    assert md.codec(77) is None


def test_cached_rtpmaps_change_neither_equality_nor_copies() -> None:
    fresh = ACCEPTABLE["pjsua"].media[0]
    used = replace(fresh)
    used.codec(96)
    assert used == fresh and hash(used) == hash(fresh)
    changed = replace(used, attributes=(Attribute("rtpmap", "96 opus/48000/2"),))
    assert changed.codec(96) == RtpMap(96, "opus", 48000, 2)
    copied = pickle.loads(pickle.dumps(used))
    assert copied == used and copied.codec(97) == RtpMap(97, "speex", 8000)
    assert "_rtpmaps" not in repr(used)


@pytest.mark.parametrize("m_line", ["m=audio 4\u00b2 RTP/AVP 0", "m=audio 4000/\u00b9 RTP/AVP 0"])
def test_non_ascii_digits_in_a_port_are_a_400(m_line: str) -> None:
    with pytest.raises(SdpError) as info:
        offer(m_line)
    assert info.value.status_hint == 400


def test_non_ascii_digits_are_not_payload_types_nor_rtpmaps() -> None:
    sd = offer("m=audio 4000 RTP/AVP 0 \u00b2 \u0663", "rtpmap:\u00b2 PCMA/8000",
               "rtpmap:0 PCMU/8\u00b9", "fmtp:\u00b2 x")
    md = sd.media[0]
    assert md.payload_types() == (0,)
    assert md.rtpmaps() == {} and md.fmtp() == {}
    assert common_codec(sd, CODECS) == RtpMap(0, "PCMU", 8000)


def test_non_ascii_digits_in_origin_are_a_400() -> None:
    body = b"v=0\r\no=- 7\xc2\xb2 7 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\n"
    with pytest.raises(SdpError) as info:
        SessionDescription.parse(body)
    assert info.value.status_hint == 400


def test_a_built_stream_answers_like_a_parsed_one() -> None:
    built = MediaDescription("audio", 4000, "RTP/AVP", ("8",),
                             attributes=(Attribute("rtpmap", "8 PCMA/8000"),))
    sd = replace(ACCEPTABLE["pjsua"], media=(built,))
    assert common_codec(sd, CODECS) == RtpMap(8, "PCMA", 8000)
