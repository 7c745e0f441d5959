"""Hook implementations of omnitron-redis (the ``redis`` entry point)."""

from __future__ import annotations

from omnitron import hookimpl


@hookimpl
def omnitron_add_presets():
    from omnitron.api import LazyClass

    # imported when a plan needs it: listing plugins or commands loads no config models
    return [LazyClass("redis", "omnitron_redis.preset:RedisPreset")]


@hookimpl
def omnitron_add_health_probes():
    from omnitron.api import LazyClass

    return [LazyClass("redis", "omnitron_redis.probe:RedisProbe")]


@hookimpl
def omnitron_add_template_functions():
    from omnitron.api import LazyClass

    return [LazyClass("redis_quoted_secret", "omnitron_redis.functions:QuotedSecretFunction")]


@hookimpl
def omnitron_add_commands():
    from omnitron.api import CommandSpec

    return [CommandSpec(name="redis-cli", target="omnitron_redis.cli:redis_cli", group="infra", help="Open redis-cli against the managed Redis.")]
