"""Run ``softswitch run`` in this process, put calls through it, and print
(as JSON) how many objects they left to the cyclic garbage collector.

Used by ``test_call_garbage.py``: ``python gc_probe.py WORKDIR CALLS``.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from bench import config
from bench.harness import start_callee_uas
from bench.procs import free_port
from bench.sippctl import Sipp


def wait_bound(port: int, limit: float = 30.0) -> None:
    """Until the switch has bound its UDP port (ours can no longer)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise TimeoutError(f"the switch did not bind port {port}")


def probe(work: Path, port: int, calls: int, report: dict[str, object]) -> None:
    target = f"127.0.0.1:{port}"
    try:
        wait_bound(port)
    except TimeoutError:
        os.kill(os.getpid(), signal.SIGINT)
        raise
    uas = start_callee_uas(work, target, 1)
    try:
        Sipp("trunk_call.xml", work / "warm-up", target=target, calls=10, rate=20,
             service=config.DID).run(60)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds is kept, not freed
        done = Sipp("trunk_call.xml", work / "calls", target=target, calls=calls, rate=20,
                    service=config.DID).run(60)
        time.sleep(0.5)  # the last BYE's transaction
        gc.collect()
        kinds = collections.Counter(type(o).__qualname__ for o in gc.garbage)
        gc.set_debug(0)
        report.update(calls=done.successful, garbage=len(gc.garbage),
                      kinds=dict(kinds.most_common(12)))
    finally:
        uas.__exit__(None, None, None)
        os.kill(os.getpid(), signal.SIGINT)


def main() -> int:
    work, calls = Path(sys.argv[1]), int(sys.argv[2])
    port = free_port()
    path = work / "softswitch.toml"
    path.write_text(config.switch_config(port, work / "var", 1))
    report: dict[str, object] = {}
    threading.Thread(target=probe, args=(work, port, calls, report),
                     daemon=True).start()
    from softswitch.__main__ import main as softswitch

    with contextlib.suppress(KeyboardInterrupt):
        softswitch(["run", "--config", str(path), "--log-level", "WARNING"])
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
