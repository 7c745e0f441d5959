"""The ``redis`` preset's config and the server arguments it becomes (the same for a container and a process)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from omnitron.api import Port, PresetConfig

DEFAULT_VERSION = "7"

Policy = Literal[
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
]


class RedisConfig(PresetConfig):
    """``config`` of ``{"preset": "redis"}``."""

    version: Annotated[str, Field(pattern=r"^[0-9][0-9.]*(-[a-z0-9]+)?$")] | None = None
    image: Annotated[str, Field(min_length=1)] | None = None
    port: Port = 6379
    maxmemory: Annotated[str, Field(pattern=r"^\d+(b|kb|mb|gb|k|m|g)?$")] | None = None
    """``256mb``; no limit when absent."""
    maxmemory_policy: Policy | None = Field(default=None, alias="maxmemoryPolicy")
    databases: Annotated[int, Field(ge=1, le=1024)] = 16
    """How many DB indexes the server has (apps get one each)."""
    appendonly: bool = False
    reserved: list[Annotated[int, Field(ge=0)]] = []
    """DB indexes never handed to apps (used by something else, e.g. a gateway)."""


CONFIG_FILE = "/run/secrets/redis.conf"
"""Where a provider mounting secrets as files puts the config holding the password (``redis-server FILE``)."""


def config_file(password: str = "${secret:password}") -> str:
    """The config file holding what must not be on a command line (the password)."""
    return f"requirepass {password}\n"


def server_args(config: RedisConfig, *, password: str | None = "${secret:password}") -> list[str]:
    """Arguments after ``redis-server`` (the same for a container and a process); ``password=None``: without it
    (it comes from :func:`config_file`)."""
    args = ["--requirepass", password] if password is not None else []
    args += ["--databases", str(config.databases)]
    if config.maxmemory:
        args += ["--maxmemory", config.maxmemory]
    if config.maxmemory_policy:
        args += ["--maxmemory-policy", config.maxmemory_policy]
    if config.appendonly:
        args += ["--appendonly", "yes"]
    return args
