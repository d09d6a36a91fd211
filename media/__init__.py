"""Media engine: RTP/RTCP, codecs, DTMF, SDP, players and recorders.

asyncio lives only in media/transport/ (worker processes, sockets).
"""
