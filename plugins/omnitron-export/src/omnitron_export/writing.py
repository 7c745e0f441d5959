"""From a loaded stack to an :class:`~.kubernetes.Export` of one format: the inputs the pure functions need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omnitron.api import Renderer

from .compose import compose_file
from .kubernetes import Export, manifests


def bind_sources(plan: Any) -> list[str]:
    return sorted({v.source for s in plan.services if s.docker for v in s.docker.volumes if v.type == "bind"})


def recorded_allocations(loaded: Any) -> dict[str, dict[str, dict[str, str]]]:
    """App -> service -> the allocation values recorded by the last ``up`` (none before it)."""
    state_db = loaded.project.state_dir / "state.db"
    if not state_db.exists():
        return {}
    from omnitron.api import StateStore

    out: dict[str, dict[str, dict[str, str]]] = {}
    with StateStore(loaded.project.state_dir) as state:
        for row in state.allocations(loaded.plan.stack):
            out.setdefault(row["app"], {})[row["service"]] = dict(row["values"])
    return out


def export_of(loaded: Any, fmt: str, read: Callable[[list[str]], dict[str, dict[str, str]]]) -> Export:
    plugins = loaded.project.plugins
    renderer = Renderer(plugins.template_functions)
    if fmt == "compose":
        return compose_file(loaded.plan, renderer, plugins.probes)
    return manifests(loaded.plan, renderer, plugins.probes, files=read(bind_sources(loaded.plan)), allocations=recorded_allocations(loaded))


def dump_all(docs: list[dict[str, Any]]) -> str:
    """YAML documents as people write them (no anchors or aliases for repeated labels)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump_all(docs, Dumper=Dumper, sort_keys=False)
