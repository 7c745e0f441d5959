"""The provider contract suite (omnitron.testing.contract) with real native processes."""

from __future__ import annotations

import sys
import textwrap

import pytest

from omnitron.testing.contract import ContractSubject, ProviderContract

SERVER = textwrap.dedent(
    """
    import pathlib, socket, sys
    pathlib.Path("started").write_text("started")
    server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    while True:
        server.accept()[0].close()
    """
)


class TestProcessContract(ProviderContract):
    @pytest.fixture
    def contract(self, env) -> ContractSubject:
        def make_spec(name: str, port: int, variant: int):
            service = {"ports": {"main": port}, "process": {"command": [sys.executable, "-c", SERVER, "${port:main}"], "env": {"VARIANT": str(variant)}}}
            env.write({"infrastructure": {"services": {name: service}}})
            return env.runtime_spec(name)

        return ContractSubject(open_provider=env.provider, make_spec=make_spec)
