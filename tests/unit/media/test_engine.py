"""The media engine with real worker processes and sockets on 127.0.0.1, no phones
(F-MEDIA-1, F-MEDIA-2, F-MEDIA-3): two plain UDP sockets play phones A and B and
the engine anchors the RTP between them: relay, transcoding, hold music,
recording, RFC 4733 digits, RTP timeout and a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import soundfile as sf

from media.codecs import ALAW_TO_ULAW, ULAW_TO_ALAW, alaw_encode, ulaw_decode, ulaw_encode
from media.dtmf import DtmfSender
from media.rtp import RtpPacket, seq_diff
from media.session import LegConfig
from media.transport import protocol as P
from media.transport.engine import MediaCall, MediaEngine
from media.transport.rtp_socket import RtpEndpoint

HOST = "127.0.0.1"
PORTS = (36000 + 2000 * (os.getpid() % 8), 37999 + 2000 * (os.getpid() % 8))
PT = {"PCMU": 0, "PCMA": 8}
WAIT = 3.0

pytestmark = pytest.mark.timeout(30)


class Phone(asyncio.DatagramProtocol):
    """A UDP socket that sends RTP and keeps what it receives."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.ssrc = int.from_bytes(os.urandom(4), "big")
        self.seq = 1000
        self.ts = 80000

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait((data, addr))

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def send_rtp(self, to: int, payload: bytes, pt: int = 0, *, marker: bool = False,
                 ts: int | None = None) -> None:
        assert self.transport is not None
        packet = RtpPacket(pt, self.seq & 0xFFFF, (self.ts if ts is None else ts) & 0xFFFFFFFF,
                           self.ssrc, payload, marker)
        self.transport.sendto(bytes(packet), (HOST, to))
        self.seq += 1
        if ts is None:
            self.ts += len(payload)

    async def talk(self, to: int, payloads: list[bytes], pt: int = 0) -> None:
        for payload in payloads:
            self.send_rtp(to, payload, pt)
            await asyncio.sleep(0.02)

    async def packets(self, count: int, timeout: float = WAIT) -> list[RtpPacket]:
        out: list[RtpPacket] = []
        async with asyncio.timeout(timeout):
            while len(out) < count:
                data, _ = await self.received.get()
                out.append(RtpPacket.parse(data))
        return out

    def drain(self) -> list[RtpPacket]:
        out: list[RtpPacket] = []
        while not self.received.empty():
            out.append(RtpPacket.parse(self.received.get_nowait()[0]))
        return out


class Events:
    """What the workers report, as the engine's ``on_event`` hands it over."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def __call__(self, message: tuple[Any, ...]) -> None:
        self.queue.put_nowait(message)

    async def wait_for(self, match: Callable[[tuple[Any, ...]], bool],
                       timeout: float = WAIT) -> tuple[Any, ...]:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.queue.get()
                if match(message):
                    return message


@contextlib.asynccontextmanager
async def running(prompts: Path, **options: Any) -> AsyncIterator[tuple[MediaEngine, Events]]:
    events = Events()
    engine = MediaEngine(events, host=HOST, ports=PORTS, workers=1, prompts=prompts,
                         **options)
    await engine.start()
    try:
        yield engine, events
    finally:
        await engine.stop()


@contextlib.asynccontextmanager
async def phones() -> AsyncIterator[tuple[Phone, Phone]]:
    loop = asyncio.get_running_loop()
    made = [await loop.create_datagram_endpoint(Phone, local_addr=(HOST, 0))
            for _ in range(2)]
    try:
        yield made[0][1], made[1][1]
    finally:
        for transport, _ in made:
            transport.close()


def connect(call: MediaCall, a: Phone, b: Phone, codec_a: str = "PCMU",
            codec_b: str = "PCMU") -> tuple[int, int]:
    """Legs a and b pointed at the two phones; a has telephone-event 101, b 100."""
    port_a, port_b = call.add_leg("a"), call.add_leg("b")
    call.configure("a", LegConfig(a.address, codec_a, PT[codec_a], PT[codec_a], 101, 101))
    call.configure("b", LegConfig(b.address, codec_b, PT[codec_b], PT[codec_b], 100, 100))
    return port_a, port_b


def tone(freq: float, frames: int, codec: str = "PCMU") -> list[bytes]:
    pcm = (8000 * np.sin(2 * np.pi * freq * np.arange(160 * frames) / 8000)).astype(np.int16)
    encode = ulaw_encode if codec == "PCMU" else alaw_encode
    return [encode(pcm[i:i + 160]) for i in range(0, len(pcm), 160)]


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prompts")


async def settled(engine: MediaEngine, events: Events) -> None:
    """Wait until the worker has handled every command sent so far."""
    engine.send(engine.workers[0], (P.STATS, "settle"), None)
    await events.wait_for(lambda m: m[:2] == (P.STATS, "settle"), timeout=10)


def assert_one_stream(packets: list[RtpPacket], not_ssrc: int) -> None:
    assert len({p.ssrc for p in packets}) == 1 and packets[0].ssrc != not_ssrc
    for before, after in itertools.pairwise(packets):
        assert seq_diff(after.sequence, before.sequence) == 1
        assert after.timestamp - before.timestamp == 160


def test_relay_both_ways_rewritten(prompts: Path) -> None:
    async def scenario() -> None:
        async with running(prompts) as (engine, _), phones() as (a, b):
            call = engine.open("relay")
            port_a, port_b = connect(call, a, b)
            assert call.address == HOST and port_a % 2 == 0 and port_b % 2 == 0
            voice = tone(1000, 10)
            await a.talk(port_a, voice)
            heard = await b.packets(10)
            assert [p.payload for p in heard] == voice
            assert {p.payload_type for p in heard} == {0}
            assert_one_stream(heard, a.ssrc)
            await b.talk(port_b, voice[:5])
            back = await a.packets(5)
            assert [p.payload for p in back] == voice[:5]
            assert_one_stream(back, b.ssrc)
            assert back[0].ssrc != heard[0].ssrc
            call.close()

    asyncio.run(scenario())


def test_transcoding_pcmu_to_pcma_and_back(prompts: Path) -> None:
    async def scenario() -> None:
        async with running(prompts) as (engine, _), phones() as (a, b):
            call = engine.open("transcode")
            port_a, port_b = connect(call, a, b, "PCMU", "PCMA")
            ulaw = tone(1000, 5, "PCMU")
            await a.talk(port_a, ulaw)
            heard = await b.packets(5)
            assert [p.payload for p in heard] == [u.translate(ULAW_TO_ALAW) for u in ulaw]
            assert {p.payload_type for p in heard} == {8}
            alaw = tone(2000, 5, "PCMA")
            await b.talk(port_b, alaw, pt=8)
            back = await a.packets(5)
            assert {p.payload_type for p in back} == {0}
            assert [p.payload for p in back] == [x.translate(ALAW_TO_ULAW) for x in alaw]
            call.close()

    asyncio.run(scenario())


def test_held_phone_hears_hold_music(prompts: Path) -> None:
    async def scenario() -> None:
        async with running(prompts) as (engine, events), phones() as (a, b):
            call = engine.open("hold")
            port_a, _ = connect(call, a, b)
            silence = [b"\xff" * 160] * 5
            await a.talk(port_a, silence)
            assert [p.payload for p in await b.packets(5)] == silence
            call.hold("b", True)  # phone A holds: B hears music, not A
            await settled(engine, events)
            talking = asyncio.create_task(a.talk(port_a, silence * 4))
            music = await b.packets(25)
            await talking
            assert not any(p.payload in silence for p in music)
            assert_one_stream(music, a.ssrc)
            pcm = ulaw_decode(b"".join(p.payload for p in music)).astype(np.float64)
            assert np.sqrt(np.mean(pcm ** 2)) > 300  # -20 dBFS music, not silence
            call.hold("b", False)
            await asyncio.sleep(0.1)
            b.drain()
            await a.talk(port_a, silence[:3])
            assert [p.payload for p in await b.packets(3)] == silence[:3]
            call.close()

    asyncio.run(scenario())


def test_recording_is_stereo_caller_left_callee_right(prompts: Path, tmp_path: Path) -> None:
    path = tmp_path / "2026-11" / "call.wav"
    path.parent.mkdir()

    async def scenario() -> tuple[Any, ...]:
        async with running(prompts) as (engine, events), phones() as (a, b):
            call = engine.open("record")
            port_a, port_b = connect(call, a, b, "PCMU", "PCMA")
            call.record(path)
            await settled(engine, events)  # the worker is up: no backlog burst
            await asyncio.gather(a.talk(port_a, tone(1000, 50)),
                                 b.talk(port_b, tone(2000, 50, "PCMA"), pt=8))
            call.close()
            return await events.wait_for(lambda m: m[0] == "recorded")

    event = asyncio.run(scenario())
    assert event[1:3] == ("record", str(path))
    assert 0.9 <= event[3] <= 1.3
    audio, rate = sf.read(path, dtype="int16")
    assert rate == 8000 and audio.ndim == 2 and audio.shape[1] == 2
    for channel, freq in ((0, 1000), (1, 2000)):
        spectrum = np.abs(np.fft.rfft(audio[:, channel].astype(np.float64)))
        peak = np.fft.rfftfreq(len(audio), 1 / 8000)[np.argmax(spectrum)]
        assert abs(peak - freq) < 20


def test_rfc4733_digit_is_reported_and_forwarded(prompts: Path) -> None:
    async def scenario() -> None:
        async with running(prompts) as (engine, events), phones() as (a, b):
            call = engine.open("digits")
            port_a, _ = connect(call, a, b)
            burst = DtmfSender().press("5", a.seq, a.ts)
            for packet in burst.packets:
                a.seq = packet.seq
                a.send_rtp(port_a, packet.payload, 101, marker=packet.marker,
                           ts=packet.timestamp)
                await asyncio.sleep(0.005)
            event = await events.wait_for(lambda m: m[0] == "digit")
            assert event == ("digit", "digits", "a", "5", "rfc4733")
            forwarded = await b.packets(len(burst.packets))
            assert {p.payload_type for p in forwarded} == {100}
            assert [p.payload for p in forwarded] == [p.payload for p in burst.packets]
            call.close()

    asyncio.run(scenario())


def test_media_timeout_is_reported(prompts: Path) -> None:
    async def scenario() -> set[str]:
        async with running(prompts, rtp_timeout=1) as (engine, events), phones() as (a, b):
            call = engine.open("silent")
            connect(call, a, b)
            legs: set[str] = set()
            while len(legs) < 2:
                event = await events.wait_for(lambda m: m[0] == "timeout", timeout=4)
                assert event[1] == "silent" and event[3] >= 1
                legs.add(event[2])
            return legs

    assert asyncio.run(scenario()) == {"a", "b"}


def test_stop_leaves_no_worker_process(prompts: Path, caplog: pytest.LogCaptureFixture
                                       ) -> None:
    async def scenario() -> list[int]:
        engine = MediaEngine(lambda m: None, host=HOST, ports=PORTS, workers=2,
                             prompts=prompts)
        await engine.start()
        pids = [w.process.pid for w in engine.workers]
        processes = [w.process for w in engine.workers]
        call = engine.open("brief")
        call.add_leg("a")
        await engine.stop()
        assert engine.workers == []
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert all(p.returncode == 0 for p in processes)
        return pids

    for pid in asyncio.run(scenario()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_closed_call_frees_its_ports(prompts: Path) -> None:
    def free(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                return False
            return True

    async def scenario() -> None:
        async with running(prompts) as (engine, events):
            await settled(engine, events)
            call = engine.open("ports")
            port = call.add_leg("a")
            assert not free(port)
            call.close()
            await settled(engine, events)
            await asyncio.sleep(0.1)
            assert free(port) and free(port + 1)

    asyncio.run(scenario())


@pytest.mark.parametrize("wait", [0.0, 0.05])
def test_rtp_endpoint_closed_before_or_after_opening_releases_its_sockets(wait: float) -> None:
    # a call ended at once (a CANCEL right after the INVITE) closes the endpoint
    # before its opening task has run
    async def scenario() -> None:
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((HOST, 0))
        rtcp.bind((HOST, 0))
        ports = rtp.getsockname()[1], rtcp.getsockname()[1]
        endpoint = RtpEndpoint(asyncio.get_running_loop(), rtp, rtcp, lambda data, addr: None)
        await asyncio.sleep(wait)
        endpoint.close()
        endpoint.send(b"late", (HOST, 9))
        await asyncio.sleep(0.05)
        for port in ports:  # while the loop (and anything it holds) is alive
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((HOST, port))

    asyncio.run(scenario())


def test_a_worker_that_dies_is_reported(prompts: Path, caplog: pytest.LogCaptureFixture
                                        ) -> None:
    async def scenario() -> None:
        async with running(prompts) as (engine, events):
            await settled(engine, events)
            engine.workers[0].process.kill()
            for _ in range(100):
                if any("died" in r.getMessage() for r in caplog.records):
                    return
                await asyncio.sleep(0.02)

    asyncio.run(scenario())
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("media worker 0 died")


def test_recording_again_finishes_the_file_before(prompts: Path, tmp_path: Path) -> None:
    async def scenario() -> list[tuple[Any, ...]]:
        async with running(prompts) as (engine, events), phones() as (a, b):
            call = engine.open("twice")
            port_a, _ = connect(call, a, b)
            await settled(engine, events)
            call.record(tmp_path / "first.wav")
            await a.talk(port_a, tone(1000, 10))
            call.record(tmp_path / "second.wav")
            first = await events.wait_for(lambda m: m[0] == "recorded")
            await a.talk(port_a, tone(1000, 10))
            call.close()
            return [first, await events.wait_for(lambda m: m[0] == "recorded")]

    first, second = asyncio.run(scenario())
    assert (first[2], second[2]) == (str(tmp_path / "first.wav"), str(tmp_path / "second.wav"))
    for event in (first, second):
        assert event[3] > 0.1
        assert sf.info(event[2]).duration == pytest.approx(event[3])


def test_stop_finishes_the_recordings_of_calls_still_up(prompts: Path, tmp_path: Path) -> None:
    path = tmp_path / "up.wav"

    async def scenario() -> None:
        async with running(prompts) as (engine, events), phones() as (a, b):
            call = engine.open("up")
            port_a, _ = connect(call, a, b)
            await settled(engine, events)
            call.record(path)
            await a.talk(port_a, tone(1000, 25))
            await asyncio.sleep(0.05)

    asyncio.run(scenario())
    audio, _ = sf.read(path, dtype="int16")
    assert 0.4 <= len(audio) / 8000 <= 0.8
    assert np.abs(audio[:, 0]).max() > 4000
