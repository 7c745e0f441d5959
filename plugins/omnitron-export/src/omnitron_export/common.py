"""What every format needs from the plan: names, ports inside the container, env without secrets, secret references. Pure.

The manifests never hold a secret: a secret renders as a *token* naming its
store key, and a value holding one becomes a reference (a Secret's name and
key) plus a shell command creating the Secret. That command asks omnitron for
the content when it runs (``omnitron infra export --secret NAME/KEY``: the same
template rendered with the value read from the secret store), so a template
function transforming a secret (a Redis config value's quoting, a URL's
percent-encoding) applies to the value itself, whatever characters it holds.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omnitron.api import Plan, PlannedService, Renderer, TemplateContext, context_for

SECRET_REF = "${secret:"
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def dns_name(text: str) -> str:
    """``text`` as a DNS label (Kubernetes object names, compose service names): ``orders/db`` -> ``orders-db``."""
    return _UNSAFE.sub("-", text.lower()).strip("-")[:63] or "x"


def secret_key(path: str) -> str:
    """The key of a secret file in its Secret: the file's name (``/run/secrets/redis.conf`` -> ``redis.conf``)."""
    return re.sub(r"[^-._a-zA-Z0-9]", "-", path.rsplit("/", 1)[-1])


_TOKEN = re.compile(r"OMNITRONSECRET([0-9a-f]+)END")


def shell_secret(key: str) -> str:
    """What a secret renders to in the manifests: a token naming its store key (letters and digits, so any
    template function leaves it whole), marking the value as one to create from the store."""
    return f"OMNITRONSECRET{key.encode().hex()}END"


def holds_secret(rendered: str) -> bool:
    return _TOKEN.search(rendered) is not None


def secret_keys(rendered: str) -> list[str]:
    """The store keys of the secrets whose tokens ``rendered`` holds."""
    return [bytes.fromhex(m.group(1)).decode() for m in _TOKEN.finditer(rendered)]


@dataclass
class SecretRef:
    """A Secret to create (never written): its name, and per key its content as rendered for the manifests."""

    name: str
    keys: dict[str, str] = field(default_factory=dict)

    def source(self, key: str, reader: str) -> str:
        """A shell command writing the content of ``key`` to its stdout: omnitron rendering it with the secrets
        read from the store (``READER --secret NAME/KEY``), or the builtin ``printf`` for content holding none."""
        content = self.keys[key]
        if holds_secret(content):
            return f"{reader} --secret {shlex.quote(f'{self.name}/{key}')}"
        return "printf %s " + (_quoted(content) or "''")

    def kubectl(self, reader: str, namespace: str | None = None) -> str:
        """A bash command creating the Secret; each value reaches kubectl through a pipe (``<(...)``), never on a
        command line that ``ps`` would show."""
        ns = f" -n {namespace}" if namespace else ""
        files = " ".join(f"--from-file={key}=<({self.source(key, reader)})" for key in sorted(self.keys))
        return f"kubectl create secret generic {self.name}{ns} {files}"

    def docker(self, reader: str) -> list[str]:
        """Commands creating the Docker secrets, each value piped to ``docker secret create`` (never an argument)."""
        return [f"{self.source(key, reader)} | docker secret create {self.name}-{key.replace('.', '-')} -" for key in sorted(self.keys)]


def _quoted(text: str) -> str:
    """Literal ``text`` as shell words (a newline as ``$'\\n'``)."""
    lines = text.split("\n")
    return "$'\\n'".join(shlex.quote(line) if line else "" for line in lines) if text else ""


@dataclass(frozen=True)
class Rendering:
    """The template functions, and what a secret renders to: a token (:func:`shell_secret`) for the manifests,
    or its value, read from the store, for the content of one Secret."""

    renderer: Renderer
    secret: Callable[[str], str] = shell_secret

    def render(self, template: str, ctx: TemplateContext, *, variable: str) -> str:
        return self.renderer.render(template, ctx, variable=variable)


def container_ports(svc: PlannedService) -> dict[str, int]:
    """Named port -> port inside the container."""
    docker = svc.docker
    return {name: (docker.ports.get(name) if docker else None) or svc.target_ports.get(name) or port for name, port in svc.ports.items()}


def cluster_plan(plan: Plan) -> Plan:
    """``plan`` as seen inside the cluster: each service at its own DNS name and its container ports."""
    copy = plan.model_copy(deep=True)
    for svc in copy.services:
        svc.host = dns_name(svc.name)
        svc.ports = container_ports(svc)
    return copy


def render(renderer: Rendering, template: str, ctx: TemplateContext, variable: str) -> str:
    return renderer.render(template, ctx, variable=variable)


def service_context(renderer: Rendering, plan: Plan, svc: PlannedService) -> TemplateContext:
    """The service's own template context, secrets rendered as ``renderer`` says."""
    return context_for(svc, app=None, alloc={}, secret=renderer.secret, plan=plan)


def needs_docker(plan: Plan) -> list[str]:
    """Services that cannot be exported: planned without a docker part (run as processes or on servers)."""
    return [svc.name for svc in plan.services if svc.docker is None or not svc.docker.image]


def split_env(renderer: Rendering, plan: Plan, svc: PlannedService) -> tuple[dict[str, str], dict[str, str]]:
    """The container env: plain values, and values using a secret (var -> its content, for a Secret)."""
    assert svc.docker is not None
    ctx = service_context(renderer, plan, svc)
    plain: dict[str, str] = {}
    secret: dict[str, str] = {}
    files = svc.docker.secret_files
    for key, template in svc.docker.env.items():
        if SECRET_REF in template:
            if files is None:
                secret[key] = render(renderer, template, ctx, key)
            continue
        plain[key] = render(renderer, template, ctx, key)
    if files is not None:
        plain.update({k: render(renderer, v, ctx, k) for k, v in files.env.items()})
    return plain, secret


def args(renderer: Rendering, plan: Plan, svc: PlannedService) -> list[str] | None:
    """The container's arguments: the secret files' command when the files are mounted, else the command."""
    assert svc.docker is not None
    ctx = service_context(renderer, plan, svc)
    from omnitron.api import PlanError

    files_command = svc.docker.secret_files.command if svc.docker.secret_files and svc.docker.secret_files.command else None
    if files_command is None and svc.docker.stdin is not None:
        raise PlanError(f"service {svc.name}: docker.stdin cannot be exported (a cluster's container has no stdin): declare docker.secretFiles with a command reading a file", path=f"infrastructure.services.{svc.name}.docker.stdin")
    command = files_command or svc.docker.command
    if command is None:
        return None
    if any(SECRET_REF in arg for arg in command):
        raise PlanError(f"service {svc.name}: docker.command passes a secret as an argument: declare docker.secretFiles", path=f"infrastructure.services.{svc.name}.docker.command")
    return [render(renderer, arg, ctx, f"command[{i}]") for i, arg in enumerate(command)]


def secret_files(renderer: Rendering, plan: Plan, svc: PlannedService) -> dict[str, str]:
    """Path in the container -> its content (for a Secret)."""
    files = svc.docker.secret_files if svc.docker else None
    if files is None:
        return {}
    ctx = service_context(renderer, plan, svc)
    return {path: render(renderer, content, ctx, path) for path, content in files.files.items()}


def app_env(renderer: Rendering, plan: Plan, app: str, allocations: dict[str, dict[str, str]]) -> dict[str, str]:
    """An app's env inside the cluster (for the app's Secret), secrets rendered as ``renderer`` says."""
    from omnitron.api import render_app_env

    return render_app_env(plan, app, renderer.renderer, secret=renderer.secret, allocations=allocations)


_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def memory(value: Any, service: str) -> int:
    """Docker's memory notation in bytes (``512m``, ``2g``, ``1.5GiB``: binary units, as ``docker run -m``)."""
    from omnitron.api import ConfigError

    match = _MEMORY.match(str(value)) if not isinstance(value, bool) else None
    amount = int(float(match.group(1)) * _UNITS[match.group(2).lower()]) if match else 0
    if amount <= 0:
        raise ConfigError(f"invalid memory limit {value!r}: use bytes or a size such as 512m or 2g", path=f"infrastructure.services.{service}.docker.resources.memory")
    return amount
