"""``config`` of ``{"preset": "openresty"}`` (and of the legacy ``infrastructure.gateway`` key)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from omnitron.api import Port, PresetConfig


class GatewayRedis(PresetConfig):
    """``"redis": {"service": NAME}``: which Redis service, when the ecosystem declares several."""

    service: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] | None = None


class OpenrestyConfig(PresetConfig):
    """``config`` of ``{"preset": "openresty"}``."""

    config_dir: Annotated[str, Field(min_length=1)] | None = Field(default=None, alias="configDir")
    """The operator's nginx files (``*.conf`` at ``http`` level, ``*.main`` at the top), relative to the project;
    mounted read-only. Without one, a generated server routes ``/<app>/`` to each app."""
    port: Port = 8080
    """The ``http`` port on 127.0.0.1 (the stack's ``bindAddress``); offsets applied."""
    image: Annotated[str, Field(min_length=1)] | None = None
    """Image following the official ``openresty/openresty`` contract; the preset's pinned default when absent."""
    version: Annotated[str, Field(pattern=r"^[0-9][0-9.]*(-[0-9a-z.-]+)?$")] | None = None
    """OpenResty version (the image tag ``<version>-alpine``); informational for a native gateway."""
    redis: bool | GatewayRedis = False
    """``true``: the gateway gets a Redis DB index of its own (never an app's) and ``REDIS_URL`` in its env."""

    @field_validator("config_dir")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("~"):
            raise ValueError("configDir must be absolute or relative to the project (no ~)")
        return value
