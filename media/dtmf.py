"""DTMF as RFC 4733 telephone-events (§2.3 payload, §2.5 procedures, §3 DTMF codes),
and in-band tones (:class:`media.goertzel.InbandDetector`, re-exported here).

:class:`TelephoneEvent` is the 4-byte payload of §2.3. :class:`DtmfSender` turns a
key press into the packets of §2.5.1: the first with the marker bit, an update
every 20 ms carrying the event's start timestamp and the duration so far, and
the final packet, with the E bit, sent three times (§2.5.1.4). The sequence
number advances on every packet, retransmissions included (§2.5.1.6).

:class:`DtmfReceiver` follows §2.5.2: an event is identified by its RTP
timestamp, so it reports each key press once however many of its packets are
lost, duplicated or retransmitted. A press whose start packets were lost is
reported at its first surviving packet; one whose end packets were lost ends
when the next event starts. A long press carried in several segments (§2.5.1.3)
stays one press.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from media.errors import MediaError
from media.goertzel import InbandDetector

EVENTS = "0123456789*#ABCD"  # RFC 4733 §3.2 Table 3: event code -> key
EVENT_OF = {digit: code for code, digit in enumerate(EVENTS)}
PAYLOAD_SIZE = 4
MAX_DURATION = 0xFFFF  # §2.5.1.3: longer events continue in a new segment
DEFAULT_VOLUME = 10  # -dBm0
DEFAULT_DURATION_MS = 160
MIN_DURATION_MS = 40  # §2.5.2.1 (ITU-T Q.24): shorter tones are not recognised
END_REPEATS = 3  # §2.5.1.4
_SEQ_MOD = 1 << 16
_TS_MOD = 1 << 32

__all__ = [
    "EVENTS", "EVENT_OF", "DtmfBurst", "DtmfEvent", "DtmfReceiver", "DtmfSender",
    "EventPacket", "InbandDetector", "InvalidTelephoneEvent", "TelephoneEvent",
]


class InvalidTelephoneEvent(MediaError):
    """A telephone-event payload or field that RFC 4733 §2.3 does not allow."""


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One RFC 4733 §2.3 event report: event code, E (end) bit, volume in -dBm0
    (0-63), duration in timestamp units since the event's RTP timestamp."""

    event: int
    end: bool = False
    volume: int = DEFAULT_VOLUME
    duration: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 0xFF:
            raise InvalidTelephoneEvent(f"event code {self.event} out of 0-255")
        if not 0 <= self.volume <= 63:
            raise InvalidTelephoneEvent(f"volume {self.volume} out of 0-63")
        if not 0 <= self.duration <= MAX_DURATION:
            raise InvalidTelephoneEvent(f"duration {self.duration} out of 0-65535")

    @classmethod
    def parse(cls, data: bytes) -> TelephoneEvent:
        """The event report in ``data`` (exactly 4 bytes); the R bit is ignored."""
        if len(data) != PAYLOAD_SIZE:
            raise InvalidTelephoneEvent(
                f"telephone-event payload of {len(data)} bytes, not {PAYLOAD_SIZE}")
        event, flags, duration = struct.unpack("!BBH", data)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    @classmethod
    def parse_all(cls, data: bytes) -> list[TelephoneEvent]:
        """Every event report in a payload carrying several (§2.5.1.5, §2.4)."""
        if not data or len(data) % PAYLOAD_SIZE:
            raise InvalidTelephoneEvent(f"telephone-event payload of {len(data)} bytes")
        return [cls.parse(data[i:i + PAYLOAD_SIZE]) for i in range(0, len(data), PAYLOAD_SIZE)]

    @classmethod
    def for_digit(cls, digit: str, *, end: bool = False, volume: int = DEFAULT_VOLUME,
                  duration: int = 0) -> TelephoneEvent:
        code = EVENT_OF.get(digit.upper()) if len(digit) == 1 else None
        if code is None:
            raise InvalidTelephoneEvent(f"{digit!r} is not a DTMF key")
        return cls(code, end, volume, duration)

    @property
    def digit(self) -> str | None:
        """The key of a DTMF event (codes 0-15), None for other events."""
        return EVENTS[self.event] if self.event < len(EVENTS) else None

    def __bytes__(self) -> bytes:
        return struct.pack("!BBH", self.event, (0x80 if self.end else 0) | self.volume,
                           self.duration)


# -- sending (§2.5.1) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventPacket:
    """One RTP packet of a key press: what to put in the RTP header and payload.

    ``offset`` is when to send it, in timestamp units after the first packet.
    """

    payload: bytes
    seq: int
    timestamp: int
    marker: bool
    offset: int


@dataclass(frozen=True, slots=True)
class DtmfBurst:
    """The packets of one key press, and where the stream continues after it:
    the next sequence number, and the timestamp of the first audio frame after
    the tone (the event's timestamp plus its duration)."""

    packets: tuple[EventPacket, ...]
    next_seq: int
    next_timestamp: int


class DtmfSender:
    """Key presses as RFC 4733 packets (§2.5.1); no sockets, no clock."""

    def __init__(self, *, duration_ms: int = DEFAULT_DURATION_MS,
                 volume: int = DEFAULT_VOLUME, packet_ms: int = 20,
                 clock_rate: int = 8000) -> None:
        if not 0 <= volume <= 63:
            raise InvalidTelephoneEvent(f"volume {volume} out of 0-63")
        if packet_ms <= 0 or clock_rate * packet_ms % 1000:
            raise MediaError(f"packet interval {packet_ms} ms is not whole timestamp units")
        self.duration_ms = self._check_duration(duration_ms, clock_rate)
        self.volume = volume
        self.clock_rate = clock_rate
        self.step = clock_rate * packet_ms // 1000  # timestamp units between updates

    @staticmethod
    def _check_duration(duration_ms: int, clock_rate: int) -> int:
        if duration_ms < MIN_DURATION_MS or clock_rate * duration_ms // 1000 > MAX_DURATION:
            raise MediaError(f"a key press of {duration_ms} ms is outside "
                             f"{MIN_DURATION_MS} ms to one segment (65535 units)")
        return duration_ms

    def press(self, digit: str, seq: int, timestamp: int,
              duration_ms: int | None = None) -> DtmfBurst:
        """The packets of pressing ``digit`` at RTP ``timestamp``, numbered from ``seq``."""
        ms = self.duration_ms if duration_ms is None else \
            self._check_duration(duration_ms, self.clock_rate)
        total = self.clock_rate * ms // 1000
        total = -(-total // self.step) * self.step  # whole update intervals
        timestamp %= _TS_MOD
        reports = [TelephoneEvent.for_digit(digit, volume=self.volume, duration=d)
                   for d in range(self.step, total, self.step)]
        final = TelephoneEvent.for_digit(digit, end=True, volume=self.volume, duration=total)
        reports += [final] * END_REPEATS
        packets = tuple(
            EventPacket(bytes(report), (seq + i) % _SEQ_MOD, timestamp, i == 0, i * self.step)
            for i, report in enumerate(reports))
        return DtmfBurst(packets, (seq + len(packets)) % _SEQ_MOD,
                         (timestamp + total) % _TS_MOD)


# -- receiving (§2.5.2) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """A key press seen on the wire: reported once when it starts (``end`` False)
    and once when it ends (``end`` True, ``duration`` final, in timestamp units)."""

    digit: str
    timestamp: int  # RTP timestamp of the press (its first segment)
    duration: int
    end: bool

    def duration_ms(self, clock_rate: int = 8000) -> float:
        return self.duration * 1000 / clock_rate


@dataclass(slots=True)
class _Press:
    digit: str
    event: int
    start: int  # timestamp of the first segment
    segment: int  # timestamp of the current segment
    duration: int  # longest seen, from start
    ended: bool = False


class DtmfReceiver:
    """Key presses from a telephone-event stream (RFC 4733 §2.5.2).

    :meth:`receive` gives the digits of presses that begin (once per press);
    :meth:`receive_events` also tells when each press ends and how long it lasted.
    """

    def __init__(self) -> None:
        self._press: _Press | None = None
        self._high_seq: int | None = None
        self._ssrc: int | None = None
        self.malformed = 0  # payloads that were not telephone-events

    def receive(self, payload: bytes, timestamp: int, seq: int,
                ssrc: int | None = None) -> list[str]:
        """Digits of key presses that begin with this packet (usually none)."""
        return [e.digit for e in self.receive_events(payload, timestamp, seq, ssrc)
                if not e.end]

    def receive_events(self, payload: bytes, timestamp: int, seq: int,
                       ssrc: int | None = None) -> list[DtmfEvent]:
        """Starts and ends of key presses this packet reveals, in order."""
        try:
            report = TelephoneEvent.parse(payload[:PAYLOAD_SIZE])
        except InvalidTelephoneEvent:
            self.malformed += 1
            return []
        if ssrc is not None and ssrc != self._ssrc:
            self.reset()  # a new stream numbers its packets afresh
            self._ssrc = ssrc
        newer = self._newer_seq(seq)
        digit = report.digit
        press = self._press
        if digit is None:
            return []  # not a key (flash, tones): nothing to report
        if press is not None and timestamp == press.segment and report.event == press.event:
            return self._update(press, timestamp, report)
        if not newer:
            return []  # a late packet of an earlier press
        if press is not None and self._continues(press, timestamp, report):
            press.segment = timestamp
            return self._update(press, timestamp, report)
        out = self.finish()
        self._press = _Press(digit, report.event, timestamp, timestamp, report.duration)
        out.append(DtmfEvent(digit, timestamp, report.duration, False))
        if report.end:
            self._press.ended = True
            out.append(DtmfEvent(digit, timestamp, report.duration, True))
        return out

    def finish(self) -> list[DtmfEvent]:
        """End the press in progress whose end packets never came (the stream
        moved on, or the call is over): its end, at the longest duration seen."""
        press = self._press
        if press is None or press.ended:
            return []
        press.ended = True
        return [DtmfEvent(press.digit, press.start, press.duration, True)]

    def reset(self) -> None:
        """Forget the stream (its SSRC changed): sequence numbers start afresh."""
        self._press, self._high_seq, self._ssrc = None, None, None

    def _newer_seq(self, seq: int) -> bool:
        """Whether ``seq`` is past the highest seen (RFC 3550 serial order), recording it."""
        high = self._high_seq
        if high is None or 0 < (seq - high) % _SEQ_MOD < _SEQ_MOD // 2:
            self._high_seq = seq % _SEQ_MOD
            return True
        return False

    @staticmethod
    def _continues(press: _Press, timestamp: int, report: TelephoneEvent) -> bool:
        """A later segment of a long press (§2.5.1.3): the same event, starting
        where the previous segment's full 65535 units end."""
        gap = (timestamp - press.segment) % _TS_MOD
        return report.event == press.event and gap == MAX_DURATION

    @staticmethod
    def _update(press: _Press, timestamp: int, report: TelephoneEvent) -> list[DtmfEvent]:
        press.duration = max(press.duration,
                             (timestamp - press.start) % _TS_MOD + report.duration)
        if report.end and not press.ended:
            press.ended = True
            return [DtmfEvent(press.digit, press.start, press.duration, True)]
        return []
