"""The ``openresty`` preset: an API gateway (type ``gateway``) from your nginx config and generated upstream maps."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from omnitron.api import DockerServiceConfig, ExpandContext, HealthCheck, Preset, ProcessConfig, ServiceRequirement, VolumeMount

from .config import GatewayRedis, OpenrestyConfig
from .generator import HEALTH_PATH
from .layout import GENERATED, OPERATOR, OPTION_CONFIG_DIR, OPTION_FILES_DIR, layout_of

DEFAULT_VERSION = "1.27.1.2"
DEFAULT_IMAGE = f"openresty/openresty:{DEFAULT_VERSION}-0-alpine"
"""The official image, pinned: nginx.conf at /usr/local/openresty/nginx/conf/, /etc/nginx/conf.d/*.conf included, logs to
stdout/stderr, ``openresty`` on PATH. Tests use the local stand-in ``omnitron-test/openresty`` (same contract)."""


class OpenrestyPreset(Preset):
    name = "openresty"
    service_type = "gateway"
    config_model = OpenrestyConfig

    def expand(self, config: OpenrestyConfig, ctx: ExpandContext) -> ServiceRequirement:
        config_dir = posixpath.normpath(posixpath.join(ctx.project_dir, config.config_dir)) if config.config_dir else None
        volumes = [VolumeMount(source=ctx.files_dir, target=GENERATED, type="bind", read_only=True)]
        if config_dir is not None:
            volumes.append(VolumeMount(source=config_dir, target=OPERATOR, type="bind", read_only=True))
        image = config.image or (f"openresty/openresty:{config.version}-alpine" if config.version else DEFAULT_IMAGE)
        return ServiceRequirement(
            description="OpenResty gateway",
            type="gateway",
            ports={"http": config.port},
            env={"GATEWAY_URL": "http://${host}:${port:http}"},
            health_check=HealthCheck.model_validate({"http": {"path": HEALTH_PATH, "port": "http"}, "timeout": 5000}),
            docker=DockerServiceConfig.model_validate({
                "image": image,
                "command": ["openresty", "-c", f"{GENERATED}/nginx.conf"],
                "volumes": volumes,
                # nginx reaches apps `omnitron run` starts on the host's 127.0.0.1, and listens there itself
                "network": {"name": "host"},
                "ports": {"http": 80},
            }),
            process=ProcessConfig(recipe=self.name, options={OPTION_CONFIG_DIR: config_dir, OPTION_FILES_DIR: ctx.files_dir}),
            version=config.version,
        )

    def shorthands(self, config: OpenrestyConfig) -> dict[str, Any]:
        if config.redis is False:
            return {}
        return {"redis": {"service": config.redis.service} if isinstance(config.redis, GatewayRedis) and config.redis.service else True}

    def watched_paths(self, service: Any) -> list[Path]:
        """The operator's ``configDir``. Not the generated files: whoever rewrites them (``infra up``, ``omnitron run``
        when an app moved, :meth:`maintain` itself) applies them at once, and a watch on them would only echo that."""
        config_dir = layout_of(service).config_dir
        return [config_dir] if config_dir is not None else []

    async def materialise(self, service: Any) -> None:
        from .runtime import materialise

        await materialise(service)

    async def maintain(self, service: Any) -> None:
        from .runtime import maintain

        await maintain(service)

    def process_recipe(self) -> Any:
        from .native import OpenrestyRecipe

        return OpenrestyRecipe()
