"""Parent side of the phone child process: spawn, JSON-lines RPC, event log.

The child (``phone_child.py``) is started with the running interpreter, its
stdin and stdout as the protocol pipe and its output in a log file.  Every
request waits with a deadline; a child that dies or stops answering raises
``PhoneError`` with the tail of its log.  Children still alive when the
interpreter exits are killed, and every child is reaped (``wait``) so none is
left a zombie.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.name
_LIVE: weakref.WeakSet[Channel] = weakref.WeakSet()


class PhoneError(Exception):
    """A test phone failed, timed out or refused a command."""


@dataclass(frozen=True, slots=True)
class Event:
    """One thing the phone reported: ``kind`` plus the fields of that kind."""

    kind: str
    call: int | None
    fields: dict[str, Any] = field(hash=False)
    at: float = 0.0

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


class Channel:
    """A running phone child and the pipe to it."""

    def __init__(self, options: dict[str, Any], log_path: Path, start_timeout: float) -> None:
        self.log_path = log_path
        self._cond = threading.Condition()
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: list[Event] = []
        self._next_id = 1
        self._closed = False
        options = {**options, "log": str(log_path)}
        with open(log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-u", "-m", f"{PACKAGE}.phone_child", json.dumps(options)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True, encoding="utf-8", cwd=str(HERE.parent), close_fds=True)
        _LIVE.add(self)
        self._reader = threading.Thread(target=self._read, name="phone-reader", daemon=True)
        self._reader.start()
        ready = self.wait_event(lambda e: e.kind in ("ready", "fatal"), start_timeout,
                                "phone start")
        if ready.kind == "fatal":
            self.close()
            raise PhoneError(f"phone did not start: {ready.get('error')}\n{self.log_tail()}")
        self.ready = ready

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self._cond:
                if "id" in message:
                    self._replies[int(message["id"])] = message
                else:
                    kind = message.pop("ev")
                    call = message.pop("call", None)
                    self._events.append(Event(kind, call, message, time.monotonic()))
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def request(self, cmd: str, timeout: float = 5.0, **args: Any) -> Any:
        """Run one command in the child; return its result or raise PhoneError."""
        with self._cond:
            if self._closed:
                raise PhoneError(f"phone is gone; cannot {cmd}\n{self.log_tail()}")
            rid = self._next_id
            self._next_id += 1
        line = json.dumps({"id": rid, "cmd": cmd, "args": args}) + "\n"
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(line)
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise PhoneError(f"phone pipe closed during {cmd}\n{self.log_tail()}") from exc
        with self._cond:
            got = self._cond.wait_for(lambda: rid in self._replies or self._closed, timeout)
            reply = self._replies.pop(rid, None)
        if not got or reply is None:
            why = "exited" if self._closed else f"did not answer within {timeout} s"
            raise PhoneError(f"phone {why} for {cmd}({args})\n{self.log_tail()}")
        if not reply.get("ok"):
            raise PhoneError(f"{cmd}({args}) failed: {reply.get('error')}")
        return reply.get("result")

    def events(self) -> list[Event]:
        with self._cond:
            return list(self._events)

    def wait_event(self, match: Callable[[Event], bool], timeout: float, what: str,
                   start: int = 0, fail: Callable[[Event], str | None] | None = None) -> Event:
        """The first event from index ``start`` on that ``match`` accepts.

        ``fail`` may name a reason to give up early (say, the call ended).
        """
        deadline = time.monotonic() + timeout
        index = start
        with self._cond:
            while True:
                while index < len(self._events):
                    event = self._events[index]
                    index += 1
                    if match(event):
                        return event
                    reason = fail(event) if fail is not None else None
                    if reason:
                        raise PhoneError(f"{what}: {reason}")
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    seen = [(e.kind, e.call, e.fields) for e in self._events[-8:]]
                    why = "phone exited" if self._closed else f"timed out after {timeout} s"
                    raise PhoneError(f"{what}: {why}; last events {seen}\n{self.log_tail()}")
                self._cond.wait(left)

    def event_count(self) -> int:
        with self._cond:
            return len(self._events)

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of {self.log_path} ---\n{tail}"

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to quit; kill it if it does not; always reap it."""
        if self._proc.poll() is None and not self._closed:
            with contextlib.suppress(PhoneError):
                self.request("quit", timeout=timeout)
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(1.0)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        _LIVE.discard(self)

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()


@atexit.register
def _kill_leftovers() -> None:
    for channel in list(_LIVE):
        channel.kill()
