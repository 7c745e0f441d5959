"""``omnitron infra up|down|status|ps|logs|env|migrate|reset``: parse, call the use cases, print.

Exit codes: 0 ok, 1 provisioning failure, 2 config error (raised as
:class:`~omnitron.errors.ConfigError` and reported by the CLI's ``main``).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

from cyclopts import Parameter

from .infra_up import _load, _provision, _remember, up
from .options import AppArg, JsonOpt, ProjectOpt, ServiceArg, ProviderOpt, ShowSecretsOpt, StackOpt, YesOpt, console, print_json, run_async
from .plain import escape


NoDaemonOpt = Annotated[bool, Parameter(name="--no-daemon", negative="", help="Do not start the project's daemon (it keeps the stack as declared; the ecosystem's daemon: false does the same).")]


def up_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False, no_daemon: NoDaemonOpt = False) -> int:
    """Provision the stack's infrastructure: start what is missing, wait for health, prepare, allocate; then start the daemon."""
    return up(project=project, stack=stack, provider=provider, as_json=json, no_daemon=no_daemon)


def _stop_daemon_if_idle(loaded: Any) -> str | None:
    """After a down: stop the daemon when it keeps no stack any more."""
    from ..daemon import control
    from ..usecases import kept_stacks

    if kept_stacks(loaded.project) or not control.status(loaded.project.root).running:
        return None
    _, note = control.stop(loaded.project.root)
    return note


BackupOpt = Annotated[bool, Parameter(name="--backup", negative="", help="Back up first (`omnitron backup create`); nothing is reset if that fails.")]


def reset_cmd(*, yes: YesOpt = False, backup: BackupOpt = False, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False) -> int:
    """DESTRUCTIVE: delete every service's data of this stack and provision it again (needs --yes, or on a terminal
    typing the stack's name; --backup backs up first)."""
    from ..usecases import reset, what_reset_destroys

    loaded = _load(project, stack, provider)
    if not yes:
        out = console()
        out.print(f"[bold red]infra reset[/bold red] deletes all data of project {loaded.plan.project}, stack {loaded.plan.stack}, irreversibly:")
        for line in what_reset_destroys(loaded):
            out.print(f"  - {line}", soft_wrap=True)  # never break an address or a name
        if json or not _on_terminal() or not _confirmed(f"{loaded.plan.project}/{loaded.plan.stack}"):
            out.print("Back up first (`omnitron backup create`, or `--backup`), then run `omnitron infra reset --yes`. Nothing was changed.")
            return 1
    if backup:
        from ..usecases.backup import create_backup
        from .backup_cmd import print_created

        made = run_async(create_backup, loaded)
        if not json:
            print_created(made)
    return _provision(loaded, lambda progress: reset(loaded, progress=progress), json=json)


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirmed(name: str) -> bool:
    """Whether the user typed ``name`` at the terminal (anything else, or end of input, is no)."""
    try:
        return input(f"Type {name} to delete it all (anything else keeps it): ").strip() == name
    except (EOFError, KeyboardInterrupt):
        print()
        return False


# -- down ------------------------------------------------------------------------

VolumesOpt = Annotated[bool, Parameter(name="--volumes", negative="", help="Also delete the services' data and forget allocations.")]


def down_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, volumes: VolumesOpt = False, json: JsonOpt = False) -> int:
    """Stop and remove everything of this project and stack; --volumes deletes data too."""
    from ..usecases import bring_down

    loaded = _load(project, stack)
    result = run_async(bring_down, loaded, volumes=volumes)
    stopped = _stop_daemon_if_idle(loaded)
    if json:
        print_json({**result.as_dict(), "daemon": stopped})
        return 0
    out = console()
    if stopped:
        out.print(f"daemon: {stopped}")
    if result.removed:
        out.print(f"removed: {', '.join(sorted(result.removed))}" + (" (data deleted)" if volumes else " (data kept; --volumes deletes it)"))
    else:
        out.print(f"nothing running for project {loaded.plan.project}, stack {loaded.plan.stack}")
    if volumes and result.forgotten:
        out.print(f"allocations forgotten for: {', '.join(result.forgotten)}")
    if result.untouched:
        out.print(f"not run by omnitron (existing servers), not touched: {', '.join(result.untouched)}")
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    return 0


# -- status ----------------------------------------------------------------------


def state_json(state: Any) -> dict[str, Any]:
    """``InfrastructureState`` as the spec spells it (camelCase keys)."""
    return state.as_json()


NOT_READY = 3
"""Exit code of ``infra status --check`` when the stack is not ready."""
CheckOpt = Annotated[bool, Parameter(name="--check", negative="", help="Exit 3 when the stack is not ready (plain status exits 0).")]


def status_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False, check: CheckOpt = False) -> int:
    """What runs for this stack, whether it is healthy, and whether the stack is ready."""
    from ..usecases import stack_status

    loaded = _load(project, stack, provider, record=True)
    state = run_async(stack_status, loaded)
    code = NOT_READY if check and not state.ready else 0
    if json:
        print_json(state_json(state))
        sys.stdout.flush()
    if loaded.inputs is not None:
        _remember(loaded, stack, state=state)
    if json:
        return code
    from rich.table import Table

    table = Table(title=f"project {loaded.plan.project}, stack {loaded.plan.stack}: {'ready' if state.ready else 'NOT ready'}")
    for col in ("service", "provider", "status", "health", "ports", "image", "started", "note"):
        table.add_column(col, overflow="fold")
    for name, st in state.services.items():
        ports = ", ".join(f"{k}={v}" for k, v in (st.ports or {}).items())
        style = "green" if st.status == "running" and st.health in ("healthy", None) else "red" if st.status != "running" or st.health == "unhealthy" else ""
        spoken = st.model_dump(mode="json", include={"health", "started_at"})  # as --json prints them
        table.add_row(name, st.provider, f"[{style}]{st.status}[/{style}]" if style else st.status, spoken["health"] or "-", ports or "-", st.image or "-", spoken["started_at"] or "-", st.error or st.note or "")
    out = console()
    out.print(table)
    for name, st in state.services.items():
        _print_choice(out, name, st)
    if state.allocations:
        out.print(_allocations_table(state.allocations))
    if state.last_reconciled:
        out.print(f"last reconciled: {state.last_reconciled}")
    out.print(_daemon_line(loaded))
    return code


def _allocations_table(allocations: list[Any]) -> Any:
    """Each recorded allocation with the app that owns it."""
    from rich.table import Table

    held = Table(title="allocations")
    for col in ("service", "kind", "name", "app", "values"):
        held.add_column(col, overflow="fold")
    for row in allocations:
        held.add_row(row.service, row.kind, row.name, row.app, ", ".join(f"{k}={v}" for k, v in sorted(row.values.items()) if v != ""))
    return held


def _print_choice(out: Any, name: str, st: Any) -> None:
    """Which server a service's provider chose among several, why, and how the others are."""
    if not st.candidates:
        return
    chosen = f"{st.host}:{','.join(str(p) for p in (st.ports or {}).values())}" if st.host else "no server"
    out.print(f"[bold]{name}[/bold]: {chosen}" + (f" ({st.reason})" if st.reason else ""), soft_wrap=True)
    for c in st.candidates:
        mark = "chosen" if c.chosen else (c.health or "not probed")
        weight = f" weight {c.weight}" if c.weight is not None else ""
        out.print(f"  {c.host}:{','.join(str(p) for p in c.ports.values())}{weight}: {mark}" + (f" - {c.detail}" if c.detail else ""), soft_wrap=True)


def _daemon_line(loaded: Any) -> str:
    """Whether the daemon keeps this stack, for ``infra status``; a killed one is noticed here."""
    from ..daemon import control

    st = control.status(loaded.project.root)
    if st.running:
        return f"daemon: running (pid {st.pid}); it keeps the stack as declared"
    if st.stale:
        return f"daemon: not running: pid {st.pid} stopped without cleaning up (killed?); `omnitron infra up` or `omnitron daemon start` starts a new one"
    return "daemon: not running (`omnitron daemon start`, or `infra up`, starts it)"


def ps_cmd(*, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False, check: CheckOpt = False) -> int:
    """Same as ``infra status``."""
    return status_cmd(project=project, stack=stack, provider=provider, json=json, check=check)


# -- logs ------------------------------------------------------------------------

FollowOpt = Annotated[bool, Parameter(name=["--follow", "-f"], negative="", help="Keep printing new lines.")]
TailOpt = Annotated[int | None, Parameter(name=["--tail", "-n"], help="Only the last N lines.")]


def logs_cmd(service: ServiceArg | None = None, *, follow: FollowOpt = False, tail: TailOpt = None, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None) -> int:
    """Print a service's logs (every service's, prefixed, when none is named)."""
    from ..usecases import stream_logs

    loaded = _load(project, stack, provider)

    def write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    run_async(stream_logs, loaded, service, follow=follow, tail=tail, write=write)
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


FormatOpt = Annotated[Literal["dotenv", "json", "shell"], Parameter(name=["--format", "-f"], help="Output format.")]


def env_cmd(app: AppArg, *, format: FormatOpt = "dotenv", show_secrets: ShowSecretsOpt = False, project: ProjectOpt = None, stack: StackOpt = None) -> int:
    """Print APP's env as it gets it from ``omnitron run`` (secrets masked unless --show-secrets)."""
    from ..usecases import app_env

    sys.stdout.write(format_env(app_env(_load(project, stack), app, reveal=show_secrets), format))
    return 0


# -- migrate ---------------------------------------------------------------------


def migrate_cmd(app: AppArg | None = None, *, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None) -> int:
    """Run the app's declared ``migrate`` command (every app's when none is named) with its env, after the gate."""
    from ..usecases import apps_to_migrate, migrate
    from .run_cmd import WaitingNotice

    loaded = _load(project, stack, provider)
    apps = apps_to_migrate(loaded, app)
    if not apps:
        console().print("no app declares a migrate command")
        return 0
    for name in apps:

        def announce(command: list[str], name: str = name) -> None:
            print(f"{name}: {' '.join(command)}", file=sys.stderr, flush=True)

        run_async(migrate, loaded, name, progress=WaitingNotice(name), on_command=announce)
    return 0
