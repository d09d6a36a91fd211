"""SIPp (``/usr/bin/sipp``) as a test peer: run scenarios, read their counts.

``Sipp`` holds the options of one run (built-in scenario such as ``uac`` or
``uas``, an XML file, or XML text) and either runs it to the end (``run``)
or starts it in the background (``start``).  Each run gets its own work
directory with ``-trace_stat`` CSV, ``-trace_err`` log, final screen, stdout
and stderr; the call counts come from the last CSV row, as SIPp writes it
when it exits.  A background SIPp stops softly on SIGUSR1 (SIPp's "q").
SIPp exit codes: 0 all calls succeeded, 1 some failed, 97 stopped by an
internal command, 99 no call processed, 255 fatal.
"""

from __future__ import annotations

import csv
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from .net import LOOPBACK, free_port, free_port_block, port_in_use

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
BUILTIN = ("uac", "uas", "regexp", "branchc", "branchs", "uac_pcap",
           "3pcc-C-A", "3pcc-C-B", "3pcc-A", "3pcc-B")
TRANSPORTS = {"udp": "u1", "tcp": "t1"}
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
UAS_SHORT = SCENARIOS / "uas_short.xml"  # like "uas" but lingers 0.5 s, not 4 s
# 401 challenge, checks keys "user"/"password" (realm: key "realm"), 200 or 403
REGISTRAR_DIGEST = SCENARIOS / "registrar_digest.xml"


class SippError(Exception):
    """SIPp could not be started, did not finish in time, or never got ready."""


@dataclass(frozen=True, slots=True)
class SippResult:
    """What one SIPp run did."""

    returncode: int
    successful: int
    failed: int
    created: int
    stats: Mapping[str, str]
    stdout: str
    stderr: str
    errors: str
    workdir: Path

    @property
    def all_successful(self) -> bool:
        return self.returncode == 0 and self.failed == 0 and self.successful > 0

    def summary(self) -> str:
        """One paragraph for assertion messages."""
        return (f"sipp exit {self.returncode}: {self.successful} ok, {self.failed} failed, "
                f"{self.created} created (files in {self.workdir})\nstderr: "
                f"{self.stderr.strip()[-800:]}\nerrors: {self.errors.strip()[-1500:]}")


def read_stats(path: Path) -> dict[str, str]:
    """The last row of a SIPp ``-trace_stat`` CSV (``;``-separated) by column name."""
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        rows = [row for row in csv.reader(f, delimiter=";") if row]
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1], strict=False))


def _count(stats: Mapping[str, str], column: str) -> int:
    value = stats.get(column, "0").strip()
    return int(value) if value.isdigit() else 0


@dataclass(slots=True)
class Sipp:
    """Options of one SIPp run against ``target`` (host:port; none for a UAS)."""

    scenario: str | Path = "uac"
    target: str | None = None
    calls: int | None = None
    rate: float | None = None
    rate_period_ms: int | None = None
    limit: int | None = None
    service: str | None = None
    local_ip: str = LOOPBACK
    local_port: int = 0
    transport: str = "udp"
    inf: Path | str | None = None
    auth_user: str | None = None
    auth_password: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    extra: Sequence[str] = ()
    workdir: Path | None = None

    @classmethod
    def from_xml(cls, xml: str, **options: object) -> Sipp:
        """A run of scenario text ``xml`` (written into the run's work directory)."""
        folder = Path(tempfile.mkdtemp(prefix="sipp-"))
        path = folder / "scenario.xml"
        path.write_text(xml, encoding="utf-8")
        return cls(scenario=path, workdir=folder, **options)  # type: ignore[arg-type]

    def prepare(self) -> tuple[list[str], Path]:
        """The command line and the work directory for this run."""
        if self.local_port == 0:
            self.local_port = free_port(self.transport)
        folder = self.workdir or Path(tempfile.mkdtemp(prefix="sipp-"))
        folder.mkdir(parents=True, exist_ok=True)
        self.workdir = folder
        media = free_port_block(4)
        args = [SIPP, *self._scenario_args(), "-i", self.local_ip, "-p", str(self.local_port),
                "-t", TRANSPORTS[self.transport], "-cp", str(free_port("udp")),
                "-mp", str(media), "-nostdin", "-trace_stat", "-stf", str(folder / "stat.csv"),
                "-fd", "1", "-trace_err", "-error_file", str(folder / "errors.log"),
                "-trace_screen", "-screen_file", str(folder / "screen.log")]
        args += self._run_args()
        args += list(self.extra)
        if self.target:
            args.append(self.target)
        return args, folder

    def _scenario_args(self) -> list[str]:
        if isinstance(self.scenario, Path):
            return ["-sf", str(self.scenario)]
        if self.scenario not in BUILTIN:
            raise ValueError(f"unknown built-in scenario {self.scenario!r}; pass a Path for XML")
        return ["-sn", self.scenario]

    def _run_args(self) -> list[str]:
        options: list[tuple[str, object | None]] = [
            ("-m", self.calls), ("-r", self.rate), ("-rp", self.rate_period_ms),
            ("-l", self.limit), ("-s", self.service), ("-inf", self.inf),
            ("-au", self.auth_user), ("-ap", self.auth_password)]
        args = [item for flag, value in options if value is not None
                for item in (flag, str(value))]
        for name, value in self.variables.items():
            args += ["-key", name, value]
        return args

    def start(self) -> SippProcess:
        """Start SIPp in the background; see ``SippProcess``."""
        args, folder = self.prepare()
        with (folder / "stdout.log").open("wb") as out, (folder / "stderr.log").open("wb") as err:
            try:
                process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=err, cwd=folder)
            except OSError as exc:
                raise SippError(f"cannot run {args[0]}: {exc}") from exc
        return SippProcess(process, self.local_port, self.transport, folder, args)

    def run(self, timeout: float = 30.0) -> SippResult:
        """Run to the end (say, after ``calls``); kill SIPp and raise after ``timeout`` s."""
        return self.start().wait(timeout)


class SippProcess:
    """A running SIPp; a context manager that stops it on exit."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, transport: str,
                 workdir: Path, args: list[str]) -> None:
        self.process = process
        self.port = port
        self.transport = transport
        self.workdir = workdir
        self.args = args

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def uri(self, user: str = "service") -> str:
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:{user}@{self.address}{suffix}"

    def wait_ready(self, timeout: float = 5.0) -> SippProcess:
        """Wait until SIPp listens on its port (or fail with its output)."""
        deadline = time.monotonic() + timeout
        while not port_in_use(self.port, self.transport):
            if self.process.poll() is not None:
                raise SippError(f"sipp exited early:\n{self.result().summary()}")
            if time.monotonic() > deadline:
                self.kill()
                raise SippError(f"sipp not listening on {self.port} after {timeout} s")
            time.sleep(0.02)
        return self

    def stats(self) -> dict[str, str]:
        """The latest statistics row (SIPp rewrites them each second)."""
        return read_stats(self.workdir / "stat.csv")

    def stop(self, timeout: float = 8.0) -> SippResult:
        """Soft exit (SIGUSR1), killed after ``timeout`` s.

        SIPp lets ongoing calls end first, including the final ``timewait``
        of the scenario: 4 s for the built-in ``uas``, 0.5 s for ``UAS_SHORT``.
        A second SIGUSR1 would abort those calls but leaves SIPp 3.6 hanging,
        so it is not sent.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)
        return self.wait(timeout)

    def wait(self, timeout: float) -> SippResult:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            raise SippError(f"sipp still running after {timeout} s, killed:\n"
                            f"{self.result().summary()}") from exc
        return self.result()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def result(self) -> SippResult:
        stats = self.stats()
        code = self.process.returncode
        return SippResult(
            returncode=-1 if code is None else code,
            successful=_count(stats, "SuccessfulCall(C)"),
            failed=_count(stats, "FailedCall(C)"),
            created=_count(stats, "TotalCallCreated"),
            stats=stats, stdout=_read(self.workdir / "screen.log"),
            stderr=_read(self.workdir / "stderr.log"), errors=_read(self.workdir / "errors.log"),
            workdir=self.workdir)

    def __enter__(self) -> SippProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.process.poll() is None:
            try:
                self.stop()
            except SippError:
                self.kill()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def sipp_uas(port: int = 0, transport: str = "udp", calls: int | None = None,
             scenario: str | Path = "uas", ready_timeout: float = 5.0,
             **options: object) -> SippProcess:
    """Start a SIPp UAS on 127.0.0.1:``port`` (0: a free one), ready to take calls."""
    sipp = Sipp(scenario=scenario, local_port=port, transport=transport, calls=calls,
                **options)  # type: ignore[arg-type]
    return sipp.start().wait_ready(ready_timeout)
