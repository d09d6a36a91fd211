"""The whole configuration: one TOML document, validated into an immutable :class:`Config`.

Sections live in their own modules (``sip``, ``calls``, ``directory``,
``trunks``, ``routing``, ``clients``); the cross-key rules in ``checks``.
Validating a :class:`Config` runs both, and raises :class:`ConfigError` listing every problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from softswitch.config.calls import CallSettings
from softswitch.config.checks import run_rules
from softswitch.config.clients import Client, client_rules
from softswitch.config.directory import Extension
from softswitch.config.errors import ConfigError, Issue, issues_from_validation
from softswitch.config.media import MediaSettings, RecordingSettings
from softswitch.config.routing import RoutingSettings
from softswitch.config.sip import RegistrarSettings, SipSettings
from softswitch.config.trunks import Trunk
from softswitch.config.types import Flag, Port, Section, TrunkName
from softswitch.routing.clients import StaticClients

__all__ = ["Config", "DatabaseSettings"]

_PORT: TypeAdapter[int] = TypeAdapter(Port)


class DatabaseSettings(Section):
    """Where call details and runtime state are stored."""

    url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy database URL, e.g. 'postgresql+psycopg://user@host/db'; "
            "'sqlite:///<data_dir>/softswitch.db' when unset."
        ),
    )

    @field_validator("url")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                make_url(value)
            except ArgumentError:
                raise ValueError(f"not a database URL: {value!r}") from None
        return value


class Config(Section):
    """The softswitch configuration. Build it with :meth:`from_data` or ``load_config``."""

    demo: Flag = Field(
        default=False,
        description="Marks the shipped demo configuration, whose passwords are public.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the database and recordings, relative to the working directory.",
    )
    default_outbound_trunk: TrunkName | None = Field(
        default=None,
        description=(
            "Trunk for external calls of extensions without their own outbound_trunk; "
            "must allow outbound calls. Unset: such extensions cannot call out."
        ),
    )
    sip: SipSettings = Field(description="SIP identity and listeners.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    calls: CallSettings = Field(default_factory=CallSettings)
    registrar: RegistrarSettings = Field(default_factory=RegistrarSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    recording: RecordingSettings = Field(default_factory=RecordingSettings)
    extensions: tuple[Extension, ...] = Field(default=(), description="Employees' extensions.")
    trunks: tuple[Trunk, ...] = Field(default=(), description="Lines to operators.")
    routing: RoutingSettings = Field(
        default_factory=RoutingSettings,
        description="Plans for incoming calls per number or trunk (F-ROUTE-2..9).",
    )
    clients: tuple[Client, ...] = Field(
        default=(),
        description="Known callers and the employee responsible for each (F-ROUTE-4).",
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        issues = run_rules(self) + list(client_rules(self))
        if issues:
            raise ConfigError(issues)
        return self

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Config:
        """Validate parsed TOML; raises :class:`ConfigError` listing every problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(issues_from_validation(exc, cls)) from None

    @property
    def media_host(self) -> str:
        """Where RTP is anchored."""
        return self.media.host or self.sip.listeners[0].host

    @property
    def prompts_dir(self) -> Path:
        return self.media.prompts_dir or self.data_dir / "prompts"

    @property
    def recordings_dir(self) -> Path:
        return self.recording.directory or self.data_dir / "recordings"

    @property
    def database_url(self) -> str:
        """The database URL in effect."""
        if self.database.url is not None:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'softswitch.db').as_posix()}"

    @cached_property
    def _extensions_by_number(self) -> dict[str, Extension]:
        return {extension.number: extension for extension in self.extensions}

    @cached_property
    def _trunks_by_name(self) -> dict[str, Trunk]:
        return {trunk.name: trunk for trunk in self.trunks}

    @cached_property
    def client_directory(self) -> StaticClients:
        """The built-in client directory: ``[[clients]]`` (F-ROUTE-4)."""
        return StaticClients((client.number, client.owner) for client in self.clients)

    def extension(self, number: str) -> Extension | None:
        """The extension with this number, enabled or not."""
        return self._extensions_by_number.get(number)

    def trunk(self, name: str) -> Trunk | None:
        """The trunk with this name."""
        return self._trunks_by_name.get(name)

    def outbound_trunk_for(self, extension: Extension) -> Trunk | None:
        """The line an extension's external calls leave through (F-OUT-1), if any."""
        name = extension.outbound_trunk or self.default_outbound_trunk
        return None if name is None else self.trunk(name)

    def max_call_duration_for(self, trunk: Trunk | None) -> float:
        """Seconds a call on ``trunk`` (None: internal call) may last (F-ROUTE-10)."""
        if trunk is not None and trunk.max_call_duration is not None:
            return trunk.max_call_duration
        return self.calls.max_call_duration

    def with_sip_port(self, port: int) -> Config:
        """A copy where every listener uses ``port`` (the ``--sip-port`` option)."""
        try:
            port = _PORT.validate_python(port)
        except ValidationError as exc:
            raise ConfigError([Issue("--sip-port", exc.errors()[0]["msg"])]) from None
        data = self.model_dump(by_alias=True)
        for listener in data["sip"]["listeners"]:
            listener["port"] = port
        return Config.from_data(data)
