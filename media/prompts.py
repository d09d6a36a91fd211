"""Prompt store (F-MEDIA-2): greetings and hold music per language, built-in or uploaded.

Layout under ``root``::

    builtin/<language>/<name>-<hash>.wav   generated speech (media.builtin)
    builtin/<name>-v<N>.wav                hold music, beep
    uploads/<language>/<name>.mp3          an upload for one language
    uploads/any/<name>.mp3                 an upload for every language

An upload for the language beats an upload for every language, which beats the
built-in. Uploads must be mono MP3 of at most 2 MB (:func:`validate_upload`);
a refused upload changes nothing. Prompts are decoded once and kept as ready
20 ms frames; a cached prompt is rebuilt when the file behind it changes (so
an upload made by another process is picked up too).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from media import builtin
from media.audio import (
    FRAME,
    AudioError,
    Decoded,
    Int16Array,
    decode,
    frames,
    mpeg_stream,
    parse_mpeg_header,
    to_8k,
)
from media.codecs import alaw_encode, ulaw_encode
from media.errors import MediaError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
LANGUAGES = ("en", "it", "pl", "fr", "es")
ANY = "any"  # uploads/ folder of prompts uploaded for every language
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_MB = 1024 * 1024

Encoder = Callable[[Int16Array], bytes]


def _l16(pcm: Int16Array) -> bytes:
    return pcm.astype("<i2").tobytes()


# Codec name -> frame encoder. G.711 joins when media.codecs provides it.
ENCODERS: dict[str, Encoder] = {"L16": _l16, "PCMU": ulaw_encode, "PCMA": alaw_encode}


class PromptError(MediaError):
    """A prompt that cannot be served or stored; ``reason`` is a short code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class UploadRefused(PromptError):
    """An upload that is not a mono MP3 of at most 2 MB; the message says why."""


@dataclass(frozen=True, slots=True)
class PromptInfo:
    name: str
    language: str | None  # None: uploaded for every language
    source: str  # "upload" or "builtin"
    path: Path
    duration: float  # seconds
    frames: int  # 20 ms frames at 8 kHz


# -- upload validation ----------------------------------------------------------------

def validate_upload(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> Decoded:
    """Decode an upload, refusing anything but a complete mono MP3 of at most ``max_bytes``.

    The MPEG frame stream is walked before anything is decoded: libsndfile
    (mpg123) decodes a cut file without error as a shorter clip."""
    if not data:
        raise UploadRefused("empty", "the file is empty")
    if len(data) > max_bytes:
        raise UploadRefused("too_large", f"the file is {_mb(len(data))}; "
                            f"the limit is {_mb(max_bytes)}")
    if data[:3] != b"ID3" and parse_mpeg_header(data, 0) is None:
        _refuse_other_format(data)
    stream = mpeg_stream(data)
    if stream.frames and stream.layer != 3:
        raise UploadRefused("not_mp3", f"the file is MPEG Layer {'I' * stream.layer} audio, "
                            "not an MP3 (MPEG Layer III)")
    if stream.frames and not stream.mono:
        raise UploadRefused("not_mono", "the file has 2 channels; upload a mono MP3")
    if stream.problem == "truncated":
        raise UploadRefused("truncated", f"the MP3 is incomplete: {stream.detail}")
    if stream.problem is not None:
        raise UploadRefused("corrupt", f"the MP3 is damaged: {stream.detail}")
    return _decode_checked(data)


def _decode_checked(data: bytes) -> Decoded:
    try:
        decoded = decode(data)
    except AudioError as exc:
        raise UploadRefused("corrupt", f"the MP3 is damaged: {exc.message}") from exc
    if decoded.format != "MP3":
        raise UploadRefused("not_mp3", f"the file is {decoded.format} audio, not an MP3")
    if decoded.channels != 1:
        raise UploadRefused("not_mono", f"the file has {decoded.channels} channels; "
                            "upload a mono MP3")
    if decoded.samples < decoded.rate * FRAME // 8000:
        raise UploadRefused("no_audio", "the MP3 contains no audio (less than 20 ms)")
    return decoded


_MAGIC = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive"))


def _refuse_other_format(data: bytes) -> None:
    """Say what a file that does not start like an MP3 is; return if libsndfile calls it MP3."""
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError):
        info = None
    if info is not None and info.format == "MP3":
        return  # junk before the first frame: the frame walk reports it
    if info is not None:
        raise UploadRefused("not_mp3", f"the file is {info.format} audio "
                            f"({info.format_info}), not an MP3; upload a mono MP3")
    what = next((w for magic, w in _MAGIC if data.startswith(magic)), "not audio in a known format")
    raise UploadRefused("not_mp3", f"the file is {what}, not an MP3; upload a mono MP3")


def _mb(size: int) -> str:
    value = size / _MB
    return f"{value:.0f} MB" if value == int(value) else f"{value:.1f} MB"


# -- the store --------------------------------------------------------------------------

_Stamp = tuple[str, int, int, int]  # path, inode, size, mtime_ns


@dataclass(frozen=True, slots=True, eq=False)
class _Loaded:
    stamp: _Stamp
    info: PromptInfo
    pcm: Int16Array  # 8 kHz


class PromptStore:
    """Prompts by (name, language) as ready 20 ms frames; uploads beat built-ins.

    Safe to share between threads (one lock around the caches); the first use
    of a built-in runs espeak-ng, so call :meth:`preload` off the event loop."""

    def __init__(self, root: Path, languages: tuple[str, ...] = LANGUAGES) -> None:
        unknown = [lang for lang in languages if lang not in builtin.VOICES]
        if unknown:
            raise PromptError("unknown_language", f"no built-in voice for {unknown}")
        self.root, self.languages = Path(root), tuple(languages)
        self._lock = threading.RLock()
        self._pcm: dict[tuple[str, str], _Loaded] = {}
        self._frames: dict[tuple[str, str, str], tuple[_Stamp, tuple[bytes, ...]]] = {}

    # -- reading ----------------------------------------------------------------------

    def names(self) -> set[str]:
        """Built-in names and every uploaded name."""
        uploaded = {p.stem for p in (self.root / "uploads").glob("*/*.mp3")}
        return set(builtin.names()) | uploaded

    def frames(self, name: str, language: str, codec: str = "PCMU") -> tuple[bytes, ...]:
        """The prompt as 20 ms frames in ``codec`` (a key of :data:`ENCODERS`)."""
        encoder = ENCODERS.get(codec)
        if encoder is None:
            raise PromptError("unknown_codec", f"no frame encoder for codec {codec!r}")
        loaded = self._load(name, language)
        with self._lock:
            hit = self._frames.get((name, language, codec))
            if hit is not None and hit[0] == loaded.stamp:
                return hit[1]
            encoded = tuple(encoder(f) for f in frames(loaded.pcm, FRAME))
            self._frames[(name, language, codec)] = (loaded.stamp, encoded)
            return encoded

    def pcm(self, name: str, language: str) -> Int16Array:
        """The prompt as 8 kHz int16 PCM (read-only)."""
        return self._load(name, language).pcm

    def info(self, name: str, language: str) -> PromptInfo:
        """Which file serves (name, language), and how long it plays."""
        return self._load(name, language).info

    def preload(self, languages: tuple[str, ...] | None = None) -> None:
        """Generate and decode every built-in now (espeak-ng runs here)."""
        for language in languages or self.languages:
            for name in sorted(builtin.names()):
                self._load(name, language)

    # -- uploads ----------------------------------------------------------------------

    def upload(self, name: str, data: bytes, language: str | None = None) -> PromptInfo:
        """Store an uploaded MP3 for one language (or every language with None).

        The upload is validated first; a refused one raises :class:`UploadRefused`
        and the previous audio stays in use. A valid one replaces the file in
        one rename, so readers see the old or the new file, never a mix."""
        self._check_name(name)
        folder = ANY if language is None else self._check_language(language)
        decoded = validate_upload(data)
        path = self.root / "uploads" / folder / f"{name}.mp3"
        _write_atomically(path, data)
        self.invalidate(name)
        pcm8k = to_8k(decoded.pcm, decoded.rate)
        return PromptInfo(name, language, "upload", path, pcm8k.shape[0] / 8000,
                          -(-pcm8k.shape[0] // FRAME))

    def remove_upload(self, name: str, language: str | None = None) -> bool:
        """Drop an upload (the built-in or the every-language upload serves again)."""
        self._check_name(name)
        folder = ANY if language is None else self._check_language(language)
        path = self.root / "uploads" / folder / f"{name}.mp3"
        existed = path.exists()
        path.unlink(missing_ok=True)
        self.invalidate(name)
        return existed

    def invalidate(self, name: str) -> None:
        """Forget the cached audio of ``name`` in every language and codec."""
        with self._lock:
            for key in [k for k in self._pcm if k[0] == name]:
                del self._pcm[key]
            for fkey in [k for k in self._frames if k[0] == name]:
                del self._frames[fkey]

    # -- internals --------------------------------------------------------------------

    def _load(self, name: str, language: str) -> _Loaded:
        self._check_language(language)
        path, upload_language = self._resolve(name, language)
        stamp = _stamp(path)
        with self._lock:
            cached = self._pcm.get((name, language))
            if cached is not None and cached.stamp == stamp:
                return cached
            # hold music and uploads for every language: one file, decoded once
            same = next((c.pcm for c in self._pcm.values() if c.stamp == stamp), None)
        pcm8k = same if same is not None else self._decode(name, path)
        source = "builtin" if upload_language == "builtin" else "upload"
        info_language = None if upload_language == ANY else language
        info = PromptInfo(name, info_language, source, path, pcm8k.shape[0] / 8000,
                          -(-pcm8k.shape[0] // FRAME))
        loaded = _Loaded(stamp, info, pcm8k)
        with self._lock:
            self._pcm[(name, language)] = loaded
        return loaded

    @staticmethod
    def _decode(name: str, path: Path) -> Int16Array:
        try:
            decoded = decode(path.read_bytes())
        except (AudioError, OSError) as exc:
            raise PromptError("unreadable", f"prompt {name!r} ({path}) cannot be read: "
                              f"{exc}") from exc
        pcm8k = to_8k(decoded.pcm, decoded.rate)
        pcm8k.setflags(write=False)
        return pcm8k

    def _resolve(self, name: str, language: str) -> tuple[Path, str]:
        """The file that serves (name, language) and where it came from."""
        self._check_name(name)
        for folder in (language, ANY):
            path = self.root / "uploads" / folder / f"{name}.mp3"
            if path.exists():
                return path, folder
        if name not in builtin.names():
            raise PromptError("unknown_prompt", f"there is no prompt named {name!r}")
        try:
            return builtin.ensure(self.root / "builtin", name, language), "builtin"
        except AudioError as exc:
            raise PromptError(exc.reason, exc.message) from exc

    def _check_language(self, language: str) -> str:
        if language not in self.languages:
            raise PromptError("unknown_language", f"language {language!r} is not one of "
                              f"{', '.join(self.languages)}")
        return language

    @staticmethod
    def _check_name(name: str) -> None:
        if not _NAME.fullmatch(name):
            raise PromptError("bad_name", f"{name!r} is not a prompt name (lower-case "
                              "letters, digits, '_' and '-', at most 64)")


def _stamp(path: Path) -> _Stamp:
    st = path.stat()
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["ENCODERS", "LANGUAGES", "MAX_UPLOAD_BYTES", "PromptError", "PromptInfo",
           "PromptStore", "UploadRefused", "validate_upload"]
