"""Call recording (F-MEDIA-3): crash-safe stereo WAV, written off the event loop.

A recording is 16-bit PCM WAV (RIFF, WAVE_FORMAT_PCM) with the caller on the
left and the callee on the right. Audio is appended as it comes and the RIFF
and data chunk sizes in the header are rewritten every ``header_every`` seconds
of audio and at close: if the process dies (even by SIGKILL) the file is still
a playable WAV holding everything up to the last header update.

:class:`RecordingWriter` hands the file work to a thread through a bounded
queue; when the queue is full a tick is dropped (and counted) rather than
blocking the loop, and the gap is written as silence so the two sides and the
call's timeline stay aligned. One :class:`RecordingThread` can serve many
recordings. Files go to ``root/YYYY-MM/<call id>.wav`` (:func:`recording_path`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from media.errors import MediaError

log = logging.getLogger(__name__)

Int16Array = npt.NDArray[np.int16]
_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")  # RIFF, fmt chunk (PCM), data chunk header
HEADER_BYTES = _HEADER.size  # 44
_MAX_DATA = 0xFFFFFFFF - (HEADER_BYTES - 8)  # the RIFF size field is 32 bits
_SAFE = re.compile(r"[^A-Za-z0-9._@+=-]")


class RecordingError(MediaError):
    """A recording that cannot be opened, written or finished."""


def recording_path(root: Path, when: datetime, call_id: str) -> Path:
    """``root/YYYY-MM/<call id>.wav`` for a call that started at ``when`` (its own zone).

    Characters that are unsafe in a file name are replaced; the name then gets a
    short hash of the real Call-ID so two calls cannot share a file."""
    name = _SAFE.sub("_", call_id).lstrip(".") or "call"
    if name != call_id:
        name = f"{name[:100]}-{hashlib.sha256(call_id.encode()).hexdigest()[:8]}"
    return Path(root) / f"{when.year:04d}-{when.month:02d}" / f"{name}.wav"


def wav_header(rate: int, channels: int, data_bytes: int) -> bytes:
    """The 44-byte header of a 16-bit PCM WAV holding ``data_bytes`` of samples."""
    align = 2 * channels
    return _HEADER.pack(b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, channels, rate,
                        rate * align, align, 16, b"data", data_bytes)


class WavRecorder:
    """Synchronous writer of one recording (use it from a thread, see RecordingWriter)."""

    def __init__(self, path: Path, rate: int = 8000, channels: int = 2, *,
                 header_every: float = 1.0, fsync: bool = False) -> None:
        if channels not in (1, 2):
            raise RecordingError(f"a recording has 1 or 2 channels, not {channels}")
        self.path, self.rate, self.channels = Path(path), rate, channels
        self.samples = 0  # sample frames accepted (per channel)
        self._header_every = max(1, round(header_every * rate))
        self._fsync = fsync
        self._pending = bytearray()
        self._on_disk = 0  # data bytes covered by the header on disk
        self._since_header = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                                           0o644)
            self._write_all(wav_header(rate, channels, 0))
        except OSError as exc:
            raise RecordingError(f"cannot create recording {self.path}: {exc}") from exc

    @property
    def seconds(self) -> float:
        return self.samples / self.rate

    def write(self, left: Int16Array | None, right: Int16Array | None) -> None:
        """Append one tick: caller ``left``, callee ``right``; a missing or shorter
        side is silence. With nothing on either side nothing is written."""
        block = interleave(left, right, self.channels)
        count = block.shape[0] // self.channels
        if self.samples + count > _MAX_DATA // (2 * self.channels):
            raise RecordingError(f"recording {self.path} reached the 4 GiB WAV limit")
        self._pending += block.astype("<i2", copy=False).tobytes()
        self.samples += count
        self._since_header += count
        if self._since_header >= self._header_every:
            self.flush()

    def write_silence(self, samples: int) -> None:
        """Append ``samples`` of silence on every channel (a gap in the input)."""
        if samples > 0:
            self.write(np.zeros(samples, np.int16), None)

    def flush(self) -> None:
        """Write what is pending, then rewrite the sizes in the header to cover it."""
        if self._fd is None:
            raise RecordingError(f"recording {self.path} is closed")
        try:
            self._write_all(bytes(self._pending))
            self._on_disk += len(self._pending)
            self._pending.clear()
            header = wav_header(self.rate, self.channels, self._on_disk)
            os.pwrite(self._fd, header, 0)
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            raise RecordingError(f"cannot write recording {self.path}: {exc}") from exc
        self._since_header = 0

    def close(self) -> float:
        """Flush and close; returns the seconds recorded. Closing twice is harmless."""
        if self._fd is not None:
            try:
                self.flush()
            finally:
                os.close(self._fd)
                self._fd = None
        return self.seconds

    def _write_all(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]


def interleave(left: Int16Array | None, right: Int16Array | None, channels: int) -> Int16Array:
    """One tick as interleaved int16 (L, R, L, R …), or the clipped sum for mono."""
    sides = [_as_int16(side) for side in (left, right)]
    count = max((s.shape[0] for s in sides if s is not None), default=0)
    if channels == 1:
        mix = np.zeros(count, np.int32)
        for side in sides:
            if side is not None:
                mix[: side.shape[0]] += side
        return np.clip(mix, -32768, 32767).astype(np.int16)
    out = np.zeros((count, 2), np.int16)
    for column, side in enumerate(sides):
        if side is not None:
            out[: side.shape[0], column] = side
    return out.reshape(-1)


def _as_int16(side: Int16Array | None) -> Int16Array | None:
    if side is None:
        return None
    if side.dtype != np.int16 or side.ndim != 1:
        raise RecordingError(f"recorded audio must be mono int16, not {side.dtype} {side.shape}")
    return side


# -- off the event loop -------------------------------------------------------------------

_Job = tuple["RecordingWriter", Callable[[WavRecorder | None], None], bool]  # bool: audio?


class RecordingThread:
    """One thread that performs the file work of many recordings, in order.

    Audio jobs are bounded (``max_pending`` ticks across all recordings); open
    and close jobs are always accepted so a file is never left unfinished."""

    def __init__(self, max_pending: int = 2000, name: str = "recording-writer") -> None:
        self.max_pending = max_pending
        self.dropped = 0  # audio ticks refused because the queue was full
        self._jobs: deque[_Job] = deque()
        self._audio = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, writer: RecordingWriter, job: Callable[[WavRecorder | None], None],
               audio: bool) -> bool:
        """Queue a job; an audio job is refused (False) when the queue is full."""
        with self._cond:
            if self._stopping:
                raise RecordingError("the recording thread is stopped")
            if audio and self._audio >= self.max_pending:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 500 == 0:
                    log.warning("recording queue full: %d ticks dropped so far", self.dropped)
                return False
            self._audio += audio
            self._jobs.append((writer, job, audio))
            self._cond.notify()
            return True

    @property
    def pending(self) -> int:
        """Audio ticks queued and not yet written."""
        with self._cond:
            return self._audio

    def stop(self) -> None:
        """Finish every queued job, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if not self._jobs:
                    return
                writer, job, audio = self._jobs.popleft()
                self._audio -= audio
            writer._execute(job)


class RecordingWriter:
    """A recording fed from the event loop: :meth:`write` never blocks.

    Without a ``thread`` the writer starts and owns one; pass a shared
    :class:`RecordingThread` to serve many calls from one thread."""

    def __init__(self, path: Path, *, rate: int = 8000, channels: int = 2,
                 header_every: float = 1.0, thread: RecordingThread | None = None,
                 max_pending: int = 500) -> None:
        self.path, self.rate = Path(path), rate
        self.dropped = 0  # ticks of this recording lost to a full queue
        self.error: RecordingError | None = None
        self._own = thread is None
        self._thread = thread or RecordingThread(max_pending, name=f"recording {self.path.name}")
        self._recorder: WavRecorder | None = None
        self._gap = 0  # samples dropped since the last accepted tick
        self._closed: Future[float] | None = None

        def start(_: WavRecorder | None) -> None:
            self._recorder = WavRecorder(self.path, rate, channels, header_every=header_every)

        self._thread.submit(self, start, False)

    def write(self, left: Int16Array | None, right: Int16Array | None) -> None:
        """Queue one tick (copied); dropped and counted if the queue is full."""
        if self._closed is not None:
            raise RecordingError(f"recording {self.path} is closed")
        a = None if left is None else left.copy()
        b = None if right is None else right.copy()
        gap = self._gap

        def job(recorder: WavRecorder | None) -> None:
            if recorder is not None:
                recorder.write_silence(gap)
                recorder.write(a, b)

        if self._thread.submit(self, job, True):
            self._gap = 0
        else:
            self.dropped += 1
            self._gap += max(0 if s is None else s.shape[0] for s in (a, b))

    def finish(self) -> Future[float]:
        """Queue the close; the future gives the seconds recorded (or the error)."""
        if self._closed is None:
            self._closed = Future()

            gap = self._gap

            def close(recorder: WavRecorder | None) -> None:
                if recorder is not None:
                    recorder.write_silence(gap)  # ticks dropped at the very end
                # closes the file even after an error, then reports that error
                seconds = self._recorder.close() if self._recorder is not None else 0.0
                if self.error is not None:
                    raise self.error
                assert self._closed is not None
                self._closed.set_result(seconds)

            self._thread.submit(self, close, False)
            if self._own:
                self._thread.stop()
        return self._closed

    def close(self) -> float:
        """Flush everything queued, finish the file and return its seconds (blocks)."""
        return self.finish().result()

    def _execute(self, job: Callable[[WavRecorder | None], None]) -> None:
        """Run on the thread: the first error is kept, later audio is skipped."""
        try:
            job(self._recorder if self.error is None else None)
        except Exception as exc:  # the thread serves other calls: keep it alive
            error = exc if isinstance(exc, RecordingError) else _wrapped(self.path, exc)
            log.error("%s", error)
            self.error = self.error or error
            if self._closed is not None and not self._closed.done():
                self._closed.set_exception(self.error)


def _wrapped(path: Path, exc: Exception) -> RecordingError:
    error = RecordingError(f"recording {path} failed: {exc!r}")
    error.__cause__ = exc
    return error
