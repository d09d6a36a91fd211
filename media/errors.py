"""The one error family of the media engine: every media failure is a MediaError."""


class MediaError(Exception):
    """Base of all errors raised by ``media``."""


class InvalidPacket(MediaError):
    """Bytes that are not a well-formed RTP or RTCP packet (RFC 3550 §5.1, §6.4, A.1, A.2)."""


class PortsExhausted(MediaError):
    """No free RTP/RTCP port pair is left in the configured range: the switch
    is anchoring as many calls as ``[media] port_min``-``port_max`` allows."""
