"""``omnitron infra plan``: what ``infra up`` would do, without doing it."""

from __future__ import annotations

from .options import JsonOpt, ProjectOpt, ProviderOpt, ShowSecretsOpt, StackOpt, console, print_json, report_warnings
from .plain import escape


def plan(*, project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False, show_secrets: ShowSecretsOpt = False) -> int:
    """Show the plan: each service with provider, image, host ports and order; each app's env."""
    from ..env import render_plan_env
    from ..usecases import load_stack

    # the same provider choice as up/status/run (including the one remembered from the last up)
    loaded = load_stack(project, stack, provider)
    report_warnings(loaded.project)
    the_plan = loaded.plan
    envs = render_plan_env(loaded.project, the_plan, show_secrets=show_secrets)
    if json:
        print_json(plan_document(loaded, envs))
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
        local = (d := loaded.describe(svc.provider)) is not None and d.assigns_host_ports
        ports = ", ".join(f"{k}={svc.bind_address if local else svc.host}:{v}" for k, v in svc.ports.items())
        table.add_row(str(i), svc.name + (" (auto)" if svc.auto else ""), svc.preset or "-", svc.provider, image or "-", ports or "-", ", ".join(svc.depends_on) or "-", "yes" if svc.critical else "no", svc.spec_hash[:8])
    out.print(table)
    for svc in the_plan.services:
        if svc.address_note:
            out.print(f"{svc.name}: {svc.host} - {escape(svc.address_note)}", soft_wrap=True)
    out.print(loaded.provider_note)
    for name, env in envs.items():
        app = the_plan.apps[name]
        out.print(f"[bold]app {name}[/bold] uses {', '.join(app.services) or 'nothing'}")
        for var, value in env.items():
            out.print(f"  {var}={escape(value)}")
    return 0


def plan_document(loaded, envs: dict[str, dict[str, str]]) -> dict:
    """The plan as ``--json`` prints it (docs/schemas/plan.json): camelCase keys, each preset's config as written
    (its model's aliases), allocations with the values recorded once ``up`` made them."""
    from ..state import recorded_allocations

    plan = loaded.plan
    data = plan.model_dump(mode="json", by_alias=True)
    presets = loaded.project.plugins.presets
    for svc, dumped in zip(plan.services, data["services"]):
        preset = presets.get(svc.preset) if svc.preset else None
        if preset is not None:
            dumped["config"] = preset.config_model.model_validate(svc.config).model_dump(mode="json", by_alias=True)
    recorded = recorded_allocations(loaded.project.state_dir, plan.stack, plan.allocation_requests())
    for name, app in data["apps"].items():
        app["renderedEnv"] = envs[name]
        for allocation in app["allocations"]:
            allocation["values"].update(recorded.get(name, {}).get(allocation["service"], {}))
    return data
