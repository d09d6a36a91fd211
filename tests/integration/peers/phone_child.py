"""Child process that hosts one pjsua2 phone, driven by JSON lines.

A pjsua2 build holds one Endpoint per process, so every test phone runs in a
process of its own (see ``phone.py`` for the parent side).  Protocol:

- stdin, one JSON object a line: ``{"id": n, "cmd": name, "args": {...}}``;
- stdout, one JSON object a line: replies ``{"id": n, "ok": true, "result": x}``
  or ``{"id": n, "ok": false, "error": text}``, and events ``{"ev": kind, ...}``.

pjsua runs with ``threadCnt = 0`` and ``mainThreadOnly``: every pjsua call and
every callback happens on this process's main thread, which alternates
``libHandleEvents`` polls with serving queued commands.  A reader thread only
moves stdin lines into a queue.  End of stdin (the parent died or closed us)
ends the process, and ``PR_SET_PDEATHSIG`` kills it if the parent vanishes.
Everything pjsua prints goes to the log file named on the command line.
"""

from __future__ import annotations

import ctypes
import json
import os
import queue
import signal
import sys
import threading
import time
from typing import IO, Any

from .phone_agent import Agent, CommandError

POLL_MS = 5


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent goes away."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _read_stdin(lines: queue.Queue[str | None]) -> None:
    for line in sys.stdin:
        lines.put(line)
    lines.put(None)


class Emitter:
    """Writes protocol lines on the private copy of the original stdout."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()

    def __call__(self, obj: dict[str, Any]) -> None:
        text = json.dumps(obj, default=str)
        with self._lock:
            self._out.write(text + "\n")
            self._out.flush()


def _serve(agent: Agent, emit: Emitter, line: str) -> bool:
    """Run one command; return False when the phone must stop."""
    request = json.loads(line)
    rid = request.get("id")
    cmd = request.get("cmd", "")
    print(f"=== command {rid} {cmd} {request.get('args')}", flush=True)
    if cmd == "quit":
        emit({"id": rid, "ok": True, "result": None})
        return False
    try:
        result = agent.execute(cmd, request.get("args") or {})
    except CommandError as exc:
        emit({"id": rid, "ok": False, "error": str(exc)})
    except Exception as exc:  # a pjsua2 Error or a bug: report it, keep serving
        emit({"id": rid, "ok": False, "error": f"{type(exc).__name__}: {_describe(exc)}"})
    else:
        emit({"id": rid, "ok": True, "result": result})
    return True


def _describe(exc: BaseException) -> str:
    info = getattr(exc, "info", None)
    if callable(info):
        try:
            return str(info())
        except Exception:  # the SWIG wrapper may not carry a message
            return repr(exc)
    return str(exc)


def main() -> None:
    options = json.loads(sys.argv[1])
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    log = open(options["log"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    _die_with_parent()
    emit = Emitter(protocol)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_stdin, args=(lines,), daemon=True).start()
    try:
        agent = Agent(options, emit)
    except Exception as exc:  # report why pjsua did not start, then leave
        emit({"ev": "fatal", "error": f"{type(exc).__name__}: {_describe(exc)}"})
        os._exit(1)
    emit({"ev": "ready", **agent.describe()})
    running = True
    while running:
        agent.poll(POLL_MS)
        while running:
            try:
                line = lines.get_nowait()
            except queue.Empty:
                break
            running = line is not None and _serve(agent, emit, line)
    agent.shutdown()
    print("=== phone child exits", flush=True)
    time.sleep(0)
    os._exit(0)  # skip interpreter teardown: SWIG objects must not outlive pjsua


if __name__ == "__main__":
    main()
