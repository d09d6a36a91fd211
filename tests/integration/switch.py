"""A real ``softswitch run`` process for integration tests.

``SwitchProcess`` writes a configuration (the demo's, on a free port and a
temporary data directory, with overrides), starts ``python -m softswitch
run --config FILE``, waits for it to be ready and stops it (SIGTERM, or
SIGKILL to test crash recovery). ``calls()`` reads its CDRs from storage.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from peers import free_port

from softswitch.storage import open_storage
from softswitch.storage.records import CallRecord, LegRecord

ROOT = Path(__file__).resolve().parents[2]
DEMO_PORT = 5060  # the built-in demo configuration's SIP port


def demo_config(port: int, data_dir: Path, *, trunk_port: int = 5080,
                ring_timeout: float = 30, max_call_duration: float = 3600,
                extra: str = "", trunk_extra: str = "", demo: bool = True) -> str:
    """The demo configuration moved to ``port`` and ``data_dir``."""
    extensions = "".join(
        f'[[extensions]]\nnumber = "10{i}"\ndisplay_name = "User 10{i}"\n'
        f'password = "demo10{i}"\n' + (f'mobile = "+39 333 000 010{i}"\n' if i == 1 else "")
        + "\n" for i in range(1, 6))
    return f"""demo = {str(demo).lower()}
data_dir = "{data_dir}"
default_outbound_trunk = "demo-operator"
{extra}
[sip]
user_agent = "softswitch-test"

[[sip.listeners]]
transport = "udp"
host = "127.0.0.1"
port = {port}

[[sip.listeners]]
transport = "tcp"
host = "127.0.0.1"
port = {port}

[calls]
ring_timeout = {ring_timeout}
max_call_duration = {max_call_duration}

{extensions}
[[trunks]]
name = "demo-operator"
host = "127.0.0.1"
port = {trunk_port}
transport = "udp"
allowed_sources = ["127.0.0.1"]
to_header_routing = true
caller_id = "+39 02 1234 5678"
{trunk_extra}

[[trunks.numbers]]
did = "+39 02 1234 5678"
extension = "101"
"""


class SwitchProcess:
    """``softswitch run`` in a child process.

    With ``newcomer=True`` it is started the way the README tells a newcomer:
    ``python -m softswitch run`` with no arguments, in ``tmp`` as working
    directory, so the built-in demo configuration (127.0.0.1:5060) and its
    ``./var`` data directory are used. A stopped process can be started again
    on the same configuration and data (a restart after a crash).
    """

    def __init__(self, tmp: Path, config: str | None = None, *, newcomer: bool = False,
                 port: int | None = None, **options: object) -> None:
        """``config`` replaces the demo configuration; give the ``port`` it
        listens on."""
        self.tmp = tmp
        self.newcomer = newcomer
        self.port = DEMO_PORT if newcomer else port or free_port()
        self.data_dir = tmp / "var"
        self.config_path = tmp / "softswitch.toml"
        if not newcomer:
            text = config if config is not None else demo_config(
                self.port, self.data_dir, **options)  # type: ignore[arg-type]
            self.config_path.write_text(text)
        self.log_path = tmp / "softswitch.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def registrar(self) -> str:
        return f"127.0.0.1:{self.port}"

    def uri(self, user: str) -> str:
        return f"sip:{user}@127.0.0.1:{self.port}"

    def _command(self) -> tuple[list[str], Path, dict[str, str]]:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if self.newcomer:
            path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
            return [sys.executable, "-m", "softswitch", "run"], self.tmp, \
                dict(env, PYTHONPATH=path)
        return [sys.executable, "-m", "softswitch", "run", "--config", str(self.config_path),
                "--log-level", "DEBUG"], ROOT, env

    def start(self, timeout: float = 15.0) -> SwitchProcess:
        """Start the process and wait for this run's ``softswitch ready`` line."""
        argv, cwd, env = self._command()
        with self.log_path.open("ab") as log:
            log.write(f"=== start {self.starts + 1}: {' '.join(argv)}\n".encode())
        offset = len(self.log())
        self.starts += 1
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "softswitch ready" in self.log()[offset:]:
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"softswitch did not start:\n{self.log()[offset:][-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def calls(self) -> list[CallRecord]:
        storage = open_storage(f"sqlite:///{self.data_dir / 'softswitch.db'}")
        try:
            return storage.list_calls(limit=1000)
        finally:
            storage.close()

    def legs(self, call_id: str) -> list[LegRecord]:
        storage = open_storage(f"sqlite:///{self.data_dir / 'softswitch.db'}")
        try:
            return storage.legs(call_id)
        finally:
            storage.close()

    def wait_calls(self, count: int, *, ended: bool = True, timeout: float = 10.0
                   ) -> list[CallRecord]:
        deadline = time.monotonic() + timeout
        calls: list[CallRecord] = []
        while time.monotonic() < deadline:
            calls = [c for c in self.calls() if not ended or c.state == "ended"]
            if len(calls) >= count:
                return calls
            time.sleep(0.1)
        raise AssertionError(f"expected {count} call records, have {calls}")

    def __enter__(self) -> SwitchProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        if kind is not None:
            print(f"\n=== softswitch log {self.log_path} ===\n{self.log()[-6000:]}")
