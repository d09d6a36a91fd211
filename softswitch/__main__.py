"""The ``softswitch`` command: ``run`` the switch, ``check-config`` a file."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from softswitch.config import Config, ConfigError, check_config_main, load_config, load_demo_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="softswitch", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the softswitch")
    run.add_argument("--config", help="configuration file (default: the built-in demo)")
    run.add_argument("--sip-port", type=int, help="override the port of every SIP listener")
    run.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING …")
    check = commands.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file")
    return parser


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else load_demo_config()
    if args.sip_port is not None:
        config = config.with_sip_port(args.sip_port)
    return config


async def _run(config: Config) -> None:
    from sipstack.transport import tune_gc
    from softswitch.app import Softswitch

    switch = Softswitch(config)
    await switch.start()
    tune_gc()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await switch.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check-config":
        return check_config_main(args.file)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = _load(args)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 2
    from sipstack.transport import install_uvloop

    install_uvloop()
    try:
        asyncio.run(_run(config))
    except OSError as exc:
        print(f"softswitch: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
