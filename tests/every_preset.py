"""A project with one service of every installed preset (the list comes from the installed plugins, not from here),
brought up on one provider, and what its secrets and processes look like from outside."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path

from shop_project import ROOT, docker, labelled, remove_labelled
from omnitron.testing import unavailable

OMNITRON = [sys.executable, "-c", "from omnitron.cli import run; run()"]
TEST_CONFIG = {
    # presets whose default config does something this machine must not (tor reaching the network)
    "tor": {"controlPort": {"auth": "password"}, "testing": {"disableNetwork": True}},
}
"""Preset -> config to test it with (absent: its default config)."""
IMAGE_CONTRACT_ENV = {"POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD", "MINIO_ROOT_PASSWORD"}
"""Container env variables an official image's contract reads a password from (the README lists them)."""


def installed_presets() -> list[str]:
    from omnitron.plugins import default_manager

    return sorted(default_manager().presets)


def has_process_recipe(preset: str) -> bool:
    from omnitron.plugins import default_manager

    return default_manager().presets[preset].process_recipe() is not None


STAND_IN = {"mariadb": "mysql"}
"""Preset -> the ``.ci/images/<name>/`` stand-in it shares (the mysql stand-in is MariaDB, with the same contract)."""


def test_image(preset: str) -> str | None:
    """The local stand-in image of ``preset`` (``.ci/images/<preset>/tag``), if there is one."""
    tag = ROOT / ".ci" / "images" / STAND_IN.get(preset, preset) / "tag"
    return tag.read_text().strip() if tag.is_file() else None


def image_exists(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True, timeout=60).returncode == 0


class EveryPreset:
    def __init__(self, root: Path, provider: str) -> None:
        self.root, self.provider = root, provider
        self.name = f"every{uuid.uuid4().hex[:8]}"
        services: dict[str, dict] = {}
        overrides: dict[str, dict] = {}
        self.skipped: dict[str, str] = {}
        for preset in installed_presets():
            config = dict(TEST_CONFIG.get(preset, {}))
            if provider == "docker":
                image = test_image(preset)
                if image is None or not image_exists(image):
                    missing = f"preset {preset}: no local stand-in image ({image or f'.ci/images/{preset}/ has none'}; bash .ci/build-images.sh)"
                    if os.environ.get("OMNITRON_REQUIRE_SERVICES") == "1":
                        unavailable(missing)  # a failure where every server is required (CI)
                    self.skipped[preset] = missing  # elsewhere the other presets are still checked, and the skip printed
                    continue
                overrides[f"s-{preset}"] = {"docker": {"image": image}}  # a stack override: every preset takes it
            elif not has_process_recipe(preset):
                self.skipped[preset] = "no process recipe: it runs in a container only"
                continue
            services[f"s-{preset}"] = {"preset": preset, "config": config, "startupTimeout": 90_000}
        offset = random.randrange(10, 200) * 100
        eco = {"project": self.name, "infrastructure": {"services": services}, "stacks": {"dev": {"portOffsets": {name: offset + 7 * i for i, name in enumerate(sorted(services))}, "provider": provider, "serviceOverrides": overrides}}}
        (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        self.services = sorted(services)
        self.env = {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(root / ".user-config"), "OMNITRON_PROJECT": str(root)}
        self.env.pop("OMNITRON_PLUGINS", None)

    def __call__(self, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
        return subprocess.run([*OMNITRON, *args], capture_output=True, text=True, env=self.env, cwd=self.root, timeout=timeout, stdin=subprocess.DEVNULL)

    def up(self) -> None:
        result = self("infra", "up")
        assert result.returncode == 0, result.stdout + result.stderr

    def secrets(self) -> list[str]:
        """Every secret value the plan generated, read from the store."""
        from omnitron.project import Project
        from omnitron.secrets.resolve import backend_for

        os.environ["OMNITRON_SECRET_KEY"] = self.env["OMNITRON_SECRET_KEY"]
        os.environ["OMNITRON_CONFIG_DIR"] = self.env["OMNITRON_CONFIG_DIR"]
        project = Project.discover(self.root)
        plan = project.plan("dev")
        backend = backend_for(project)
        values = [backend.get(g.key) for svc in plan.services for g in svc.generated]
        assert values and all(values)
        return values

    def records(self) -> dict[str, dict]:
        from omnitron.state import StateStore

        with StateStore(self.root / ".omnitron") as state:
            return state.records("dev", "process")

    def containers(self) -> list[dict]:
        names = labelled("container", self.name)
        return json.loads(docker("inspect", *names)) if names else []

    def cleanup(self) -> None:
        self("infra", "down", "--volumes")
        if self.provider == "docker":
            remove_labelled(self.name)


def _process_table() -> dict[int, tuple[int, int]]:
    """Every live process (zombies left out): pid -> (parent pid, process group)."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                table[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return table


def service_pids(*, roots: list[int], pgids: tuple[int, ...] = ()) -> list[int]:
    """``roots``, every process in one of ``pgids``, and all their descendants, however deep.

    The process group alone is not enough: a PostgreSQL server's children
    (checkpointer, walwriter, every client backend) call ``setsid()`` and lead
    groups of their own; they are found as descendants of the server.
    """
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    groups = {g for g in pgids if g > 1}  # never 0 (kernel threads) or 1
    todo = [pid for pid in roots if pid in table] + [pid for pid, (_, pgid) in table.items() if pgid in groups]
    found: set[int] = set()
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return sorted(found)


def record_pids(rec: dict) -> list[int]:
    """Every process of a native service (its recorded pid and group, and their descendants)."""
    return service_pids(roots=[rec["pid"]], pgids=(rec["pgid"],))


def container_pids(data: dict) -> list[int]:
    """Every process of a running container (``docker inspect`` data), as host pids: its init and all descendants."""
    pid = (data.get("State") or {}).get("Pid") or 0
    return service_pids(roots=[pid]) if pid else []


def uid_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
