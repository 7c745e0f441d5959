"""From a loaded stack to an :class:`~.kubernetes.Export` of one format: the inputs the pure functions need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omnitron.api import OmnitronError, Renderer, recorded_allocations

from .common import Rendering, holds_secret, secret_keys, shell_secret
from .compose import compose_file
from .kubernetes import READER, Export, manifests


def bind_sources(plan: Any) -> list[str]:
    return sorted({v.source for s in plan.services if s.docker for v in s.docker.volumes if v.type == "bind"})


def export_of(loaded: Any, fmt: str, read: Callable[[list[str]], dict[str, dict[str, str]]], *, reader: str = READER, secret: Callable[[str], str] = shell_secret) -> Export:
    """The stack in format ``fmt``; ``secret``: what a secret renders to (a token; its value for :func:`secret_content`)."""
    plugins = loaded.project.plugins
    renderer = Rendering(Renderer(plugins.template_functions), secret)
    if fmt == "compose":
        return compose_file(loaded.plan, renderer, plugins.probes, reader=reader)
    return manifests(loaded.plan, renderer, plugins.probes, files=read(bind_sources(loaded.plan)), allocations=recorded_allocations(loaded.project.state_dir, loaded.plan.stack, loaded.plan.allocation_requests()), reader=reader)


def secret_content(loaded: Any, fmt: str, read: Callable[[list[str]], dict[str, dict[str, str]]], ref: str) -> str:
    """The content of one key of a referenced Secret (``NAME/KEY``), rendered with the values read from the store now.

    :raises PlanError: no Secret of the export has that key.
    :raises OmnitronError: a secret it holds cannot be read.
    """
    from omnitron.api import PlanError, secret_value

    name, _, key = ref.partition("/")
    owners = {store_key: (svc, logical) for svc in loaded.plan.services for logical, store_key in svc.secrets.items()}
    failures: dict[str, OmnitronError] = {}

    def value(store_key: str) -> str:
        if store_key not in owners:
            failures[store_key] = PlanError(f"secret {store_key!r} belongs to no service of stack {loaded.plan.stack}")
            return shell_secret(store_key)
        try:
            return secret_value(loaded.project, *owners[store_key])
        except OmnitronError as exc:  # only an error if the content asked for needs it
            failures[store_key] = exc
            return shell_secret(store_key)

    content = export_of(loaded, fmt, read, secret=value).content(name, key)
    if content is None:
        raise PlanError(f"no Secret {name!r} with key {key!r} in this export", path="--secret")
    if holds_secret(content):
        failure = next((failures[k] for k in secret_keys(content) if k in failures), None)
        raise failure or PlanError(f"Secret {name!r} key {key!r}: a secret in it could not be read", path="--secret")
    return content


def dump_all(docs: list[dict[str, Any]]) -> str:
    """YAML documents as people write them (no anchors or aliases for repeated labels)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump_all(docs, Dumper=Dumper, sort_keys=False)
