"""Media control batching: what one loop turn posts to a worker travels as one
``BATCH`` packet with every leg's RTP/RTCP descriptors (SCM_RIGHTS), cut where
a packet would exceed its size or descriptor limit; a malformed packet is a
:class:`ControlError` (a MediaError) and never stops the worker.

Protocol functions are tested over a socketpair; the engine with a real worker
process and plain UDP sockets playing the phones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from media.errors import MediaError
from media.rtp import RtpPacket
from media.session import LegConfig
from media.transport import protocol as P
from media.transport.engine import MediaEngine

HOST = "127.0.0.1"
PORTS = (52000 + 1000 * (os.getpid() % 8), 52999 + 1000 * (os.getpid() % 8))
WAIT = 5.0

pytestmark = pytest.mark.timeout(60)


# -- protocol over a socketpair ---------------------------------------------------


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs:
        yield ours, theirs


@pytest.fixture
def udp() -> Iterator[Callable[[], socket.socket]]:
    """Bound UDP sockets, closed at the end: their port tells them apart."""
    made: list[socket.socket] = []

    def new() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, 0))
        made.append(sock)
        return sock

    yield new
    for sock in made:
        sock.close()


def port_of(fd: int) -> int:
    with socket.socket(fileno=os.dup(fd)) as sock:
        port: int = sock.getsockname()[1]
    return port


def packets_with_fds(sock: socket.socket) -> list[tuple[tuple[Any, ...], list[int]]]:
    """Every packet waiting on ``sock`` as received, with its descriptors."""
    out: list[tuple[tuple[Any, ...], list[int]]] = []
    while True:
        try:
            message, fds = P.receive(sock, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return out
        assert message is not None
        out.append((message, fds))


def read_all(sock: socket.socket) -> list[tuple[tuple[Any, ...], list[int]]]:
    """Every packet waiting on ``sock``, batches unpacked, in order."""
    out: list[tuple[tuple[Any, ...], list[int]]] = []
    for message, fds in packets_with_fds(sock):
        out += P.unbatch(message[2], fds) if message[0] == P.BATCH else [(message, fds)]
    return out


def packets(sock: socket.socket) -> list[tuple[Any, ...]]:
    """The raw messages waiting on ``sock`` (descriptors closed)."""
    raw = packets_with_fds(sock)
    for _, fds in raw:
        P.close_fds(fds)
    return [message for message, _ in raw]


def leg(call: str, name: str, sockets: tuple[socket.socket, ...]) -> P.Posted:
    return (P.LEG, call, name), sockets


def test_a_batch_hands_each_leg_its_own_descriptors(
        pair: tuple[socket.socket, socket.socket], udp: Callable[[], socket.socket]) -> None:
    ours, theirs = pair
    posted: list[P.Posted] = [((P.OPEN, "c1", 60.0), ())]
    expected: dict[tuple[str, str], list[int]] = {}
    for call, name in (("c1", "a"), ("c1", "b"), ("c2", "a")):
        rtp, rtcp = udp(), udp()
        posted.append(leg(call, name, (rtp, rtcp)))
        posted.append(((P.CONFIGURE, call, name, None), ()))
        expected[(call, name)] = [rtp.getsockname()[1], rtcp.getsockname()[1]]
    assert P.send_batch(ours, posted) == []
    raw = packets_with_fds(theirs)
    assert len(raw) == 1 and raw[0][0][0] == P.BATCH and len(raw[0][1]) == 6
    received = P.unbatch(raw[0][0][2], raw[0][1])
    assert [m for m, _ in received] == [m for m, _ in posted]
    for message, fds in received:
        if message[0] == P.LEG:
            assert [port_of(fd) for fd in fds] == expected[(message[1], message[2])]
        else:
            assert fds == []
        P.close_fds(fds)


def test_a_single_command_goes_as_itself(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    P.send_batch(ours, [((P.CLOSE, "c1"), ())])
    assert packets(theirs) == [(P.CLOSE, "c1")]


def test_batches_cut_at_the_descriptor_and_command_limits(
        udp: Callable[[], socket.socket]) -> None:
    sockets = (udp(), udp())
    posted = [leg(f"c{i}", "a", sockets) if i % 3 else ((P.BRIDGE, f"c{i}", True), ())
              for i in range(200)]
    chunks = P.batches(posted)
    assert [item for chunk in chunks for item in chunk] == posted
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk) <= P.BATCH_COMMANDS
        assert sum(len(s) for _, s in chunk) <= P.MAX_FDS
    assert P.MAX_FDS <= 253  # the kernel's SCM_MAX_FD
    full = [leg(f"c{i}", "a", sockets) for i in range(P.MAX_FDS // 2 + 1)]
    assert [len(c) for c in P.batches(full)] == [P.MAX_FDS // 2, 1]


def test_more_descriptors_than_a_packet_takes_go_in_several_packets(
        pair: tuple[socket.socket, socket.socket], udp: Callable[[], socket.socket]) -> None:
    ours, theirs = pair
    posted = [leg(f"c{i}", "a", (udp(), udp())) for i in range(P.MAX_FDS)]  # 2 * MAX_FDS fds
    assert P.send_batch(ours, posted) == []  # not cut by batches(): cut here
    raw = packets_with_fds(theirs)
    assert len(raw) >= 2 and all(len(fds) <= P.MAX_FDS for _, fds in raw)
    received = [item for message, fds in raw for item in P.unbatch(message[2], fds)]
    assert [m for m, _ in received] == [m for m, _ in posted]
    for (_, fds), (_, sockets) in zip(received, posted, strict=True):
        assert [port_of(fd) for fd in fds] == [s.getsockname()[1] for s in sockets]
        P.close_fds(fds)


def test_a_batch_too_long_for_one_packet_is_halved_in_order(
        pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    long_path = "/var/spool/recordings/" + "x" * 9000
    posted: list[P.Posted] = [((P.RECORD, f"c{i}", long_path + str(i)), ()) for i in range(20)]
    assert P.send_batch(ours, posted) == []
    raw = packets(theirs)
    assert len(raw) > 1
    commands = [m for message in raw for m, _ in
                (P.unbatch(message[2], []) if message[0] == P.BATCH else [(message, [])])]
    assert commands == [m for m, _ in posted]


def test_a_command_too_big_for_any_packet_is_refused_the_rest_goes(
        pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = pair
    huge = ((P.PLAY, "c2", "a", "p" * (P.MAX_MESSAGE + 1), "en", False), ())
    posted: list[P.Posted] = [((P.OPEN, "c1", 60.0), ()), huge, ((P.CLOSE, "c3"), ())]
    refused = P.send_batch(ours, posted)
    assert [item for item, _ in refused] == [huge]
    assert isinstance(refused[0][1], P.ControlError) and isinstance(refused[0][1], MediaError)
    assert [m for m, _ in read_all(theirs)] == [(P.OPEN, "c1", 60.0), (P.CLOSE, "c3")]
    with pytest.raises(P.ControlError):
        P.send(ours, huge[0])
    assert packets(theirs) == []


@pytest.mark.parametrize("commands, fds", [
    ([((P.CLOSE, "c"), 0)], []),                       # a list, not a tuple
    ((((P.CLOSE, "c"), 0, 1),), []),                   # not a pair
    ((("close", 0),), []),                             # the command is not a tuple
    (((("close",), 0),), []),                          # no call id
    ((((P.CLOSE, "c"), "2"),), []),                    # count not an int
    ((((P.CLOSE, "c"), -1),), []),                     # negative count
    ((((P.LEG, "c", "a"), 2),), [7]),                  # claims more than came
    ((((P.LEG, "c", "a"), 1),), [7, 8]),               # descriptors left over
    (None, []),
])
def test_unbatch_of_a_malformed_batch_is_a_control_error(commands: object, fds: list[int]
                                                          ) -> None:
    with pytest.raises(P.ControlError):
        P.unbatch(commands, fds)
    assert issubclass(P.ControlError, MediaError)


def test_a_packet_that_is_not_a_command_is_refused_and_its_descriptors_closed(
        pair: tuple[socket.socket, socket.socket], udp: Callable[[], socket.socket]) -> None:
    ours, theirs = pair
    victim = udp()
    port = victim.getsockname()[1]
    for garbage in (b"not a pickle", pickle.dumps(["list"]), pickle.dumps(())):
        socket.send_fds(ours, [garbage], [victim.fileno()])
        with pytest.raises(P.ControlError):
            P.receive(theirs, socket.MSG_DONTWAIT)
    victim.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:  # no copy left open
        again.bind((HOST, port))


# -- the engine with a real worker ---------------------------------------------------


class Events:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def __call__(self, message: tuple[Any, ...]) -> None:
        self.queue.put_nowait(message)

    async def wait_for(self, match: Callable[[tuple[Any, ...]], bool]) -> tuple[Any, ...]:
        async with asyncio.timeout(WAIT):
            while True:
                message = await self.queue.get()
                if match(message):
                    return message


@contextlib.asynccontextmanager
async def running(tmp: Path) -> AsyncIterator[tuple[MediaEngine, Events]]:
    events = Events()
    engine = MediaEngine(events, host=HOST, ports=PORTS, workers=1, prompts=tmp)
    await engine.start()
    try:
        yield engine, events
    finally:
        await engine.stop()


async def stats(engine: MediaEngine, events: Events, tag: str) -> dict[str, int]:
    engine.send(engine.workers[0], (P.STATS, tag), None)
    reply = await events.wait_for(lambda m: m[:2] == (P.STATS, tag))
    counters: dict[str, int] = reply[2]
    return counters


@contextlib.contextmanager
def counted_packets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many commands each control packet the engine sends carries."""
    sizes: list[int] = []
    real_batch, real_send = P.send_batch, P.send

    def send_batch(sock: socket.socket, posted: list[P.Posted]
                   ) -> list[tuple[P.Posted, P.ControlError]]:
        sizes.append(len(posted))
        return real_batch(sock, posted)

    def send(sock: socket.socket, message: tuple[Any, ...], fds: list[int] | None = None
             ) -> None:
        if message[0] == P.STATS:
            sizes.append(1)
        real_send(sock, message, fds)

    monkeypatch.setattr(P, "send_batch", send_batch)
    monkeypatch.setattr(P, "send", send)
    yield sizes


async def udp_phone() -> tuple[asyncio.DatagramTransport, asyncio.Queue[Any]]:
    received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()

    class Phone(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            received.put_nowait((data, addr))

    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        Phone, local_addr=(HOST, 0))
    return transport, received


def test_legs_of_several_calls_posted_together_reach_the_right_legs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        phones = [await udp_phone() for _ in range(4)]
        try:
            async with running(tmp_path) as (engine, events):
                await stats(engine, events, "up")
                with counted_packets(monkeypatch) as sizes:
                    ports: dict[tuple[str, str], int] = {}
                    for n, call_id in enumerate(("one", "two")):
                        call = engine.open(call_id)
                        for side, phone in zip("ab", phones[2 * n:2 * n + 2], strict=True):
                            ports[(call_id, side)] = call.add_leg(side)
                            address = phone[0].get_extra_info("sockname")[:2]
                            call.configure(side, LegConfig(address, "PCMU", 0, 0, None, None))
                    assert (await stats(engine, events, "posted"))["calls"] == 2
                assert sizes == [10, 1]  # 2 opens, 4 legs, 4 configures: one packet
                for n, call_id in enumerate(("one", "two")):
                    for side, speaker, listener in (("a", 0, 1), ("b", 1, 0)):
                        sender, _ = phones[2 * n + speaker]
                        _, heard = phones[2 * n + listener]
                        payload = f"{call_id}-{side}".encode().ljust(160, b"\xff")
                        rtp = RtpPacket(0, 7, 1600, 0x1234, payload)
                        sender.sendto(bytes(rtp), (HOST, ports[(call_id, side)]))
                        async with asyncio.timeout(WAIT):
                            data, source = await heard.get()
                        assert RtpPacket.parse(data).payload == payload
                        other = "b" if side == "a" else "a"  # relayed from the RTP port
                        assert source == (HOST, ports[(call_id, other)])
                for _, heard in phones:
                    assert heard.empty()
        finally:
            for transport, _ in phones:
                transport.close()

    asyncio.run(scenario())


def test_posted_commands_arrive_before_a_command_sent_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running(tmp_path) as (engine, events):
            await stats(engine, events, "up")
            engine.open("first").close()   # OPEN first, CLOSE first
            engine.open("second")          # OPEN second
            worker = engine.workers[0]
            assert len(worker.outbox) == 3
            # sent now, not in 2 ms: what was posted goes first, in order
            assert (await stats(engine, events, "now")) == {"calls": 1, "packets_in": 0}
            assert worker.outbox == []

    asyncio.run(scenario())


def test_more_legs_than_one_packet_carries_all_reach_the_worker(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running(tmp_path) as (engine, events):
            await stats(engine, events, "up")
            calls = [engine.open(f"c{i}") for i in range(P.MAX_FDS)]
            for call in calls:
                call.add_leg("a")  # 2 descriptors each: twice what a packet takes
            await asyncio.sleep(0.05)  # the 2 ms flush
            assert engine.workers[0].outbox == []
            assert (await stats(engine, events, "all"))["calls"] == P.MAX_FDS
            for call in calls:
                call.close()
            assert (await stats(engine, events, "closed"))["calls"] == 0

    asyncio.run(scenario())


def test_a_malformed_batch_is_reported_and_the_worker_goes_on(
        tmp_path: Path, udp: Callable[[], socket.socket]) -> None:
    victim = udp()
    port = victim.getsockname()[1]

    async def scenario() -> None:
        async with running(tmp_path) as (engine, events):
            await stats(engine, events, "up")
            control = engine.workers[0].control
            bad = (P.BATCH, "", (((P.LEG, "x", "a"), 2),))  # claims 2, carries 1
            socket.send_fds(control, [pickle.dumps(bad)], [victim.fileno()])
            control.send(b"\x80\x05garbage")
            errors = [await events.wait_for(lambda m: m[0] == P.ERROR) for _ in range(2)]
            assert "descriptors" in errors[0][2] and "unpickle" in errors[1][2]
            engine.open("after")
            assert (await stats(engine, events, "alive"))["calls"] == 1
            assert engine.workers[0].process.poll() is None
            victim.close()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
                again.bind((HOST, port))  # the worker, still up, closed its copy

    asyncio.run(scenario())


def test_a_leg_for_an_unknown_call_releases_its_ports(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    async def scenario() -> None:
        async with running(tmp_path) as (engine, events):
            await stats(engine, events, "up")
            rtp, rtcp, port = engine.ports.bind()
            engine.post(engine.workers[0], (P.LEG, "nobody", "a"), (rtp, rtcp))
            error = await events.wait_for(lambda m: m[0] == P.ERROR)
            assert error[1] == "nobody" and "KeyError" in error[2]
            await stats(engine, events, "done")
            for each in (port, port + 1):  # the worker, still up, closed both
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
                    again.bind((HOST, each))

    with caplog.at_level(logging.CRITICAL, "media"):
        asyncio.run(scenario())
