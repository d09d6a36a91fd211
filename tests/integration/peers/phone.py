"""A real SIP phone (pjsua2) for integration tests, driven synchronously.

Each ``Phone`` is a pjsua2 Endpoint in its own child process (one Endpoint
and four calls per process is what the pjsua2 wheel allows), bound to
127.0.0.1.  Every method waits with a timeout and raises ``PhoneError`` with
the phone's recent events and log lines when something goes wrong.  Calls are
named by integer handles that the phone never reuses.  States are RFC 3261
invite-session states as pjsip names them: CALLING, INCOMING, EARLY,
CONNECTING, CONFIRMED, DISCONNECTED.
"""

from __future__ import annotations

import struct
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .channel import Channel, Event, PhoneError

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class CallState:
    """A call's state as reported by pjsua, with the last SIP status."""

    call: int
    state: str
    code: int
    reason: str
    sip_call_id: str


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """An INVITE the phone received, with the header fields of the request."""

    call: int
    from_: str
    to: str
    sip_call_id: str
    request_line: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for n, v in self.headers if n.lower() == wanted), None)


def _wav_complete(path: Path) -> bool:
    """True once the RIFF header's data size matches the file (header written)."""
    try:
        with path.open("rb") as f:
            head = f.read(44)
            size = path.stat().st_size
    except OSError:
        return False
    if len(head) < 44 or head[:4] != b"RIFF":
        return False
    return struct.unpack("<I", head[40:44])[0] == size - 44 and size > 44


def _state(event: Event) -> CallState:
    assert event.call is not None
    return CallState(event.call, event.get("state"), int(event.get("code", 0)),
                     event.get("reason", ""), event.get("sip_call_id", ""))


def _incoming(event: Event) -> IncomingCall:
    assert event.call is not None
    headers = tuple((str(n), str(v)) for n, v in event.get("headers", []))
    return IncomingCall(event.call, event.get("from"), event.get("to"),
                        event.get("sip_call_id"), event.get("request_line"), headers)


class Phone:
    """A pjsua2 phone in a child process.  Use ``Phone.start()`` as a context manager."""

    def __init__(self, channel: Channel) -> None:
        self._ch = channel
        self.port: int = int(channel.ready.get("port"))
        self.uri: str = channel.ready.get("uri")
        self.transport: str = channel.ready.get("transport")
        self._incoming_seen = 0
        self._recordings: dict[int, Path] = {}

    @classmethod
    def start(cls, local_port: int = 0, transport: str = "udp", user: str = "phone",
              log_dir: Path | str | None = None, ring: int | None = 180,
              log_level: int = 5, timeout: float = 10.0) -> Phone:
        """Spawn a phone listening on 127.0.0.1:``local_port`` (0: any free port).

        ``ring`` is the provisional answer sent to each incoming INVITE (None:
        none).  The child's pjsua log goes to ``log_dir`` (a temp dir if None).
        """
        if transport not in ("udp", "tcp"):
            raise ValueError(f"transport must be 'udp' or 'tcp', not {transport!r}")
        folder = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="phone-"))
        folder.mkdir(parents=True, exist_ok=True)
        log = Path(tempfile.mkstemp(prefix=f"phone-{user}-", suffix=".log", dir=folder)[1])
        options = {"port": local_port, "transport": transport, "user": user, "ring": ring,
                   "log_level": log_level}
        return cls(Channel(options, log, timeout))

    def __enter__(self) -> Phone:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Hang up everything and end the child process."""
        self._ch.close()

    @property
    def log_path(self) -> Path:
        return self._ch.log_path

    @property
    def pid(self) -> int:
        return self._ch.pid

    def contact(self, user: str | None = None) -> str:
        """A SIP URI that reaches this phone directly."""
        return self.uri if user is None else self.uri.replace("sip:phone@", f"sip:{user}@", 1)

    # -- events ------------------------------------------------------------

    def mark(self) -> int:
        """The current event count, to pass as ``start=`` and see only later events."""
        return self._ch.event_count()

    def events(self, kind: str | None = None, call: int | None = None) -> list[Event]:
        """Everything reported so far, optionally of one kind and/or one call."""
        return [e for e in self._ch.events()
                if (kind is None or e.kind == kind) and (call is None or e.call == call)]

    def wait_event(self, kind: str, call: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                   start: int = 0, **fields: Any) -> Event:
        """The first event (from index ``start``) of ``kind`` whose fields match."""
        def match(e: Event) -> bool:
            return e.kind == kind and (call is None or e.call == call) and all(
                e.get(k) == v for k, v in fields.items())
        return self._ch.wait_event(match, timeout, f"waiting for {kind} {fields}", start)

    # -- registration --------------------------------------------------------

    def register(self, registrar: str = "127.0.0.1:5060", user: str = "101",
                 password: str = "demo101", expires: int = 300, realm: str = "*",
                 domain: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> int:
        """REGISTER with digest credentials; return the final status code."""
        mark = self._ch.event_count()
        self._ch.request("register", registrar=registrar, user=user, password=password,
                         expires=expires, realm=realm, domain=domain)
        return int(self._reg_final(mark, timeout).get("code"))

    def unregister(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        """REGISTER with Expires 0; return the final status code."""
        mark = self._ch.event_count()
        self._ch.request("unregister")
        return int(self._reg_final(mark, timeout).get("code"))

    def _reg_final(self, mark: int, timeout: float) -> Event:
        return self._ch.wait_event(lambda e: e.kind == "reg_state" and e.get("code", 0) >= 200,
                                   timeout, "waiting for a final REGISTER response", mark)

    # -- calls ---------------------------------------------------------------

    def call(self, uri: str, headers: dict[str, str] | None = None) -> int:
        """Send INVITE to ``uri`` with extra ``headers``; return the call handle."""
        return int(self._ch.request("call", uri=uri, headers=headers))

    def wait_state(self, call: int, state: str, timeout: float = DEFAULT_TIMEOUT) -> CallState:
        """Wait until ``call`` reaches ``state``; fail at once if it ends first."""
        def fail(e: Event) -> str | None:
            if e.kind == "call_state" and e.call == call and e.get("state") == "DISCONNECTED":
                return f"call {call} ended with {e.get('code')} {e.get('reason')}"
            return None
        event = self._ch.wait_event(
            lambda e: e.kind == "call_state" and e.call == call and e.get("state") == state,
            timeout, f"waiting for call {call} to be {state}", fail=fail)
        return _state(event)

    def states(self, call: int) -> list[str]:
        """The sequence of states ``call`` went through so far."""
        return [str(e.get("state")) for e in self.events("call_state", call)]

    def call_info(self, call: int) -> dict[str, Any]:
        """pjsua's current view of a live call (state, code, URIs, Call-ID)."""
        info: dict[str, Any] = self._ch.request("call_info", call=call)
        return info

    def incoming_calls(self) -> list[IncomingCall]:
        """Every INVITE received so far."""
        return [_incoming(e) for e in self.events("incoming")]

    def wait_incoming(self, timeout: float = DEFAULT_TIMEOUT) -> IncomingCall:
        """The next incoming call not yet returned by this method."""
        event = self._ch.wait_event(lambda e: e.kind == "incoming", timeout,
                                    "waiting for an incoming call", self._incoming_seen)
        self._incoming_seen = self._ch.events().index(event) + 1
        return _incoming(event)

    def answer(self, call: int | None = None, code: int = 200, reason: str = "") -> int:
        """Answer ``call`` (None: the newest unanswered one) with ``code``."""
        return int(self._ch.request("answer", call=call, code=code, reason=reason))

    def reject(self, call: int | None = None, code: int = 486) -> int:
        """Refuse an incoming call with a final ``code`` (486 Busy Here by default)."""
        if code < 300:
            raise ValueError("reject needs a final failure code (>= 300)")
        return self.answer(call, code)

    def hangup(self, call: int, code: int = 0) -> None:
        """CANCEL, BYE or refuse, whatever the call's state needs."""
        self._ch.request("hangup", call=call, code=code)

    def set_auto_answer(self, code: int | None, delay: float = 0.0,
                        ring: int | None = 180) -> None:
        """Answer future incoming calls with ``code`` after ``delay`` s (None: don't)."""
        self._ch.request("set_auto_answer", code=code, delay=delay, ring=ring)

    def hold(self, call: int) -> None:
        """Re-INVITE with sendonly SDP (RFC 3264 hold)."""
        self._ch.request("hold", call=call)

    def unhold(self, call: int) -> None:
        """Re-INVITE restoring sendrecv."""
        self._ch.request("unhold", call=call)

    def transfer(self, call: int, target_uri: str) -> None:
        """Blind transfer: REFER the peer of ``call`` to ``target_uri``."""
        self._ch.request("transfer", call=call, target=target_uri)

    # -- media ---------------------------------------------------------------

    def wait_media(self, call: int, status: str = "ACTIVE", timeout: float = DEFAULT_TIMEOUT,
                   start: int = 0) -> None:
        """Wait for a media ``status`` (ACTIVE, LOCAL_HOLD, REMOTE_HOLD) on ``call``."""
        self._ch.wait_event(lambda e: e.kind == "media_state" and e.call == call
                            and e.get("status") == status, timeout,
                            f"waiting for {status} audio on call {call}", start)

    def dial_dtmf(self, call: int, digits: str, method: str = "rfc2833",
                  duration_ms: int = 160) -> None:
        """Send DTMF: 'rfc2833' (RFC 4733 events), 'info' (SIP INFO) or 'inband' tones."""
        if method not in ("rfc2833", "info", "inband"):
            raise ValueError(f"unknown DTMF method {method!r}")
        self._ch.request("dtmf", call=call, digits=digits, method=method,
                         duration_ms=duration_ms)

    def wait_dtmf(self, call: int, count: int, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait until ``count`` DTMF digits have arrived on ``call``; return them."""
        self._ch.wait_event(lambda _: len(self.events("dtmf", call)) >= count, timeout,
                            f"waiting for {count} DTMF digits on call {call}")
        return self.received_dtmf(call)

    def received_dtmf(self, call: int) -> str:
        return "".join(str(e.get("digit")) for e in self.events("dtmf", call))

    def play_file(self, call: int, wav_path: Path | str, loop: bool = False) -> None:
        """Send a 16-bit mono PCM WAV into the call's audio."""
        self.wait_media(call)
        self._ch.request("play", call=call, path=str(wav_path), loop=loop)

    def stop_play(self, call: int) -> None:
        self._ch.request("stop_play", call=call)

    def record(self, call: int, wav_path: Path | str) -> None:
        """Record the audio received on ``call`` to a WAV file."""
        self.wait_media(call)
        self._ch.request("record", call=call, path=str(wav_path))
        self._recordings[call] = Path(wav_path)

    def stop_record(self, call: int, timeout: float = DEFAULT_TIMEOUT) -> Path:
        """Close the recording; return its path once the WAV file is complete.

        pjsua removes the recorder from its conference bridge on the next
        clock tick, and only then writes the final WAV header: wait for it.
        """
        path = self._recordings.pop(call)
        self._ch.request("stop_record", call=call)
        deadline = time.monotonic() + timeout
        while not _wav_complete(path):
            if time.monotonic() > deadline:
                raise PhoneError(f"recording {path} not finalised (or empty) within {timeout} s")
            time.sleep(0.02)
        return path

    def codecs(self, prefer: Sequence[str] = ("PCMU/8000",), only: bool = False) -> list[str]:
        """Put ``prefer`` first (``only``: disable the rest); return enabled codecs in order."""
        result: list[str] = self._ch.request("codecs", prefer=list(prefer), only=only)
        return result


__all__ = ["CallState", "Event", "IncomingCall", "Phone", "PhoneError"]
