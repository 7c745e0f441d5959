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
    appendonly: bool = True
    """The append-only file: every acknowledged write is logged and replayed after a crash (on by default)."""
    appendfsync: Literal["always", "everysec", "no"] = "everysec"
    """When the append-only file reaches the disk: ``everysec`` loses at most the last second of writes to a crash,
    ``always`` none (slower), ``no`` whatever the kernel had not flushed yet."""
    reserved: list[Annotated[int, Field(ge=0)]] = []
    """DB indexes never handed to apps (used by something else, e.g. a gateway)."""


PASSWORD_TEMPLATE = "${redis_quoted_secret:password}"
"""The password as a quoted config value (:class:`~omnitron_redis.functions.QuotedSecretFunction`)."""


def quote(value: str) -> str:
    """A double-quoted config value (backslash escapes, as Redis parses them)."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable() or ord(ch) > 126:
            out.append("".join(f"\\x{b:02x}" for b in ch.encode()))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def server_settings(config: RedisConfig) -> list[tuple[str, str]]:
    """The server's config directives besides ``requirepass`` (the same for a container and a process)."""
    settings = [("databases", str(config.databases))]
    if config.maxmemory:
        settings.append(("maxmemory", config.maxmemory))
    if config.maxmemory_policy:
        settings.append(("maxmemory-policy", config.maxmemory_policy))
    settings += [("appendonly", "yes" if config.appendonly else "no"), ("appendfsync", config.appendfsync)]
    return settings


def server_conf(config: RedisConfig, *, password: str | None = PASSWORD_TEMPLATE) -> str:
    """The config text ``redis-server -`` reads on its stdin: ``requirepass`` (a template, or a value already
    quoted; none when ``None``), then :func:`server_settings`, each value quoted."""
    lines = [f"requirepass {password}"] if password is not None else []
    lines += [f"{name} {quote(value)}" for name, value in server_settings(config)]
    return "".join(line + "\n" for line in lines)


CONFIG_FILE = "/run/secrets/redis.conf"
"""Where a provider mounting secrets as files puts the config holding the password (``redis-server FILE``)."""


def secret_file_conf() -> str:
    """The config file such a provider mounts: only what must stay off a command line (the password)."""
    return f"requirepass {PASSWORD_TEMPLATE}\n"


def secret_file_command(config: RedisConfig) -> list[str]:
    """``redis-server FILE`` and every other setting as arguments (nothing secret), for a provider without stdin."""
    args = ["redis-server", CONFIG_FILE]
    for name, value in server_settings(config):
        args += [f"--{name}", value]
    return args
