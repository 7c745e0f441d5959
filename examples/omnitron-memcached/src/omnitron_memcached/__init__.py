"""A memcached preset: ``{"preset": "memcached", "config": {"memory": 128}}``."""

from omnitron import hookimpl
from omnitron.api import DockerServiceConfig, Port, Preset, PresetConfig, ServiceRequirement


class MemcachedConfig(PresetConfig):
    port: Port = 11211
    memory: int = 64
    """Megabytes of item memory (``-m``)."""


class MemcachedPreset(Preset):
    name = "memcached"
    service_type = "cache"
    config_model = MemcachedConfig

    def expand(self, config, ctx):
        return ServiceRequirement(
            ports={"main": config.port},
            env={"MEMCACHED_URL": "memcache://${host}:${port:main}"},
            docker=DockerServiceConfig(image="memcached:1.6", command=["memcached", "-m", str(config.memory)], ports={"main": 11211}),
        )


@hookimpl
def omnitron_add_presets():
    return [MemcachedPreset]
