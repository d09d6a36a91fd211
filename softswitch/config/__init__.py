"""Softswitch configuration: one TOML file, validated at load (F-OPS-2).

``load_config(path)`` returns an immutable :class:`Config` or raises
:class:`ConfigError` whose ``errors`` list every problem as
``path.to.key: message``. ``load_demo_config()`` returns the shipped demo
configuration (loopback only). ``check_config_main(path)`` is the
``softswitch check-config`` command.
"""

from __future__ import annotations

from softswitch.config.calls import CallSettings
from softswitch.config.directory import Extension
from softswitch.config.errors import ConfigError, Issue
from softswitch.config.loader import (
    check_config_main,
    load_config,
    load_demo_config,
    parse_config,
    summary,
)
from softswitch.config.root import Config, DatabaseSettings
from softswitch.config.sip import Listener, RegistrarSettings, SipSettings
from softswitch.config.trunks import Trunk, TrunkNumber

__all__ = [
    "CallSettings",
    "Config",
    "ConfigError",
    "DatabaseSettings",
    "Extension",
    "Issue",
    "Listener",
    "RegistrarSettings",
    "SipSettings",
    "Trunk",
    "TrunkNumber",
    "check_config_main",
    "load_config",
    "load_demo_config",
    "parse_config",
    "summary",
]
