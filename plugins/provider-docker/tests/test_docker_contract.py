"""The provider contract suite (omnitron.testing.contract) against a real Docker engine."""

from __future__ import annotations

import pytest

from docker_testlib import REDIS_IMAGE, Sandbox
from omnitron.testing.contract import ContractSubject, ProviderContract

from omnitron_provider_docker import DockerProvider

pytestmark = pytest.mark.docker

SERVICE = """
[infrastructure.services.{name}]
ports = {{ main = {port} }}
[infrastructure.services.{name}.docker]
image = "{image}"
command = ["sh", "-c", "echo started > /data/started && exec redis-server --port 6379 --save ''"]
env = {{ VARIANT = "{variant}" }}
volumes = [{{ source = "data", target = "/data" }}]
ports = {{ main = 6379 }}
"""


class TestDockerContract(ProviderContract):
    @pytest.fixture
    def contract(self, sandbox: Sandbox) -> ContractSubject:
        def make_spec(name: str, port: int, variant: int):
            sandbox.write(SERVICE.format(name=name, port=port, image=REDIS_IMAGE, variant=variant))
            return sandbox.spec(name)

        return ContractSubject(
            open_provider=lambda stack: DockerProvider(sandbox.context(stack)),
            make_spec=make_spec,
            started_file="/data/started",
            marker_file="/data/marker",
        )
