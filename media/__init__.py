"""Media engine: RTP/RTCP, codecs, DTMF, SDP, players, recorders (asyncio only in media/transport/)."""
