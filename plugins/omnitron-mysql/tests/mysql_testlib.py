"""Helpers of the mysql preset's tests: throwaway projects driven through the omnitron CLI, real servers.

Every server is real: Debian's MariaDB run by the process provider, or the
``omnitron-test/mysql:8.4`` stand-in image run by the docker provider.
Connections from the tests go through PyMySQL with the credentials omnitron
hands the apps (``DATABASE_URL``) or reads from its secret store.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql

from omnitron.testing import ProjectFactory

IMAGE = "omnitron-test/mysql:8.4"
PROVIDERS = ("process", "docker")
ACCESS_DENIED = (1044, 1045)
"""``ER_DBACCESS_DENIED_ERROR`` (no rights on that database), ``ER_ACCESS_DENIED_ERROR`` (bad login)."""


def connect_url(url: str, **kwargs: Any) -> pymysql.Connection:
    """Connect with a ``mysql://USER:PASS@HOST:PORT/DB`` URL as an app would (its parts percent-decoded)."""
    parts = urlsplit(url)
    assert parts.scheme == "mysql", url
    return pymysql.connect(
        host=parts.hostname, port=parts.port, user=unquote(parts.username or ""),
        password=unquote(parts.password or "").encode(), database=unquote(parts.path.lstrip("/")) or None,
        connect_timeout=10, autocommit=True, **kwargs,
    )


def query(conn: pymysql.Connection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, args or None)
        return list(cur.fetchall())


def omnitron_subprocess(*args: str, path: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed ``omnitron`` script in a child process (for commands that exec a client), ``PATH`` replaced by ``path``."""
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    script = Path(sys.executable).with_name("omnitron")
    assert script.is_file(), f"the omnitron script is not installed beside {sys.executable}"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=timeout, env=env)


def docker_cli(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def by_label(kind: str, project: str) -> list[str]:
    """Containers or volumes labelled with ``project`` (found independently of omnitron)."""
    args = {"container": ["ps", "-a"], "volume": ["volume", "ls"]}[kind]
    fmt = "{{.Names}}" if kind == "container" else "{{.Name}}"
    return sorted(line for line in docker_cli(*args, "--filter", f"label=omnitron.project={project}", "--format", fmt).splitlines() if line)


def remove_docker_project(project: str) -> None:
    containers = by_label("container", project)
    if containers:
        docker_cli("rm", "-f", "-v", *containers, check=False)
    volumes = by_label("volume", project)
    if volumes:
        docker_cli("volume", "rm", "-f", *volumes, check=False)
    networks = docker_cli("network", "ls", "--filter", f"label=omnitron.project={project}", "--format", "{{.Name}}", check=False).split()
    if networks:
        docker_cli("network", "rm", *networks, check=False)


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Regular files below ``root`` whose bytes contain ``needle`` (files that vanish meanwhile are passed over)."""
    hits: list[Path] = []
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            try:
                if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                    hits.append(path)
            except OSError:
                continue
    return hits


@dataclass
class Stack:
    """A project in a directory the service account can reach, run with one provider through the CLI."""

    root: Path
    name: str
    provider: str
    cli: Any
    """The ``omnitron_cli`` fixture (in-process CLI)."""
    factory: ProjectFactory
    port: int
    """The host port of the ``db`` service (3306 moved by the stack's ``portOffsets``)."""
    project: Any = None
    """The :class:`~omnitron.project.Project` written last."""

    def write(self, apps: dict[str, dict[str, Any]], *, db: dict[str, Any] | None = None, entry: dict[str, Any] | None = None,
              declare: bool = True, stacks: dict[str, Any] | None = None) -> None:
        """Write the project: a ``db`` mysql service with ``config=db`` and ``entry``'s keys (unless ``declare`` is false), and ``apps``."""
        services: dict[str, Any] = {}
        if declare:
            config = dict(db or {})
            if self.provider == "docker":
                config.setdefault("image", IMAGE)
            services["db"] = {"preset": "mysql", "config": config, **(entry or {})}
        eco: dict[str, Any] = {"project": self.name, "infrastructure": {"services": services}}
        eco["stacks"] = stacks or {"dev": {"portOffsets": self.port - 3306}}
        if self.provider == "docker" and not declare:
            eco["stacks"]["dev"]["serviceOverrides"] = {"mysql": {"docker": {"image": IMAGE}}}
        self.project = self.factory.write(eco, apps)

    def run(self, *args: str, expect: int | None = 0) -> Any:
        result = self.cli(*args, "--project", str(self.root))
        if expect is not None:
            assert result.code == expect, f"omnitron {' '.join(args)} exited {result.code}: {result.out}{result.err}"
        return result

    def up(self) -> dict[str, Any]:
        return self.run("infra", "up", "--provider", self.provider, "--json").json()

    def down(self, *, volumes: bool = False) -> None:
        self.run("infra", "down", *(["--volumes"] if volumes else []))

    def env(self, app: str) -> dict[str, str]:
        return self.run("infra", "env", app, "--format", "json", "--show-secrets").json()

    def url(self, app: str) -> str:
        return self.env(app)["DATABASE_URL"]

    def secret(self, key: str) -> str:
        return self.run("secret", "get", key).out.rstrip("\n")

    def set_secret(self, key: str, value: str) -> None:
        self.run("secret", "set", key, value)

    def root_url(self, service: str = "db") -> str:
        key = f"{self.name}/dev/{service}/password"
        return f"mysql://root:{_quote(self.secret(key))}@127.0.0.1:{self.port}/"

    def cleanup(self) -> None:
        if (self.root / "omnitron.config.py").exists():
            self.cli("infra", "down", "--volumes", "--project", str(self.root))
        if self.provider == "docker" and shutil.which("docker"):
            remove_docker_project(self.name)

    def plan(self) -> dict[str, Any]:
        return json.loads(self.run("infra", "plan", "--provider", self.provider, "--json").out)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
