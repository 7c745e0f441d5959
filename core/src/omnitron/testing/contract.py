"""The provider contract suite: what every provider must do, run by each provider package against the real thing.

A provider package subclasses :class:`ProviderContract` in its tests and gives
it one fixture, ``contract``, yielding a :class:`ContractSubject`: how to open
its provider for a stack, and how to make the runtime spec of a small service
(``make_spec(name, port, variant)``) that

- listens on TCP ``port`` on 127.0.0.1 once it runs;
- writes the word ``started`` to :attr:`ContractSubject.started_file` when it starts,
  where it keeps its data (a volume, a data directory);
- differs in its spec hash for each ``variant``.

::

    from omnitron.testing.contract import ContractSubject, ProviderContract

    class TestContract(ProviderContract):
        @pytest.fixture
        async def contract(self, tmp_path):
            yield ContractSubject(open_provider=..., make_spec=..., started_file="/data/started")

The suite checks: a second ensure changes nothing; a changed spec recreates the
service; what a provider manages is found again by identity (by a new
provider instance, never by another stack's); removing with volumes deletes
the data and without them keeps it; exec runs where the service runs, with
``input`` on the command's stdin (``exec(name, command, input=b"...")``); a host
port held by something else is reported before anything starts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import pytest

from .. import poll
from ..hostports import free_port
from ..providers import Provider, RuntimeSpec

@dataclass
class ContractSubject:
    """What a provider package hands the contract suite."""

    open_provider: Callable[[str], AbstractAsyncContextManager[Provider]]
    """``open_provider(stack)``: a new provider instance for this project's ``stack`` (``async with``)."""
    make_spec: Callable[[str, int, int], RuntimeSpec]
    """``make_spec(service, port, variant)``: the runtime spec of the small service described above."""
    started_file: str = "started"
    """Where the service writes ``started``, as a command run by ``exec`` names it."""
    marker_file: str = "marker"
    """A file the suite writes with ``exec`` next to the service's data (deleted with its volumes)."""


async def _running(provider: Provider, spec: RuntimeSpec) -> str:
    state = await provider.ensure(spec)
    assert state.status == "running", state
    assert state.container_id, state
    return state.container_id


@pytest.mark.anyio
class ProviderContract:
    """Subclass with a ``contract`` fixture yielding a :class:`ContractSubject`."""

    async def _exec_ok(self, provider: Provider, name: str, shell: str) -> str:
        result = await provider.exec(name, ["sh", "-c", shell], timeout=30)
        assert result.exit_code == 0, result.output
        return result.output

    async def test_second_ensure_changes_nothing(self, contract: ContractSubject) -> None:
        spec = contract.make_spec("svc", free_port(), 0)
        async with contract.open_provider("dev") as provider:
            first = await _running(provider, spec)
            second = await provider.ensure(spec)
            assert (second.status, second.container_id, second.spec_hash) == ("running", first, spec.service.spec_hash)
            assert list(await provider.list_managed()) == ["svc"]
            await provider.remove("svc", volumes=True)

    async def test_changed_spec_recreates_the_service(self, contract: ContractSubject) -> None:
        port = free_port()
        first, second = contract.make_spec("svc", port, 0), contract.make_spec("svc", port, 1)
        assert first.service.spec_hash != second.service.spec_hash
        async with contract.open_provider("dev") as provider:
            before = await _running(provider, first)
            after = await _running(provider, second)
            assert after != before
            managed = await provider.list_managed()
            assert list(managed) == ["svc"] and managed["svc"].spec_hash == second.service.spec_hash
            await provider.remove("svc", volumes=True)

    async def test_managed_services_are_found_by_identity(self, contract: ContractSubject) -> None:
        spec = contract.make_spec("svc", free_port(), 0)
        async with contract.open_provider("dev") as provider:
            ident = await _running(provider, spec)
        try:
            async with contract.open_provider("dev") as again:
                found = (await again.list_managed()).get("svc")
                assert found is not None and (found.container_id, found.status, found.spec_hash) == (ident, "running", spec.service.spec_hash)
            async with contract.open_provider("other-stack") as other:
                assert "svc" not in await other.list_managed()
        finally:
            async with contract.open_provider("dev") as provider:
                await provider.remove("svc", volumes=True)

    async def test_remove_with_volumes_deletes_data(self, contract: ContractSubject) -> None:
        spec = contract.make_spec("svc", free_port(), 0)
        marker = contract.marker_file
        async with contract.open_provider("dev") as provider:
            await _running(provider, spec)
            await self._exec_ok(provider, "svc", f"echo kept > {marker}")
            await provider.stop("svc")
            await provider.remove("svc")
            assert "svc" not in await provider.list_managed()
            await _running(provider, spec)
            assert "kept" in await self._exec_ok(provider, "svc", f"cat {marker}")
            await provider.stop("svc")
            await provider.remove("svc", volumes=True)
            await _running(provider, spec)
            assert "gone" in await self._exec_ok(provider, "svc", f"test -e {marker} && echo there || echo gone")
            await provider.remove("svc", volumes=True)

    async def test_exec_runs_where_the_service_runs(self, contract: ContractSubject) -> None:
        spec = contract.make_spec("svc", free_port(), 0)
        async with contract.open_provider("dev") as provider:
            await _running(provider, spec)
            output = ""
            async for _ in poll.attempts(10, first=0.02, cap=0.2):  # the service writes the file as it starts
                output = (await provider.exec("svc", ["sh", "-c", f"cat {contract.started_file} 2>/dev/null || true"], timeout=30)).output
                if "started" in output:
                    break
            assert "started" in output
            failed = await provider.exec("svc", ["sh", "-c", "exit 3"], timeout=30)
            assert failed.exit_code == 3
            await provider.remove("svc", volumes=True)

    async def test_exec_feeds_input_to_the_command(self, contract: ContractSubject) -> None:
        spec = contract.make_spec("svc", free_port(), 0)
        data = bytes(range(256)) * 1024 + b"end"  # binary, larger than a pipe buffer
        async with contract.open_provider("dev") as provider:
            await _running(provider, spec)
            counted = await provider.exec("svc", ["sh", "-c", "wc -c"], timeout=30, input=data)
            assert counted.exit_code == 0 and counted.output.split()[0] == str(len(data)), counted.output
            echoed = await provider.exec("svc", ["cat"], timeout=30, input="é ok\n".encode())
            assert echoed.output == "é ok\n"
            empty = await provider.exec("svc", ["sh", "-c", "wc -c"], timeout=30, input=b"")
            assert empty.output.split()[0] == "0"
            none = await provider.exec("svc", ["sh", "-c", "cat; echo done"], timeout=30)  # no input: stdin is at its end, nothing hangs
            assert none.output.strip() == "done"
            await provider.remove("svc", volumes=True)

    async def test_a_port_squatter_is_reported(self, contract: ContractSubject) -> None:
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", 0))
            squatter.listen()
            port = squatter.getsockname()[1]
            spec = contract.make_spec("svc", port, 0)
            async with contract.open_provider("dev") as provider:
                problems = await provider.check_ports([spec.service])
        assert problems and any(str(port) in p and "svc" in p for p in problems), problems
