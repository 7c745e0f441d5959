"""``config`` of ``{"preset": "tor"}``: the daemon's ports, its hidden services, extra torrc lines."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from omnitron.api import Port, PresetConfig

from .hardening import check_extra_line

HIDDEN_SERVICE_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
"""A hidden service's name: its key directory (``hs_<name>``) and ``${onion:<name>}``."""

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
TARGET = re.compile(rf"^(?:{_NAME}(?:/{_NAME})?(?::{_NAME})?|\[[0-9A-Fa-f:.]+\]:\d+)$")
"""``app``, ``app:port``, ``service:port`` (``web/db:main`` for an app's own), ``host:port`` or ``[v6]:port``."""


def _check_target(value: str) -> str:
    if not TARGET.match(value):
        raise ValueError(f"invalid target {value!r}: write an app name, service:port or host:port")
    host, _, port = value.rpartition(":")
    if host and port.isdigit() and not 1 <= int(port) <= 65535:
        raise ValueError(f"invalid target {value!r}: port {port} is out of range 1-65535")
    return value


class HiddenService(PresetConfig):
    """One onion service: ``virtualPort`` on the ``.onion`` address forwards to ``target``."""

    name: Annotated[str, Field(pattern=HIDDEN_SERVICE_NAME)]
    virtual_port: Port = Field(default=80, alias="virtualPort")
    """The port clients connect to on the ``.onion`` address."""
    target: Annotated[str, AfterValidator(_check_target)]
    """An app (its declared port), ``service:port`` (that service's host port) or ``host:port``."""


class ControlPortConfig(PresetConfig):
    """The control port: on 127.0.0.1, with a password from the secret store or a cookie file."""

    port: Port = 9051
    auth: Literal["password", "cookie"] = "password"
    """``password``: ``HashedControlPassword`` of the generated ``control_password`` secret;
    ``cookie``: ``CookieAuthentication`` with the cookie on the service's volume."""


class TestingConfig(PresetConfig):
    """Switches for tests only: never use them for a real service."""

    disable_network: bool = Field(default=False, alias="disableNetwork")
    """``DisableNetwork 1``: tor makes no connection (offline tests); hidden service keys are still made."""


class TorConfig(PresetConfig):
    """``config`` of ``{"preset": "tor"}``."""

    version: Annotated[str, Field(pattern=r"^[0-9][0-9.]*$")] | None = None
    """Tor version the image tag is built for (informational for native tor)."""
    image: Annotated[str, Field(min_length=1)] | None = None
    """Image with tor on PATH; the preset's default when absent."""
    socks: bool = False
    """Open a SOCKS port on 127.0.0.1 (apps get ``TOR_SOCKS_PROXY``); off by default."""
    socks_port: Port = Field(default=9050, alias="socksPort")
    control_port: bool | ControlPortConfig = Field(default=False, alias="controlPort")
    """``true`` or ``{port, auth}``: a control port on 127.0.0.1; off by default."""
    hidden_services: list[HiddenService] = Field(default=[], alias="hiddenServices")
    intro_dos_defense: bool = Field(default=True, alias="introDoSDefense")
    """``HiddenServiceEnableIntroDoSDefense 1`` on every hidden service."""
    pow_defense: bool = Field(default=True, alias="powDefense")
    """``HiddenServicePoWDefensesEnabled 1`` on every hidden service, where tor supports it."""
    extra_torrc: list[Annotated[str, AfterValidator(check_extra_line)]] = Field(default=[], alias="extraTorrc")
    """More torrc lines, checked against options that would undo the hardening."""
    testing: TestingConfig = TestingConfig()

    @field_validator("hidden_services")
    @classmethod
    def _unique_names(cls, services: list[HiddenService]) -> list[HiddenService]:
        seen: set[str] = set()
        for hs in services:
            if hs.name in seen:
                raise ValueError(f"hidden service {hs.name!r} is declared twice")
            seen.add(hs.name)
        return services

    @property
    def control(self) -> ControlPortConfig | None:
        """The control port's settings, or ``None`` when it is off."""
        if self.control_port is True:
            return ControlPortConfig()
        return self.control_port or None
