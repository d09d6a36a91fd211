"""Recordings of one worker: one shared writer thread, one writer per call."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

from media.recorder import RecordingThread, RecordingWriter


class RecordingPool:
    """Opens and finishes the recordings of a worker's calls, all written
    by one thread so the event loop never waits on the disk."""

    def __init__(self) -> None:
        self._thread = RecordingThread()

    def open(self, path: Path) -> RecordingWriter:
        return RecordingWriter(path, thread=self._thread)

    def finish(self, recording: RecordingWriter) -> Future[float]:
        """Finish a recording (the header written last); resolves to its length
        in seconds once the thread has written everything."""
        return recording.finish()

    def shutdown(self) -> None:
        self._thread.stop()
