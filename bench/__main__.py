"""Benchmark suites against a real ``softswitch run`` (F-OPS-6).

Run: ``python -m bench [suite …] [--quick] [--out DIR]``. With no suite
named, all run. One JSON file per run (machine, versions, every step's
figures) and one PNG per suite are written to DIR (``bench/results``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, write_report
from bench.harness import Context
from bench.peers import peer_versions
from bench.plot import plot_suite
from bench.sippctl import sipp_version
from bench.suites import PLANNED, SUITES


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("suites", nargs="*", help=f"among {', '.join(SUITES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smallest form, < 1 min a suite")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument("--keep", action="store_true", help="keep the SIPp and switch files")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    names = args.suites or list(SUITES)
    for name in names:
        if name in PLANNED:
            print(f"{name}: not available yet ({PLANNED[name]})", file=sys.stderr)
            return 2
        if name not in SUITES:
            print(f"unknown suite {name!r}; known: {', '.join(SUITES)}", file=sys.stderr)
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    ctx = Context(workdir, args.quick)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    versions = {"sipp": sipp_version(), **peer_versions()}
    report: dict[str, Any] = {"quick": args.quick, "versions": versions,
                              "workdir": str(workdir), "suites": {}}
    for name in names:
        began = time.monotonic()
        figures = SUITES[name](ctx)
        figures["seconds"] = round(time.monotonic() - began, 1)
        report["suites"][name] = figures
        png = plot_suite(name, figures, args.out / f"{name}{'-quick' if args.quick else ''}.png")
        figures["plot"] = str(png)
        print(f"{name}: ceiling {figures['systems']['softswitch']['ceiling']} "
              f"{figures['unit']} ({figures['seconds']} s)", file=sys.stderr)
    path = write_report("suites", report, args.out / f"suites-{stamp}.json")
    print(path)
    if not args.keep:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
