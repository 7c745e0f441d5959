"""The files of a scaffolded provider package (``string.Template``: ``$name``, ``$module``, ``$Camel``, ``$distribution``)."""

from .common import INIT, PYPROJECT

DESCRIPTION = "The $name provider for omnitron."

PLUGIN = '''"""Hook implementations of $distribution (the ``$name`` entry point)."""

from omnitron import hookimpl


@hookimpl
def omnitron_add_providers():
    from .provider import ${Camel}Provider

    return [${Camel}Provider]
'''

PROVIDER = '''"""The ``$name`` provider: a service's ``process.command`` as a detached process, found again by its record.

A starting point: replace what ``ensure`` starts with what your platform runs.
It describes itself (class attributes) so omnitron's planner can choose it,
records what it started in its per-provider records (never guessing names),
and keeps each service's data in a directory of its own under the stack.
"""

import os
import shutil
import signal
import subprocess

from omnitron.api import ContainerState, ExecResult, Provider, describe_listeners, is_listening, poll_attempts


class _Detached(subprocess.Popen):
    """A service meant to outlive this process: no "still running" warning when the handle is dropped."""

    def __del__(self):
        pass


class ${Camel}Provider(Provider):
    name = "$name"
    runs_from = 'process'        # the part of a requirement it runs: ``process.command``
    assigns_host_ports = True    # host ports are this machine's: offsets and collisions apply
    manages_lifecycle = True     # down and reset stop and remove what it runs
    auto_priority = None         # only when a stack (or --provider) names it
    data_noun = "its data directory"

    def _data(self, name):
        return self.ctx.state_dir / "$name" / name.replace("/", "+")

    def _record(self, name):
        return self.ctx.state.get_record(self.ctx.stack, self.name, name)

    @staticmethod
    def _alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
        except OSError:
            return False

    def _state(self, name, rec):
        status = "running" if self._alive(rec["pid"]) else "exited"
        return ContainerState(name=name, image=rec["argv"][0], status=status, container_id=str(rec["pid"]),
                              ports=rec["ports"], provider=self.name, spec_hash=rec["spec_hash"])

    async def ensure(self, spec):
        svc = spec.service
        rec = self._record(svc.name)
        if rec is not None and rec["spec_hash"] == svc.spec_hash and self._alive(rec["pid"]):
            return self._state(svc.name, rec)
        await self.stop(svc.name)
        data = self._data(svc.name)
        data.mkdir(parents=True, exist_ok=True)
        argv = list(spec.command or svc.process.command)
        process = _Detached(argv, cwd=data, env={**os.environ, **spec.env}, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rec = {"pid": process.pid, "argv": argv, "spec_hash": svc.spec_hash, "ports": dict(svc.ports)}
        self.ctx.state.put_record(self.ctx.stack, self.name, svc.name, rec)
        return self._state(svc.name, rec)

    async def list_managed(self):
        return {name: self._state(name, rec) for name, rec in self.ctx.state.records(self.ctx.stack, self.name).items()}

    async def stop(self, name):
        rec = self._record(name)
        if rec is not None and self._alive(rec["pid"]):
            os.killpg(rec["pid"], signal.SIGTERM)
            async for _ in poll_attempts(10):
                if not self._alive(rec["pid"]):
                    break

    async def remove(self, name, *, volumes=False):
        await self.stop(name)
        self.ctx.state.delete_record(self.ctx.stack, self.name, name)
        if volumes:
            shutil.rmtree(self._data(name), ignore_errors=True)

    async def logs(self, name, *, follow=False, tail=None):
        yield f"{name}: the $name provider keeps no logs"

    async def exec(self, name, command, *, timeout=None, input=None):
        result = subprocess.run(command, cwd=self._data(name), input=input, capture_output=True, timeout=timeout)
        return ExecResult(result.returncode, (result.stdout + result.stderr).decode(errors="replace"))

    async def check_ports(self, services):
        problems = []
        for svc in services:
            rec = self._record(svc.name)
            if rec is not None and self._alive(rec["pid"]):
                continue  # held by our own service
            for port in svc.ports.values():
                if is_listening(port, svc.bind_address):
                    problems.append(f"port {port} (service {svc.name}) is already in use by {describe_listeners(port, svc.bind_address)}")
        return problems
'''

TEST = '''"""The $name provider under omnitron's provider contract suite, with real processes."""

import sys
import textwrap

import pytest

from omnitron.api import StateStore
from omnitron.testing import provider_context, render_runtime_spec
from omnitron.testing.contract import ContractSubject, ProviderContract

from ${module}.provider import ${Camel}Provider

SERVER = textwrap.dedent(
    """
    import pathlib, socket, sys
    pathlib.Path("started").write_text("started")
    server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    while True:
        server.accept()[0].close()
    """
)


class TestContract(ProviderContract):
    @pytest.fixture
    def contract(self, omnitron_project, omnitron_isolated):
        state = StateStore(omnitron_project.root / ".omnitron")
        holder = {}

        def make_spec(name, port, variant):
            service = {"ports": {"main": port}, 'process': {"command": [sys.executable, "-c", SERVER, "$${port:main}"], "env": {"V": str(variant)}}}
            project = omnitron_project.write({"infrastructure": {"services": {name: service}}, "stacks": {"dev": {"provider": "$name"}}})
            holder["project"] = project
            return render_runtime_spec(project.plan().service(name), project.plugins, lambda key: "")

        def open_provider(stack):
            return ${Camel}Provider(provider_context(holder["project"], stack, state=state))

        yield ContractSubject(open_provider=open_provider, make_spec=make_spec)
        state.close()
'''

README = """# $distribution

The `$name` provider for [omnitron](https://pypi.org/project/omnitron/): a stack names it.

```toml
[stacks.dev]
provider = "$name"
```

Test it: `pip install -e .[test] && pytest` (the provider contract suite of `omnitron.testing.contract`).
"""

FILES = {
    "pyproject.toml": PYPROJECT.replace("$DESCRIPTION", DESCRIPTION),
    "README.md": README,
    "src/$module/__init__.py": INIT.replace("$DESCRIPTION", DESCRIPTION),
    "src/$module/plugin.py": PLUGIN,
    "src/$module/provider.py": PROVIDER,
    "tests/test_provider.py": TEST,
}
