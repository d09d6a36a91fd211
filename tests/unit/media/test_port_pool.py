"""The RTP port pool: even RTP ports with RTCP on the next, and a clear
MediaError once the configured range is used up."""

from __future__ import annotations

import socket

import pytest

from media.errors import MediaError, PortsExhausted
from media.transport.engine import PortPool

HOST = "127.0.0.1"


def _free_even_pair() -> int:
    """An even port whose odd neighbour is free too, right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1]) & ~1
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind((HOST, port))
                b.bind((HOST, port + 1))
        except OSError:
            continue
        return port
    pytest.fail("no free even port pair on 127.0.0.1")


def test_pair_is_even_rtp_and_next_odd_rtcp() -> None:
    low = _free_even_pair()
    pool = PortPool(HOST, low, low + 2)
    rtp, rtcp, port = pool.bind()
    try:
        assert port == low and port % 2 == 0
        assert rtp.getsockname()[1] == port and rtcp.getsockname()[1] == port + 1
    finally:
        rtp.close()
        rtcp.close()


def test_a_used_up_range_raises_ports_exhausted_naming_it() -> None:
    low = _free_even_pair()
    pool = PortPool(HOST, low, low + 2)
    rtp, rtcp, _ = pool.bind()
    try:
        with pytest.raises(PortsExhausted, match=f"no free RTP port pair in {low}-{low + 2}"):
            pool.bind()
        assert issubclass(PortsExhausted, MediaError)
    finally:
        rtp.close()
        rtcp.close()
    again, again_rtcp, port = pool.bind()  # freed ports are found again
    assert port == low
    again.close()
    again_rtcp.close()
