"""The ``softswitch`` command: ``run`` the switch, ``check-config`` a file."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

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
    prompts = commands.add_parser(
        "prompt", help="replace a greeting, announcement or the hold music (mono MP3, <= 2 MB)")
    prompts.add_argument("name", help="e.g. welcome, recording_notice, hold_music")
    prompts.add_argument("file", help="the MP3 to upload")
    prompts.add_argument("--language", help="only for this language (default: every language)")
    prompts.add_argument("--config", help="configuration file (default: the built-in demo)")
    prompts.add_argument("--sip-port", type=int, help=argparse.SUPPRESS)
    return parser


def _upload_prompt(args: argparse.Namespace) -> int:
    """Validate and install an uploaded prompt; a refusal keeps the old audio."""
    from media.prompts import PromptError, PromptStore

    config = _load(args)
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"softswitch: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        info = PromptStore(config.prompts_dir).upload(args.name, data, args.language)
    except PromptError as exc:
        print(f"refused: {exc.message}; the previous audio stays in use", file=sys.stderr)
        return 1
    print(f"{info.name}: {info.duration:.1f} s installed for "
          f"{info.language or 'every language'}")
    return 0


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
    if args.command == "prompt":
        try:
            return _upload_prompt(args)
        except ConfigError as exc:
            for line in exc.errors:
                print(line, file=sys.stderr)
            return 2
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
