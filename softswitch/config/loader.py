"""Reading a configuration file: TOML (v1.0, ``tomllib``) in, a validated :class:`Config` out.

Syntax errors are reported with their line and column; everything else is
reported by :class:`Config` as ``path.to.key: message`` lines. The demo
configuration ships inside the package as ``demo.toml``.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from importlib import resources

from softswitch.config.errors import ConfigError, Issue
from softswitch.config.root import Config

__all__ = ["DEMO_CONFIG_NAME", "check_config_main", "load_config", "load_demo_config",
           "parse_config", "summary"]

#: File name of the demo configuration inside the ``softswitch.config`` package.
DEMO_CONFIG_NAME = "demo.toml"

_POSITION = re.compile(r"^(?P<what>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def parse_config(text: str, *, source: str = "<config>") -> Config:
    """Validate the TOML document ``text``; ``source`` names it in syntax errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_issue(exc, source)]) from None
    return Config.from_data(data)


def _syntax_issue(exc: tomllib.TOMLDecodeError, source: str) -> Issue:
    match = _POSITION.match(str(exc))
    if match is None:
        return Issue(source, f"TOML syntax error: {exc}")
    return Issue(
        source,
        f"TOML syntax error at line {match['line']}, column {match['column']}: {match['what']}",
    )


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate the configuration file at ``path``; raises :class:`ConfigError`."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise ConfigError([Issue(name, f"cannot read the file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Issue(name, f"not UTF-8 text (byte {exc.start})")]) from None
    return parse_config(text, source=name)


def load_demo_config() -> Config:
    """The demo configuration shipped with the package (loopback only, public passwords)."""
    text = resources.files(__package__ or "softswitch.config").joinpath(DEMO_CONFIG_NAME)
    return parse_config(text.read_text(encoding="utf-8"), source=DEMO_CONFIG_NAME)


def summary(config: Config) -> str:
    """One line describing a valid configuration."""
    listeners = ", ".join(str(listener) for listener in config.sip.listeners)
    dids = sum(len(trunk.numbers) for trunk in config.trunks)
    parts = [
        f"listening on {listeners}",
        f"domain {config.sip.realm}",
        _count(len(config.extensions), "extension"),
        _count(len(config.trunks), "trunk"),
        _count(dids, "DID"),
        f"database {config.database_url}",
    ]
    return ("demo configuration: " if config.demo else "configuration: ") + "; ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def check_config_main(path: str) -> int:
    """``softswitch check-config FILE``: print every error (stderr) or a summary (stdout).

    Returns the process exit code: 0 when the configuration is valid, 1 otherwise.
    """
    try:
        config = load_config(path)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        print(f"{path}: {_count(len(exc.errors), 'error')}", file=sys.stderr)
        return 1
    print(f"{path}: valid {summary(config)}")
    return 0
