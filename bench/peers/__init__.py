"""Peers measured side by side with the softswitch, each on loopback ports.

- ``sipp-only``: the SIPp UAC straight to the SIPp UAS — the ceiling of the
  load generator itself on this machine;
- ``kamailio``: Kamailio as a minimal stateful proxy (``kamailio.cfg`` here)
  in front of the same UAS — the C signalling reference (``apt-get install
  kamailio``);
- ``sippy``: the Python B2BUA of PyPI ``sippy`` (its ``b2bua_simple``) in
  front of the same UAS — the nearest Python peer (``pip install sippy``;
  found on PATH or through ``BENCH_SIPPY_B2BUA``).

A peer that cannot run here is reported by name with the reason instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from bench.harness import Context, SippOnlySystem, System
from bench.procs import LOOPBACK, ProcessError, free_port, stop_process, version_line
from bench.sippctl import Background, Sipp

HERE = Path(__file__).resolve().parent
KAMAILIO_CFG = HERE / "kamailio.cfg"


class ForwarderSystem(System):
    """A peer process relaying the UAC's calls to a SIPp UAS behind it."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.name = name
        self.folder = ctx.folder(name)
        self.port = free_port()
        self.uas_port = free_port()
        self.target = f"{LOOPBACK}:{self.port}"
        self.uas = Background(Sipp("uas_answer.xml", self.folder / "uas", port=self.uas_port,
                                   extra=["-aa"]))
        self.process: subprocess.Popen[bytes] | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def __enter__(self) -> ForwarderSystem:
        self.uas.__enter__()
        log = (self.folder / f"{self.name}.log").open("wb")
        self.process = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=self.folder)
        log.close()
        time.sleep(1.5)
        if self.process.poll() is not None:
            self.uas.__exit__(None, None, None)
            raise ProcessError(f"{self.name} exited: "
                               f"{(self.folder / f'{self.name}.log').read_text()[-1500:]}")
        self.pid = self.process.pid
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        stop_process(self.process, 5)
        self.uas.__exit__(kind, exc, tb)

    def healthy(self) -> bool:
        return self.process is not None and self.process.poll() is None


class KamailioSystem(ForwarderSystem):
    def __init__(self, ctx: Context, binary: str) -> None:
        super().__init__(ctx, "kamailio")
        self.binary = binary

    def argv(self) -> list[str]:
        run = self.folder / "run"
        run.mkdir(exist_ok=True)
        # -m: shared memory in MiB. A transaction takes ~14 KiB of it (an
        # 8.3 KiB cell with room for 12 branches, the cloned request, the
        # relayed reply) and is kept 5 s (tm's wait timer) after its final
        # response: two a call, so 64 MiB (the default) holds ~420 calls/s,
        # fewer when a step follows another, and beyond that every new INVITE
        # is dropped ("could not allocate shared memory from shm pool") and
        # the UAC's retransmissions pass for a ceiling at 10 % CPU.
        # 1 GiB holds ~7,000 calls/s, above what one worker can relay here.
        # -x tlsf: Kamailio's O(1) allocator for shared and private memory.
        # The default, q_malloc (the allocator meant for memory debugging),
        # searches its free lists on every private-memory allocation: half
        # the worker's CPU in a profile, ~0.35 ms a call against ~0.09 ms
        return [self.binary, "-f", str(KAMAILIO_CFG), "-DD", "-E", "-n", "1", "-m", "1024",
                "-x", "tlsf",
                "-l", f"udp:{self.target}", "-A", f'UAS_URI="sip:{LOOPBACK}:{self.uas_port}"',
                "-Y", str(run), "-P", str(run / "kamailio.pid"), "-w", str(self.folder)]


class SippySystem(ForwarderSystem):
    def __init__(self, ctx: Context, binary: str) -> None:
        super().__init__(ctx, "sippy")
        self.binary = binary

    def argv(self) -> list[str]:
        return [self.binary, "-f", "-l", LOOPBACK, "-p", str(self.port),
                "-n", f"{LOOPBACK}:{self.uas_port}"]


def sippy_binary() -> str | None:
    return os.environ.get("BENCH_SIPPY_B2BUA") or shutil.which("b2bua_simple")


def kamailio_binary() -> str | None:
    return shutil.which("kamailio") or ("/usr/sbin/kamailio"
                                        if Path("/usr/sbin/kamailio").exists() else None)


def peer_versions() -> dict[str, str]:
    """The peers' versions for the report ("not installed" where absent)."""
    kamailio, sippy = kamailio_binary(), sippy_binary()
    versions = {"kamailio": "not installed", "sippy": "not installed"}
    if kamailio:
        versions["kamailio"] = version_line([kamailio, "-v"], "kamailio")
    if sippy:
        # b2bua_simple runs under the interpreter of its own environment
        shebang = Path(sippy).read_text(errors="replace").partition("\n")[0]
        python = shebang[2:].strip() if shebang.startswith("#!") else "python3"
        versions["sippy"] = version_line(
            [python, "-c", "import importlib.metadata as m; print(m.version('sippy'))"])
    return versions


def peer_systems(ctx: Context) -> Iterator[tuple[str, System | str]]:
    """Every peer: a system to measure, or why it cannot run here."""
    yield "sipp-only", SippOnlySystem(ctx)
    kamailio = kamailio_binary()
    yield "kamailio", (KamailioSystem(ctx, kamailio) if kamailio else
                       "kamailio not installed (apt-get install -y kamailio)")
    sippy = sippy_binary()
    yield "sippy", (SippySystem(ctx, sippy) if sippy else
                    "sippy's b2bua_simple not found (pip install sippy; or set "
                    "BENCH_SIPPY_B2BUA to its path)")
