"""``omnitron infra plan``: what ``infra up`` would do, without doing it."""

from __future__ import annotations

from typing import Annotated, Literal

from cyclopts import Parameter

from ._common import JsonOpt, ProjectOpt, StackOpt, console, print_json

ProviderOpt = Annotated[Literal["auto", "docker", "process"] | None, Parameter(name="--provider", help="Override the stack's provider choice.")]
ShowSecretsOpt = Annotated[bool, Parameter(name="--show-secrets", negative="", help="Print secret values instead of ****.")]


def docker_answers() -> bool:
    """Whether a Docker engine socket is there (cheap: no API call)."""
    import os
    import socket

    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return True
    path = host.removeprefix("unix://")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(path)
        return True
    except OSError:
        return False


def plan(*, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False, show_secrets: ShowSecretsOpt = False) -> int:
    """Show the plan: each service with provider, image, host ports and order; each app's env."""
    from ..env import render_plan_env

    from .infra_run import load_plan

    # the same provider choice as up/status/run (including the one remembered from the last up)
    loaded = load_plan(project, stack, provider)
    proj, the_plan = loaded.project, loaded.plan
    envs = render_plan_env(proj, the_plan, show_secrets=show_secrets)
    if json:
        data = the_plan.model_dump(mode="json")
        for name, app in data["apps"].items():
            app["rendered_env"] = envs[name]
        print_json(data)
        return 0
    out = console()
    from rich.table import Table

    title = f"plan: project {the_plan.project}, stack {the_plan.stack} ({the_plan.stack_type})"
    if the_plan.network_mode:
        title += f", network mode {the_plan.network_mode}"
    table = Table(title=title)
    for col in ("#", "service", "preset", "provider", "image / host", "ports", "depends on", "critical", "hash"):
        table.add_column(col)
    for i, svc in enumerate(the_plan.services, 1):
        image = svc.docker.image if svc.docker and svc.docker.image else svc.host
        ports = ", ".join(f"{k}={svc.bind_address if svc.provider in ('docker', 'process') else svc.host}:{v}" for k, v in svc.ports.items())
        table.add_row(str(i), svc.name + (" (auto)" if svc.auto else ""), svc.preset or "-", svc.provider, image or "-", ports or "-", ", ".join(svc.depends_on) or "-", "yes" if svc.critical else "no", svc.spec_hash[:8])
    out.print(table)
    out.print(loaded.provider_note)
    for name, env in envs.items():
        app = the_plan.apps[name]
        out.print(f"[bold]app {name}[/bold] uses {', '.join(app.services) or 'nothing'}")
        for var, value in env.items():
            out.print(f"  {var}={value}")
    return 0
