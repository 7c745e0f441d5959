"""``omnitron infra up|down|status|ps|logs|env|migrate|reset``.

Exit codes: 0 ok, 1 provisioning failure, 2 config error (raised as
:class:`~omnitron.errors.ConfigError` and reported by the CLI's ``main``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from cyclopts import Parameter

from ._common import JsonOpt, ProjectOpt, StackOpt, console, print_json

if TYPE_CHECKING:
    from ..plan import Plan
    from ..project import Project

ProviderOpt = Annotated[Literal["auto", "docker", "process"] | None, Parameter(name="--provider", help="Override the stack's provider choice (auto: Docker when an engine answers, else native processes).")]
ShowSecretsOpt = Annotated[bool, Parameter(name="--show-secrets", negative="", help="Print secret values instead of ****.")]
YesOpt = Annotated[bool, Parameter(name=["--yes", "-y"], negative="", help="Really do it.")]


@dataclass
class Loaded:
    project: Project
    plan: Plan
    provider_note: str
    """How the provider was chosen, for people (``provider auto: docker (...)``)."""


def load_plan(project: Path | None, stack: str | None, provider: str | None = None) -> Loaded:
    """Find the project and plan ``stack``; for ``auto``, ask whether a Docker engine answers."""
    from ..project import Project

    proj = Project.discover(project)
    stack_name = stack or proj.default_stack()
    stack_cfg = proj.loaded.ecosystem.stacks.get(stack_name)
    mode = provider or (stack_cfg.provider if stack_cfg is not None else "auto")
    docker_ok: bool | None = None
    reason = ""
    remembered = last_provider(proj, stack_name) if mode == "auto" else None
    if remembered is not None:
        # the stack is up with this provider: keep finding it there until `infra down`
        plan = proj.plan(stack, provider=remembered)
        note = f"provider {remembered} (chosen by the last infra up; infra down to choose again)"
        return Loaded(proj, plan, note)
    if mode == "auto":
        from .infra_cmd import docker_answers

        installed = "docker" in proj.plugins.providers
        docker_ok = installed and docker_answers()
        reason = "a Docker engine answers" if docker_ok else ("the docker provider is not installed" if not installed else "no Docker engine answers")
    plan = proj.plan(stack, provider=provider, docker_available=docker_ok)
    used = sorted({s.provider for s in plan.services})
    if mode == "auto":
        note = f"provider auto -> {'docker' if docker_ok else 'process'} ({reason})"
    else:
        note = f"provider {mode}"
    if used:
        note += f"; services run with: {', '.join(used)}"
    return Loaded(proj, plan, note)


PROVIDER_SETTING = "provider"


def last_provider(proj: Any, stack: str) -> str | None:
    """The provider choice the last successful ``infra up`` of ``stack`` ran with, if it is still up."""
    if not (proj.state_dir / "state.db").exists():
        return None
    from ..state import StateStore

    with StateStore(proj.state_dir) as state:
        return state.get_setting(stack, PROVIDER_SETTING)


def remember_provider(loaded: Loaded, mode: str | None) -> None:
    """Record which provider mode ``up`` used (``None`` forgets it, after ``down``)."""
    from ..state import StateStore

    with StateStore(loaded.project.state_dir) as state:
        state.set_setting(loaded.plan.stack, PROVIDER_SETTING, mode)


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    import anyio

    async def main() -> Any:
        return await fn(*args, **kwargs)

    return anyio.run(main)


# -- up --------------------------------------------------------------------------


def _provision(loaded: Loaded, *, json: bool, services: list[str] | None = None, before: Any = None) -> int:
    """Run ``up`` with a live view (TTY), plain lines (pipe) or nothing (``--json``)."""
    from ..engine import progress as prog
    from ..engine.provision import up

    plan = loaded.plan
    timeline = prog.Timeline()
    for svc in plan.services:
        timeline.add(svc.name)
    out = console()

    async def work() -> Any:
        if before is not None:
            await before(timeline)
        return await up(loaded.project, plan, services=services, progress=timeline, check=False)

    if json:
        result = _run(work)
        data = result.as_dict()
        data["provider"] = loaded.provider_note
        for name, tl in timeline.services.items():
            if name in data["services"]:
                data["services"][name]["phases"] = tl.as_dict()["phases"]
        print_json(data)
        return 0 if result.ok else 1
    out.print(f"project [bold]{plan.project}[/bold], stack [bold]{plan.stack}[/bold]: {loaded.provider_note}")
    if sys.stdout.isatty():
        view = prog.LiveView(out, providers={s.name: s.provider for s in plan.services})
        view.attach(timeline)
        with view:
            result = _run(work)
    else:
        timeline.listeners.append(prog.PlainView(sys.stdout))
        result = _run(work)
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")
    if not result.ok:
        for outcome in result.failures:
            out.print(f"[bold red]failed:[/bold red] {outcome.error}", soft_wrap=True)
        return 1
    ready = sum(1 for o in result.services.values() if o.status == "ready")
    out.print(f"[green]ready:[/green] {ready} service{'s' if ready != 1 else ''} in {result.seconds:.2f}s")
    return 0


def up_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False) -> int:
    """Provision the stack's infrastructure: start what is missing, wait for health, prepare, allocate."""
    loaded = load_plan(project, stack, provider)
    code = _provision(loaded, json=json)
    local = {s.provider for s in loaded.plan.services if s.provider in ("docker", "process")}
    if code == 0 and len(local) == 1:
        remember_provider(loaded, local.pop())
    return code


# -- down ------------------------------------------------------------------------


def down_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, volumes: Annotated[bool, Parameter(name="--volumes", negative="", help="Also delete the services' data and forget allocations.")] = False, json: JsonOpt = False) -> int:
    """Stop and remove everything of this project and stack; --volumes deletes data too."""
    from ..engine.teardown import down

    loaded = load_plan(project, stack)
    result = _run(down, loaded.project, loaded.plan, volumes=volumes)
    remember_provider(loaded, None)
    if json:
        print_json(result.as_dict())
        return 0
    out = console()
    if result.removed:
        out.print(f"removed: {', '.join(sorted(result.removed))}" + (" (data deleted)" if volumes else " (data kept; --volumes deletes it)"))
    else:
        out.print(f"nothing running for project {loaded.plan.project}, stack {loaded.plan.stack}")
    if volumes and result.forgotten:
        out.print(f"allocations forgotten for: {', '.join(result.forgotten)}")
    if result.untouched:
        out.print(f"external, not touched: {', '.join(result.untouched)}")
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")
    return 0


# -- status ----------------------------------------------------------------------


def _camel(data: dict[str, Any]) -> dict[str, Any]:
    from pydantic.alias_generators import to_camel

    return {to_camel(k): v for k, v in data.items()}


def state_json(state: Any) -> dict[str, Any]:
    """``InfrastructureState`` as the spec spells it (camelCase keys)."""
    return {
        "services": {name: _camel(st.model_dump(mode="json")) for name, st in state.services.items()},
        "ready": state.ready,
        "lastReconciled": state.last_reconciled,
    }


def status_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False) -> int:
    """What runs for this stack, whether it is healthy, and whether the stack is ready."""
    from ..engine.inspect import status

    loaded = load_plan(project, stack, provider)
    state = _run(status, loaded.project, loaded.plan)
    if json:
        print_json(state_json(state))
        return 0
    from rich.table import Table

    out = console()
    table = Table(title=f"project {loaded.plan.project}, stack {loaded.plan.stack}: {'ready' if state.ready else 'NOT ready'}")
    for col in ("service", "provider", "status", "health", "ports", "image", "started", "note"):
        table.add_column(col, overflow="fold")
    for name, st in state.services.items():
        ports = ", ".join(f"{k}={v}" for k, v in (st.ports or {}).items())
        style = "green" if st.status == "running" and st.health in ("healthy", None) else "red" if st.status != "running" or st.health == "unhealthy" else ""
        table.add_row(name, st.provider, f"[{style}]{st.status}[/{style}]" if style else st.status, st.health or "-", ports or "-", st.image or "-", st.started_at or "-", st.error or "")
    out.print(table)
    if state.last_reconciled:
        out.print(f"last reconciled: {state.last_reconciled}")
    return 0


def ps_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False) -> int:
    """Same as ``infra status``."""
    return status_cmd(project=project, stack=stack, provider=provider, json=json)


# -- logs ------------------------------------------------------------------------


def logs_cmd(
    service: str | None = None,
    *,
    follow: Annotated[bool, Parameter(name=["--follow", "-f"], negative="", help="Keep printing new lines.")] = False,
    tail: Annotated[int | None, Parameter(name=["--tail", "-n"], help="Only the last N lines.")] = None,
    project: ProjectOpt = None,
    stack: StackOpt = None,
    provider: ProviderOpt = None,
) -> int:
    """Print a service's logs (every service's, prefixed, when none is named)."""
    from ..engine.inspect import logs
    from ..engine.session import Session

    loaded = load_plan(project, stack, provider)

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    async def work() -> None:
        async with Session(loaded.project, loaded.plan) as session:
            await logs(session, service, follow=follow, tail=tail, write=write)

    _run(work)
    return 0


# -- env -------------------------------------------------------------------------


def format_env(env: dict[str, str], fmt: str) -> str:
    """``dotenv`` (single-quoted when possible), ``shell`` (``export``, shell-quoted) or ``json``."""
    import json as _json
    import shlex

    if fmt == "json":
        return _json.dumps(env, indent=2) + "\n"
    lines = []
    for key, value in env.items():
        if fmt == "shell":
            lines.append(f"export {key}={shlex.quote(value)}")
        elif "'" not in value and "\n" not in value:
            lines.append(f"{key}='{value}'")
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("$", "\\$")
            lines.append(f'{key}="{escaped}"')
    return "\n".join(lines) + ("\n" if lines else "")


def env_cmd(
    app: str,
    *,
    format: Annotated[Literal["dotenv", "json", "shell"], Parameter(name=["--format", "-f"], help="Output format.")] = "dotenv",
    show_secrets: ShowSecretsOpt = False,
    project: ProjectOpt = None,
    stack: StackOpt = None,
) -> int:
    """Print APP's env as it gets it from ``omnitron run`` (secrets masked unless --show-secrets)."""
    from ..engine.render import app_env
    from ..engine.session import Session
    from ..errors import ConfigError

    loaded = load_plan(project, stack)
    if app not in loaded.plan.apps:
        raise ConfigError(f"no app named {app!r}; apps: {', '.join(sorted(loaded.plan.apps)) or '(none)'}")
    session = Session(loaded.project, loaded.plan)
    try:
        env = app_env(session, app, reveal=show_secrets)
    finally:
        session.close()
    sys.stdout.write(format_env(env, format))
    return 0


# -- migrate ---------------------------------------------------------------------


def migrate_cmd(app: str | None = None, *, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None) -> int:
    """Run the app's declared ``migrate`` command (every app's when none is named) with its env, after the gate."""
    import os
    import subprocess

    from ..errors import ConfigError, ProvisionError
    from .run_cmd import prepare_app

    loaded = load_plan(project, stack, provider)
    plan = loaded.plan
    if app is not None:
        if app not in plan.apps:
            raise ConfigError(f"no app named {app!r}; apps: {', '.join(sorted(plan.apps)) or '(none)'}")
        if not plan.apps[app].migrate:
            raise ConfigError(f"app {app} declares no migrate command (\"migrate\" under \"omnitron\" in its config/default.json)")
        apps = [app]
    else:
        apps = [name for name, a in plan.apps.items() if a.migrate]
        if not apps:
            console().print("no app declares a migrate command")
            return 0
    for name in apps:
        command = list(plan.apps[name].migrate or [])
        env = prepare_app(loaded, name)
        cwd = plan.apps[name].path
        cwd = cwd if cwd and os.path.isdir(cwd) else None
        print(f"{name}: {' '.join(command)}", file=sys.stderr, flush=True)
        try:
            code = subprocess.call(command, cwd=cwd, env={**os.environ, **env})
        except FileNotFoundError:
            raise ProvisionError(f"app {name}: migrate command not found: {command[0]}") from None
        if code != 0:
            raise ProvisionError(f"app {name}: migrate command `{' '.join(command)}` exited with {code}")
    return 0


# -- reset -----------------------------------------------------------------------


def _what_reset_destroys(loaded: Loaded) -> list[str]:
    from ..state import StateStore

    plan = loaded.plan
    lines: list[str] = []
    with StateStore(loaded.project.state_dir) as state:
        allocations = state.allocations(plan.stack)
        facts = state.facts(plan.stack)
        for svc in plan.services:
            if svc.provider == "external":
                lines.append(f"{svc.name}: external ({svc.host}), not touched")
                continue
            data = "its volumes" if svc.provider == "docker" else "its data directory" if svc.provider == "process" else "its data"
            held = [f"{a['kind']} {a['name']} ({a['app']})" for a in allocations if a["service"] == svc.name]
            indexes = state.indexes(plan.stack, svc.name)
            held += [f"index {i} ({o})" for o, i in sorted(indexes.items(), key=lambda x: x[1]) if not any(a["service"] == svc.name and a["app"] == o and a["kind"] == "redis_db" for a in allocations)]
            line = f"{svc.name} ({svc.provider}): {data}" + (f", with {', '.join(held)}" if held else "")
            if facts.get(svc.name):
                line += "; gone for good with it: " + ", ".join(f"{key} {value}" for key, value in facts[svc.name].items())
            lines.append(line)
    return lines


def reset_cmd(*, yes: YesOpt = False, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False) -> int:
    """DESTRUCTIVE: delete every service's data of this stack and provision it again (needs --yes)."""
    loaded = load_plan(project, stack, provider)
    out = console()
    if not yes:
        out.print(f"[bold red]infra reset[/bold red] deletes all data of project {loaded.plan.project}, stack {loaded.plan.stack}, irreversibly:")
        for line in _what_reset_destroys(loaded):
            out.print(f"  - {line}", soft_wrap=True)  # never break an address or a name
        out.print("Back up first (`omnitron backup create`), then run `omnitron infra reset --yes`. Nothing was changed.")
        return 1

    async def wipe(timeline: Any) -> None:
        from ..engine.teardown import down

        await down(loaded.project, loaded.plan, volumes=True)

    return _provision(loaded, json=json, before=wipe)
