"""Rendering with real secrets: a service's own runtime (container env, command) and an app's env.

Values rendered here hold secrets: they live in memory, go to the provider or
the child process, and are never written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..plan import context_for
from ..providers import RuntimeSpec

if TYPE_CHECKING:
    from ..plan import Plan, PlannedService
    from ..templating import Renderer
    from .session import Session


def runtime_spec(session: Session, svc: PlannedService) -> RuntimeSpec:
    """``svc`` with its container/process env and command rendered (``${secret:...}`` resolved), its preset's process
    recipe, and what a provider may ask the engine for: the service's secrets and its probes against an address."""
    import dataclasses

    spec = rendered_with(session, svc, session.resolver)
    return dataclasses.replace(spec, secret=session.secret_of(svc), probe=_prober(session, svc))


def rendered_with(session: Session, svc: PlannedService, secret: Callable[[str], str]) -> RuntimeSpec:
    """``svc``'s :class:`RuntimeSpec` rendered with ``secret`` (store key -> value) as :func:`runtime_spec` renders it
    (a head start renders it with tokens, :mod:`omnitron.engine.head_start`)."""
    from ..plan import service_owner

    allocations = session.allocations_for(service_owner(svc.name)) if svc.env_from else {}
    return render_runtime_spec(svc, session.renderer, secret, session.plugins.presets, plan=session.plan, facts=session.facts(), allocations=allocations)


def _prober(session: Session, svc: PlannedService) -> Callable[[str, dict[str, int]], Any]:
    """``await probe(host, ports)``: ``svc``'s declared probes run once against that address (a candidate server)."""
    from .gate import check_once, checks_for

    async def probe(host: str, ports: dict[str, int]) -> Any:
        target = svc.model_copy(update={"host": host, "ports": {**svc.ports, **ports}})
        provider = await session.provider(svc.provider)
        hc = svc.health_check
        return await check_once(session.handle(target, provider), checks_for(svc, session.plugins.probes), (hc.timeout if hc else 10_000) / 1000)

    return probe


def render_runtime_spec(
    svc: PlannedService,
    renderer: Renderer,
    secret: Callable[[str], str],
    presets: Mapping[str, Any],
    *,
    plan: Plan | None = None,
    facts: Mapping[str, Mapping[str, str]] | None = None,
    allocations: Mapping[str, Mapping[str, str]] | None = None,
) -> RuntimeSpec:
    """The :class:`RuntimeSpec` a provider gets for ``svc``: its run section's env and command rendered with ``secret``
    (store key -> value) against ``plan`` and the recorded service ``facts``, and, when it runs from a preset's
    process recipe, that recipe (resolved once, here).

    The env the service gets from the services it uses (``env_from``) is rendered against each of them, with
    what is recorded as allocated for the service there (``allocations``: service -> values); its own env wins.
    """
    source = svc.runtime_config
    recipe = None
    if svc.process is not None and svc.process.recipe:
        preset = presets.get(svc.process.recipe)
        recipe = preset.process_recipe_for(svc) if preset is not None else None
    env = _env_from(svc, renderer, secret, plan, facts, allocations or {})
    files = svc.docker.secret_files if svc.docker is not None else None
    if source is None or (not source.env and not source.command and source.stdin is None and files is None):
        return RuntimeSpec(service=svc, env=env, recipe=recipe)
    ctx = context_for(svc, app=None, alloc={}, secret=secret, plan=plan, facts=facts)
    env.update({key: renderer.render(value, ctx, variable=key) for key, value in source.env.items()})
    command = [renderer.render(arg, ctx, variable=f"command[{i}]") for i, arg in enumerate(source.command)] if source.command else None
    stdin = renderer.render(source.stdin, ctx, variable="stdin").encode() if source.stdin is not None else None
    rendered_files = _render_secret_files(files, renderer, ctx) if files is not None else None
    return RuntimeSpec(service=svc, env=env, command=command, stdin=stdin, recipe=recipe, secret_files=rendered_files)


def _render_secret_files(files: Any, renderer: Renderer, ctx: Any) -> Any:
    """``docker.secretFiles`` with every template rendered (the files' contents hold secrets)."""
    return files.model_copy(update={
        "files": {path: renderer.render(content, ctx, variable=f"secretFiles.files.{path}") for path, content in files.files.items()},
        "env": {key: renderer.render(value, ctx, variable=f"secretFiles.env.{key}") for key, value in files.env.items()},
        "command": [renderer.render(arg, ctx, variable=f"secretFiles.command[{i}]") for i, arg in enumerate(files.command)] if files.command else None,
    })


def _env_from(svc: PlannedService, renderer: Renderer, secret: Callable[[str], str], plan: Plan | None, facts: Any, allocations: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    if not svc.env_from or plan is None:
        return {}
    out: dict[str, str] = {}
    for var, binding in svc.env_from.items():
        bound = plan.service(binding.service or "")
        alloc = dict(next((a.values for a in svc.allocations if a.service == bound.name), {}))
        alloc.update(allocations.get(bound.name, {}))
        ctx = context_for(bound, app=None, alloc=alloc, secret=secret, secrets=binding.secrets, plan=plan, facts=facts)
        out[var] = renderer.render(binding.template, ctx, variable=var)
    return out


def app_env(session: Session, app: str, *, reveal: bool = True, secret: Callable[[str], str] | None = None) -> dict[str, str]:
    """``app``'s env vars with allocations from the state store; secrets real unless ``reveal`` is false.

    :param secret: store key -> value instead of the secret store's (the plan cache renders references).
    """
    from ..env import render_app_env

    return render_app_env(
        session.plan,
        app,
        session.renderer,
        secret=secret or (session.resolver if reveal else None),
        allocations=session.allocations_for(app),
        mask_secrets=not reveal,
        facts=session.facts(),
        app_ports=session.state.app_ports(session.plan.stack).get(app),
    )
