"""The ``tor`` preset: a hardened tor daemon with hidden services (type ``daemon``)."""

from __future__ import annotations

from typing import Any, ClassVar

from omnitron.api import Credential, DockerServiceConfig, ExpandContext, HealthCheck, Preset, ServiceRequirement, VolumeMount

from .config import TorConfig
from .torrc import DATA_ROOT, command_args, torrc_lines

DEFAULT_IMAGE = "osminogin/tor-simple:0.4.9.14"
"""The Tor Project publishes no image. This one (Alpine's tor) has tor and sh on PATH, runs as the user ``tor``
owning ``/var/lib/tor`` (a volume); its torrc (SOCKS on 0.0.0.0) and its HEALTHCHECK (through the SOCKS port,
to the internet) are not used. ``config.image`` points elsewhere (the test stand-in is ``omnitron-test/tor``)."""


class TorPreset(Preset):
    name = "tor"
    service_type = "daemon"
    config_model = TorConfig
    credentials: ClassVar[dict[str, Credential]] = {"control_password": Credential(length=32)}
    """Used when the control port is on with password auth."""

    def expand(self, config: TorConfig, ctx: ExpandContext) -> ServiceRequirement:
        ports: dict[str, int] = {}
        env: dict[str, str] = {}
        if config.socks:
            ports["socks"] = config.socks_port
            env["TOR_SOCKS_PROXY"] = "socks5h://127.0.0.1:${port:socks}"
        control = config.control
        if control is not None:
            ports["control"] = control.port
            env["TOR_CONTROL_PORT"] = "${port:control}"
            if control.auth == "password":
                env["TOR_CONTROL_PASSWORD"] = "${secret:control_password}"
        return ServiceRequirement(
            description="Tor",
            type="daemon",
            ports=ports,
            env=env,
            health_check=HealthCheck.model_validate({"tor": {}, "timeout": 5000}),
            docker=DockerServiceConfig.model_validate(
                {
                    "image": config.image or DEFAULT_IMAGE,
                    "entrypoint": ["tor"],
                    "command": command_args(torrc_lines(config)),
                    "env": {"TOR_DATA_DIR": DATA_ROOT},
                    "volumes": [VolumeMount(source="data", target=DATA_ROOT)],
                    # the image's own check goes through a SOCKS port this torrc does not open: omnitron probes instead
                    "healthCheck": {"test": ["NONE"]},
                    # tor forwards to apps on the host's 127.0.0.1 and listens there itself
                    "network": {"name": "host"},
                }
            ),
            version=config.version,
        )

    async def prepare(self, service: Any) -> dict[str, str]:
        """Record every hidden service's hostname as the fact ``onion:<name>``."""
        from .runtime import hostname_facts

        return await hostname_facts(service)

    def process_recipe(self) -> Any:
        from .process import TorRecipe

        return TorRecipe()
