"""Writing the plan cache after a full command succeeded (what it holds and why: :mod:`omnitron.plancache`).

:func:`remember` is called by ``infra up`` (with the warnings it printed),
``infra status`` (with the state it printed) and ``omnitron run`` once they
succeeded, on a stack loaded with ``record=True``. It asks each service's
provider and health probes for their quick checks; a service that has none
(or is not running and healthy) means no cache, and an older one is
removed. Nothing here may fail the command: a cache that cannot be written is
simply not there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..engine.session import Session
    from ..providers import InfrastructureState
    from ..secret_tokens import SecretTokens
    from .loading import Stack


async def remember(
    stack: Stack,
    *,
    up_warnings: list[str] | None = None,
    state: InfrastructureState | None = None,
    healthy: Mapping[str, str | None] | None = None,
    default: bool = False,
) -> None:
    """Write the cache of ``stack`` (or remove a stale one).

    :param up_warnings: what a full ``infra up`` warned about (its no-op answer repeats them); ``None``: the
        command was not ``up``, and the cache will not answer ``up`` until one has run.
    :param state: the status the command just printed (else it is taken now, probes included).
    :param healthy: services the command found healthy (name -> the probes' note, as :attr:`UpResult.healthy
        <omnitron.engine.provision.UpResult.healthy>`): not probed again when the status is taken.
    :param default: the command named no stack (a command without ``--stack`` finds this cache).
    """
    from ..plancache import files, switched_off
    from ..plancache.inputs import plan_state

    if switched_off() or stack.inputs is None:
        return
    project = stack.project
    now = plan_state(project.state_dir, stack.name)
    if now != stack.inputs["state"]:
        # the command changed what planning reads (the provider auto chose is remembered now): plan again
        stack, state = _replanned(stack, now), None
        if stack is None:
            return
    try:
        doc = await _document(stack, up_warnings, state, healthy)
    except Exception:  # noqa: BLE001 - a cache is an optimisation: never a reason for the command to fail
        doc = None
    if doc is None:
        files.drop(project.state_dir, stack.name)
        return
    if up_warnings is None:  # not an up: what the last up said still holds while nothing it was made from changed
        old = files.read(project.state_dir, stack.name)
        if old is not None and old.get("key") == doc["key"] and old.get("services") == doc["services"]:
            doc["up"] = old.get("up")
    files.write(project.state_dir, doc, default=default)


def _replanned(stack: Stack, state: str) -> Stack | None:
    """``stack`` planned again from the same declarations, with the state store as it is now (``None``: not cacheable)."""
    from .loading import load_stack

    fresh = load_stack(stack.project, stack.name)
    if any(d.available is not None for d in fresh.providers.values()):
        return None
    fresh.inputs = {**(stack.inputs or {}), "state": state}
    return fresh


async def _document(stack: Stack, up_warnings: list[str] | None, state: InfrastructureState | None, healthy: Mapping[str, str | None] | None) -> dict[str, Any] | None:
    from .. import __version__
    from ..engine.inspect import status
    from ..engine.session import Session
    from ..plancache.inputs import digest_files
    from ..secrets.resolve import backend_for

    project, plan = stack.project, stack.plan
    backend = backend_for(project)
    watched = backend.watched_files()
    if watched is None:
        return None
    async with Session(project, plan) as session:
        if state is None:
            state = await status(project, plan, healthy=healthy, session=session)
        services = await _services(session, state)
        if services is None:
            return None
        light = type(backend).light
        apps = {name: _app(session, stack, name, light) for name in plan.apps}
    eco = project.loaded.ecosystem
    cls = type(backend)
    return {
        "omnitron": __version__,
        "root": str(project.root),
        "project": plan.project,
        "stack": plan.stack,
        "defaultStack": project.default_stack(),
        "key": {**stack.inputs, "secrets": digest_files([str(p) for p in watched])},
        "warnings": list(project.loaded.warnings),
        "providerNote": stack.provider_note,
        "daemon": bool(eco.daemon),
        "services": services,
        "up": {"warnings": list(up_warnings)} if up_warnings is not None else None,
        "status": {"services": {name: st.model_dump(mode="json", by_alias=True) for name, st in state.services.items()}} if state.ready else None,
        "apps": apps,
        "secretBackend": f"{cls.__module__}:{cls.__qualname__}" if light else None,
    }


async def _services(session: Session, state: InfrastructureState) -> list[dict[str, Any]] | None:
    """Each planned service with its spec hash and quick checks; ``None`` when one is not running and healthy, or cannot be checked quickly."""
    from ..engine.gate import checks_for

    plan = session.plan
    if set(state.services) != {s.name for s in plan.services}:
        return None  # an orphan runs
    out: list[dict[str, Any]] = []
    for svc in plan.services:
        st = state.services[svc.name]
        if st.status != "running" or st.health not in ("healthy", None) or st.error or st.waiting_for:
            return None
        provider = await session.provider(svc.provider)
        own = provider.quick_checks(st)
        if own is None:
            return None
        target = svc.model_copy(update={"host": st.host, "ports": {**svc.ports, **(st.ports or {})}}) if st.host else svc
        handle = session.handle(target, provider)
        probed = [c.probe.quick_check(c.spec, handle) for c in checks_for(svc, session.plugins.probes)]
        checks = [*own, *probed]
        if not checks or any(c is None for c in checks):
            return None
        out.append({"name": svc.name, "specHash": svc.spec_hash, "managed": session.manages(svc.provider), "checks": [c.as_json() for c in checks]})
    return out


def _app(session: Session, stack: Stack, app: str, light: bool) -> dict[str, Any] | None:
    """What ``omnitron run APP`` needs, its env with secrets as references; ``None`` when its env cannot be kept that way."""
    import os

    from ..engine.appports import expected_endpoints
    from ..engine.render import app_env
    from ..plancache.inputs import app_inputs
    from .apps import handed_env

    from ..secret_tokens import SecretTokens

    plan = stack.plan
    tokens = SecretTokens()  # no secret is read: each becomes a token that shows how it was used
    env = _as_parts(app_env(session, app, secret=tokens.reference), tokens)
    if env is None or (tokens.tokens and not light) or not _every_secret_referenced(env, app_env(session, app, reveal=False)):
        return None
    ref = plan.apps[app]
    allocated = session.state.app_ports(plan.stack).get(app, {})
    return {
        "services": [s.name for s in plan.services_for(app)],
        "env": env,
        "command": list(ref.command or []),
        "cwd": ref.path if ref.path and os.path.isdir(ref.path) else None,
        "expected": {name: [host, port] for name, (host, port) in expected_endpoints(plan, app, allocated).items()},
        "handed": handed_env(stack, app),
        "inputs": app_inputs(session.state, plan.stack, app),
    }


def _as_parts(marked: dict[str, str], tokens: SecretTokens) -> list[list[Any]] | None:
    """``[[VAR, parts], ...]``: the env rendered with ``tokens``, split at them (:mod:`omnitron.secret_tokens`);
    ``None`` when a secret was asked for more often than its token came out (a template function transformed it)."""
    seen: dict[str, int] = {}
    out = [[var, tokens.split(text, seen)] for var, text in marked.items()]
    return out if seen == tokens.asked else None


def _every_secret_referenced(env: list[list[Any]], masked: dict[str, str]) -> bool:
    """Whether each secret output of the env (masked as ``****`` for display) is a reference, none a value computed
    without the store (a plugin's secret template function): such a value must never reach the cache."""
    from ..templating import MASK

    return all(masked.get(var, "").count(MASK) == sum(1 for part in parts if isinstance(part, dict)) for var, parts in env)
