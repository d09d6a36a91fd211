"""Offer/answer for the anchoring B2BUA (RFC 3264 §6, §7, §8): codec choice,
rejected streams, direction mirroring, hold, origin versioning, answer checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from media.offer_answer import (
    LocalCodecs,
    Negotiated,
    Origin,
    accept_answer,
    answer,
    answer_direction,
    audio_stream,
    direction_of,
    is_hold,
    make_offer,
)
from media.sdp import Attribute, SdpError, SessionDescription
from media.sdp_parser import parse


def sdp(text: str) -> SessionDescription:
    return parse("".join(f"{line}\r\n" for line in text.strip().splitlines()).encode())


def offer_with(formats: str, *attrs: str, conn: str = "192.0.2.10",
               extra: str = "") -> SessionDescription:
    lines = "\n".join(f"a={a}" for a in attrs)
    return sdp(f"""
v=0
o=- 7 7 IN IP4 {conn}
s=-
c=IN IP4 {conn}
t=0 0
m=audio 40000 RTP/AVP {formats}
{lines}
{extra}
""")


PJSUA = offer_with(
    "96 97 3 0 8 120 121", "rtpmap:96 speex/16000", "rtpmap:97 speex/8000",
    "rtcp:40001 IN IP4 192.0.2.10", "rtpmap:120 telephone-event/16000", "fmtp:120 0-16",
    "rtpmap:121 telephone-event/8000", "fmtp:121 0-16", "ssrc:1 cname:x", "sendrecv")
CODECS = LocalCodecs()


def leg_origin() -> Origin:
    return Origin(5000, "203.0.113.1", username="softswitch")


def do_answer(offer: SessionDescription,
              policy: str = "sendrecv") -> tuple[SessionDescription, Negotiated]:
    return answer(offer, CODECS, "203.0.113.1", 30000, leg_origin(), policy)


def test_pjsua_offer_is_answered_with_pcmu_and_its_8k_telephone_event() -> None:
    sd, neg = answer(PJSUA, CODECS, "203.0.113.1", 30000, leg_origin())
    (md,) = sd.media
    assert (md.port, md.proto, md.formats) == (30000, "RTP/AVP", ("0", "121"))
    assert md.fmtp() == {121: "0-16"}
    assert md.direction == "sendrecv"
    assert str(sd.origin) == "softswitch 5000 0 IN IP4 203.0.113.1"
    assert sd.connection is not None and sd.connection.address == "203.0.113.1"
    assert parse(bytes(sd)) == sd
    assert neg.codec == "PCMU" and neg.send_pt == neg.recv_pt == 0
    assert neg.telephone_event_pt == neg.telephone_event_recv_pt == 121
    assert (neg.remote_address, neg.remote_rtp_port, neg.remote_rtcp_port) == (
        "192.0.2.10", 40000, 40001)
    assert not neg.rtcp_mux and neg.ptime == 20 and neg.sends and neg.receives


def test_pcmu_only_offer() -> None:
    sd, neg = answer(offer_with("0", "rtpmap:0 PCMU/8000"), CODECS, "203.0.113.1", 30000,
                     leg_origin())
    assert sd.media[0].formats == ("0",)
    assert neg.telephone_event_pt is None and neg.telephone_event_recv_pt is None
    assert neg.remote_rtcp_port == 40001  # port + 1 without a=rtcp


def test_pcma_first_offer_keeps_the_offerers_order_and_ptime() -> None:
    offer = offer_with("8 0 18 101", "rtpmap:101 telephone-event/8000", "fmtp:101 0-15",
                       "ptime:30")
    sd, neg = answer(offer, CODECS, "203.0.113.1", 30000, leg_origin())
    assert sd.media[0].formats == ("8", "101")
    assert sd.media[0].fmtp() == {101: "0-15"}  # the offerer's events, not ours
    assert (neg.codec, neg.send_pt, neg.ptime) == ("PCMA", 8, 30)


def test_codec_under_a_dynamic_number_keeps_the_offerers_number() -> None:
    _, neg = answer(offer_with("99", "rtpmap:99 pcmu/8000"), CODECS, "h", 1, leg_origin())
    assert (neg.codec, neg.send_pt, neg.recv_pt) == ("PCMU", 99, 99)


def test_no_common_codec_is_488() -> None:
    offer = offer_with("18 9 101", "rtpmap:101 telephone-event/8000")
    with pytest.raises(SdpError, match="no offered codec") as info:
        answer(offer, CODECS, "203.0.113.1", 30000, leg_origin())
    assert info.value.status_hint == 488


def test_no_audio_or_only_srtp_is_488() -> None:
    video_only = sdp("v=0\no=- 1 1 IN IP4 a\ns=-\nc=IN IP4 a\nt=0 0\nm=video 5 RTP/AVP 99")
    srtp = sdp("v=0\no=- 1 1 IN IP4 a\ns=-\nc=IN IP4 a\nt=0 0\nm=audio 5 RTP/SAVP 0")
    for offer in (video_only, srtp):
        with pytest.raises(SdpError, match="no audio stream") as info:
            answer(offer, CODECS, "h", 1, leg_origin())
        assert info.value.status_hint == 488


def test_telephone_event_absent_when_we_do_not_support_it() -> None:
    codecs = replace(CODECS, telephone_event_pt=None)
    sd, neg = answer(PJSUA, codecs, "203.0.113.1", 30000, leg_origin())
    assert sd.media[0].formats == ("0",)
    assert neg.telephone_event_pt is None


def test_video_stream_rejected_and_m_line_count_preserved() -> None:
    offer = sdp("""
v=0
o=- 1 1 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=3338481189 3370017201
m=video 6024 RTP/AVP 107
a=rtpmap:107 H263-1998/90000
m=audio 6000 RTP/AVP 0
m=audio 6002 RTP/AVP 8
""")
    sd, _ = answer(offer, CODECS, "203.0.113.1", 30000, leg_origin())
    assert [(m.media, m.port, m.proto, m.formats) for m in sd.media] == [
        ("video", 0, "RTP/AVP", ("107",)), ("audio", 30000, "RTP/AVP", ("0",)),
        ("audio", 0, "RTP/AVP", ("8",))]
    assert sd.timing == offer.timing  # §6: t= equals the offer's
    assert parse(bytes(sd)) == sd


@pytest.mark.parametrize(("offered", "policy", "expected"), [
    ("sendrecv", "sendrecv", "sendrecv"),
    ("sendonly", "sendrecv", "recvonly"),
    ("recvonly", "sendrecv", "sendonly"),
    ("inactive", "sendrecv", "inactive"),
    ("sendrecv", "recvonly", "recvonly"),
    ("sendrecv", "inactive", "inactive"),
    ("sendonly", "sendonly", "inactive"),
    ("recvonly", "recvonly", "inactive"),
])
def test_direction_mirroring_table(offered: str, policy: str, expected: str) -> None:
    assert answer_direction(offered, policy) == expected
    sd, neg = do_answer(offer_with("0", offered), policy)
    assert sd.media[0].direction == expected
    assert neg.remote_direction == offered


def test_session_level_direction_applies() -> None:
    offer = replace(offer_with("0"), attributes=(Attribute("sendonly"),))
    assert direction_of(offer) == "sendonly"
    assert is_hold(offer)
    sd, _ = do_answer(offer)
    assert sd.media[0].direction == "recvonly"


@pytest.mark.parametrize(("attrs", "held", "answered"), [
    ((), False, "sendrecv"), (("sendonly",), True, "recvonly"),
    (("inactive",), True, "inactive"), (("recvonly",), False, "sendonly"),
])
def test_hold_detection(attrs: tuple[str, ...], held: bool, answered: str) -> None:
    offer = offer_with("0", *attrs)
    assert is_hold(offer) is held
    sd, neg = answer(offer, CODECS, "h", 1, leg_origin())
    assert neg.on_hold is held
    assert sd.media[0].direction == answered


def test_rfc2543_hold_with_zero_address() -> None:
    offer = offer_with("0 101", "rtpmap:101 telephone-event/8000", conn="0.0.0.0")
    assert is_hold(offer)
    assert direction_of(offer) == "sendonly"
    sd, neg = answer(offer, CODECS, "203.0.113.1", 30000, leg_origin())
    assert sd.media[0].direction == "recvonly"
    assert neg.on_hold and not neg.sends and neg.receives
    inactive = offer_with("0", "recvonly", conn="0.0.0.0")
    assert direction_of(inactive) == "inactive"


def test_rtcp_mux_only_when_both_sides_want_it() -> None:
    offer = offer_with("0", "rtcp-mux")
    sd, neg = answer(offer, CODECS, "h", 30000, leg_origin(), rtcp_mux=True)
    assert sd.media[0].rtcp_mux and neg.rtcp_mux and neg.remote_rtcp_port == 40000
    sd, neg = answer(offer, CODECS, "h", 30000, leg_origin())
    assert not sd.media[0].rtcp_mux and not neg.rtcp_mux and neg.remote_rtcp_port == 40001


def test_origin_version_increments_only_when_our_sdp_changes() -> None:
    origin = leg_origin()
    first, _ = answer(PJSUA, CODECS, "203.0.113.1", 30000, origin)
    same, _ = answer(PJSUA, CODECS, "203.0.113.1", 30000, origin)
    assert first.origin.sess_version == same.origin.sess_version == 0
    assert bytes(first) == bytes(same)
    held, _ = answer(offer_with("0", "sendonly"), CODECS, "203.0.113.1", 30000, origin)
    assert held.origin.sess_version == 1
    resumed, _ = answer(PJSUA, CODECS, "203.0.113.1", 30000, origin)
    assert resumed.origin.sess_version == 2
    assert {s.origin.sess_id for s in (first, held, resumed)} == {5000}
    other_leg = Origin(6000, "203.0.113.1")
    offer = make_offer(CODECS, "203.0.113.1", 30002, other_leg)
    assert offer.origin.sess_version == 0 and origin.version == 2


def test_make_offer_is_our_own_sdp() -> None:
    offer = make_offer(CODECS, "203.0.113.1", 30002, Origin(6000, "203.0.113.1"))
    md = audio_stream(offer)
    assert md is not None
    assert md.formats == ("0", "8", "101")
    assert md.rtpmaps()[101].encoding == "telephone-event"
    assert md.fmtp() == {101: "0-16"} and md.ptime == 20 and md.direction == "sendrecv"
    assert parse(bytes(offer)) == offer
    v6 = make_offer(CODECS, "2001:db8::5", 30002, Origin(1, "2001:db8::5"), "sendonly")
    assert b"c=IN IP6 2001:db8::5\r\n" in bytes(v6)
    assert b"o=- 1 0 IN IP6 2001:db8::5\r\n" in bytes(v6)
    assert direction_of(v6) == "sendonly"


def test_offer_to_b_follows_a_codec_order_and_event_number() -> None:
    a_offer = offer_with("8 0 96", "rtpmap:96 telephone-event/8000")
    codecs = CODECS.ordered_like(a_offer)
    assert [c.encoding for c in codecs.audio] == ["PCMA", "PCMU"]
    assert codecs.telephone_event_pt == 96
    only_g729 = CODECS.ordered_like(offer_with("18"))
    assert [c.encoding for c in only_g729.audio] == ["PCMU", "PCMA"]
    assert only_g729.telephone_event_pt == 101


def b_answer(formats: str, *attrs: str, extra: str = "") -> SessionDescription:
    lines = "\n".join(f"a={a}" for a in attrs)
    return sdp(f"""
v=0
o=B 1 1 IN IP4 198.51.100.7
s=-
c=IN IP4 198.51.100.7
t=0 0
m=audio 50000 RTP/AVP {formats}
{lines}
{extra}
""")


OUR_OFFER = make_offer(CODECS, "203.0.113.1", 30002, Origin(6000, "203.0.113.1"))


def test_accept_answer_pcma_with_own_event_number() -> None:
    neg = accept_answer(OUR_OFFER, b_answer("8 96", "rtpmap:96 telephone-event/8000",
                                            "rtcp:50003", "ptime:20"))
    assert (neg.codec, neg.send_pt, neg.recv_pt) == ("PCMA", 8, 8)
    assert (neg.telephone_event_pt, neg.telephone_event_recv_pt) == (96, 101)
    assert (neg.remote_address, neg.remote_rtp_port, neg.remote_rtcp_port) == (
        "198.51.100.7", 50000, 50003)
    assert neg.local_direction == "sendrecv" and neg.sends


def test_accept_answer_skips_formats_we_did_not_offer() -> None:
    neg = accept_answer(OUR_OFFER, b_answer("18 0", "rtpmap:18 G729/8000"))
    assert neg.codec == "PCMU" and neg.telephone_event_pt is None


def test_accept_answer_refuses_a_codec_we_did_not_offer() -> None:
    with pytest.raises(SdpError, match="no codec we offered") as info:
        accept_answer(OUR_OFFER, b_answer("18 101", "rtpmap:101 telephone-event/8000"))
    assert info.value.status_hint == 488


def test_accept_answer_refuses_wrong_m_line_count_and_rejection() -> None:
    two = b_answer("0", extra="m=video 0 RTP/AVP 99")
    with pytest.raises(SdpError, match="2 m= lines, the offer had 1"):
        accept_answer(OUR_OFFER, two)
    with pytest.raises(SdpError, match="rejected the audio stream"):
        accept_answer(OUR_OFFER, replace(b_answer("0"), media=(
            replace(b_answer("0").media[0], port=0),)))


def test_accept_answer_clamps_directions() -> None:
    held_offer = make_offer(CODECS, "203.0.113.1", 30002, Origin(1, "h"), "sendonly")
    neg = accept_answer(held_offer, b_answer("0", "sendrecv"))  # should be recvonly
    assert neg.local_direction == "sendonly" and not neg.receives
    neg = accept_answer(OUR_OFFER, b_answer("0", "sendonly"))
    assert neg.local_direction == "recvonly" and neg.on_hold and not neg.sends


def test_ipv6_offer_answered() -> None:
    offer = sdp("""
v=0
o=- 1 1 IN IP6 2001:db8::20
s=-
c=IN IP6 2001:db8::20
t=0 0
m=audio 6000 RTP/AVP 0
""")
    sd, neg = answer(offer, CODECS, "2001:db8::1", 30000, Origin(9, "2001:db8::1"))
    assert neg.remote_address == "2001:db8::20"
    assert sd.connection is not None and sd.connection.addrtype == "IP6"
