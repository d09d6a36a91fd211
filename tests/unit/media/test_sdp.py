"""SDP model, parser and serialiser (RFC 4566 §5): round trips of real-world
bodies, attribute helpers, IPv6 (RFC 5118) and invalid input."""

from __future__ import annotations

from pathlib import Path

import pytest

from media.sdp import (
    Attribute,
    Connection,
    MediaDescription,
    OriginLine,
    RtpMap,
    SdpError,
    SessionDescription,
)
from media.sdp_parser import parse

RFC5118 = Path("/work/shared/conformance/rfc5118")


def crlf(text: str) -> bytes:
    return "".join(f"{line}\r\n" for line in text.strip().splitlines()).encode()


# pjsua 2.x offer: many codecs, b= lines, a=rtcp, ICE and SSRC attributes.
PJSUA_OFFER = crlf("""
v=0
o=- 3913538453 3913538453 IN IP4 192.168.1.20
s=pjmedia
b=AS:117
t=0 0
a=X-nat:0
m=audio 4000 RTP/AVP 96 97 98 99 3 0 8 9 120 121 122
c=IN IP4 192.168.1.20
b=TIAS:96000
a=rtcp:4001 IN IP4 192.168.1.20
a=sendrecv
a=rtpmap:96 speex/16000
a=rtpmap:97 speex/8000
a=rtpmap:98 speex/32000
a=rtpmap:99 iLBC/8000
a=fmtp:99 mode=30
a=rtpmap:120 telephone-event/16000
a=fmtp:120 0-16
a=rtpmap:121 telephone-event/8000
a=fmtp:121 0-16
a=rtpmap:122 telephone-event/32000
a=fmtp:122 0-16
a=ssrc:1597296131 cname:0b2f5a0e63b94a1c
a=ice-ufrag:2b8f1c4a
a=ice-pwd:6f0a3d2e7b1c4a59
a=candidate:Ha8c0114 1 UDP 2130706431 192.168.1.20 4000 typ host
a=candidate:Ha8c0114 2 UDP 2130706430 192.168.1.20 4001 typ host
""")

SIPP_OFFER = crlf("""
v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
""")

YEALINK_OFFER = crlf("""
v=0
o=- 20045 20045 IN IP4 10.0.0.55
s=SDP data
c=IN IP4 10.0.0.55
t=0 0
m=audio 11780 RTP/AVP 8 0 18 9 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:9 G722/8000
a=fmtp:101 0-15
a=rtpmap:101 telephone-event/8000
a=ptime:20
a=sendrecv
""")

OLD_HOLD = crlf("""
v=0
o=Cisco-SIPUA 1234 1235 IN IP4 10.1.1.5
s=SIP Call
c=IN IP4 0.0.0.0
t=0 0
m=audio 20000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
""")

# Every optional line type of §5, including one the parser does not know.
ALL_LINES = crlf("""
v=0
o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5
s=SDP Seminar
i=A Seminar on the session description protocol
u=http://www.example.com/seminars/sdp.pdf
e=j.doe@example.com (Jane Doe)
p=+1 617 555-6011
c=IN IP4 224.2.17.12/127
b=CT:128
t=2873397496 2873404696
r=7d 1h 0 25h
z=2882844526 -1h 2898848070 0
k=prompt
y=unknown line type
a=recvonly
m=audio 49170/2 RTP/AVP 0
i=audio stream
c=IN IP4 224.2.17.12/127
b=AS:64
k=prompt
a=ptime:20.5
m=video 51372 RTP/AVP 99
a=rtpmap:99 h263-1998/90000
""")


@pytest.mark.parametrize("body", [PJSUA_OFFER, SIPP_OFFER, YEALINK_OFFER, OLD_HOLD, ALL_LINES])
def test_real_world_bodies_round_trip(body: bytes) -> None:
    sd = parse(body)
    assert bytes(sd) == body
    assert parse(bytes(sd)) == sd
    assert SessionDescription.parse(body) == sd


def test_pjsua_offer_fields_and_helpers() -> None:
    sd = parse(PJSUA_OFFER)
    assert sd.origin == OriginLine("-", 3913538453, 3913538453, "IN", "IP4", "192.168.1.20")
    assert sd.session_name == "pjmedia"
    assert sd.connection is None
    assert [str(b) for b in sd.bandwidths] == ["AS:117"]
    (md,) = sd.media
    assert md.connection == Connection("IN", "IP4", "192.168.1.20")
    assert sd.connection_for(md) == md.connection
    assert md.payload_types() == (96, 97, 98, 99, 3, 0, 8, 9, 120, 121, 122)
    assert md.rtpmaps()[121] == RtpMap(121, "telephone-event", 8000)
    assert md.codec(0) == RtpMap(0, "PCMU", 8000)  # no rtpmap: RFC 3551 static table
    assert md.codec(100) is None
    assert md.fmtp()[99] == "mode=30"
    assert md.rtcp_port == 4001
    assert not md.rtcp_mux
    assert md.direction == "sendrecv"
    assert md.ptime is None
    assert md.attribute("ice-ufrag") == "2b8f1c4a"
    assert [a.name for a in md.attributes][-2:] == ["candidate", "candidate"]


def test_all_line_types_keep_their_place() -> None:
    sd = parse(ALL_LINES)
    assert [t for t, _ in sd.other] == ["i", "u", "e", "p", "r", "z", "k", "y"]
    audio, video = sd.media
    assert audio.port_count == 2
    assert audio.other == (("i", "audio stream"), ("k", "prompt"))
    assert audio.connection is not None and audio.connection.host == "224.2.17.12"
    assert audio.ptime == 20  # 20.5 rounds to the nearest millisecond
    assert sd.direction_for(audio) == "recvonly"  # inherited from the session
    assert video.rtpmaps()[99].encoding == "h263-1998"


def test_lf_only_and_blank_lines_are_accepted_and_serialised_with_crlf() -> None:
    body = SIPP_OFFER.replace(b"\r\n", b"\n") + b"\n\n"
    sd = parse(body)
    assert bytes(sd) == SIPP_OFFER


def test_direction_defaults_to_sendrecv() -> None:
    sd = parse(SIPP_OFFER)
    assert sd.media[0].direction is None
    assert sd.direction_for(sd.media[0]) == "sendrecv"


def test_rtpmap_with_channels_and_attribute_flags() -> None:
    md = MediaDescription("audio", 5004, "RTP/AVP", ("111",), attributes=(
        Attribute("rtpmap", "111 opus/48000/2"), Attribute("rtcp-mux"),
        Attribute("rtcp", "bad"), Attribute("ptime", "x")))
    assert md.rtpmaps()[111] == RtpMap(111, "opus", 48000, 2)
    assert str(md.rtpmaps()[111]) == "111 opus/48000/2"
    assert md.rtcp_mux
    assert md.rtcp_port is None
    assert md.ptime is None


def test_built_description_serialises_in_rfc_order() -> None:
    sd = SessionDescription(
        origin=OriginLine("-", 1, 2, "IN", "IP4", "192.0.2.1"),
        connection=Connection.for_address("192.0.2.1"),
        media=(MediaDescription("audio", 4000, "RTP/AVP", ("0",),
                                attributes=(Attribute("sendonly"),)),))
    assert bytes(sd) == crlf("""
v=0
o=- 1 2 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 4000 RTP/AVP 0
a=sendonly
""")


@pytest.mark.parametrize("name", ["ipv6-in-sdp.sip", "mult-ip-in-sdp.sip"])
def test_rfc5118_sdp_bodies(name: str) -> None:
    message = (RFC5118 / name).read_bytes()
    body = message.split(b"\r\n\r\n", 1)[1]
    sd = parse(body)
    assert bytes(sd) == body
    addrtypes = {c.addrtype for c in (sd.connection_for(md) for md in sd.media) if c}
    assert "IP6" in addrtypes


def test_rfc5118_mixed_families_per_stream() -> None:
    body = (RFC5118 / "mult-ip-in-sdp.sip").read_bytes().split(b"\r\n\r\n", 1)[1]
    audio, video = parse(body).media
    assert audio.connection == Connection("IN", "IP4", "192.0.2.1")
    assert video.connection == Connection("IN", "IP6", "2001:db8::1")
    assert Connection.for_address("2001:db8::1").addrtype == "IP6"


@pytest.mark.parametrize(("body", "message"), [
    (b"", "must start with the line v=0"),
    (b"o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n", "must start with the line v=0"),
    (b"v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n", "must start with the line v=0"),
    (b"v=0\r\ns=-\r\nt=0 0\r\n", "o= line is missing"),
    (b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\n", "s= line is missing"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\no=- 1 1 IN IP4 a\r\ns=-\r\n", "o= line appears more"),
    (b"v=0\r\no=- x 1 IN IP4 1.2.3.4\r\ns=-\r\n", "numeric id and version"),
    (b"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n", "o= must be"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4\r\n", "c= must be"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nb=AS\r\n", "b= must be"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nt=now\r\n", "t= must be"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\na=\r\n", "without an attribute name"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 a\r\nm=audio\r\n", "m= must be"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 a\r\nm=audio 70000 RTP/AVP 0\r\n",
     "port must be 0-65535"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 a\r\nm=audio 4000/x RTP/AVP 0\r\n",
     "port must be"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 a\r\nm=audio 4000 RTP/AVP\r\n",
     "lists no media format"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n", "has no c= line"),
    (b"v=0\r\nthis is not sdp\r\n", "line 2 is not <type>=<value>"),
    (b"v=0\r\nV=0\r\n", "line 2 is not <type>=<value>"),
    (b"v=0\r\no=- 1 1 IN IP4 a\r\ns=\xff\r\n", "not UTF-8"),
])
def test_invalid_sdp_is_refused_with_a_clear_message(body: bytes, message: str) -> None:
    with pytest.raises(SdpError, match=message) as info:
        parse(body)
    assert info.value.status_hint == 400


def test_rejected_stream_needs_no_connection_nor_format() -> None:
    sd = parse(b"v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP\r\n")
    assert sd.media[0].port == 0
    assert sd.media[0].formats == ()


def test_extra_connection_lines_are_kept() -> None:
    body = crlf("""
v=0
o=- 1 1 IN IP4 a
s=-
t=0 0
m=audio 4000 RTP/AVP 0
c=IN IP4 224.2.1.1/127
c=IN IP4 224.2.1.2/127
""")
    md = parse(body).media[0]
    assert md.connection == Connection("IN", "IP4", "224.2.1.1/127")
    assert md.other == (("c", "IN IP4 224.2.1.2/127"),)
