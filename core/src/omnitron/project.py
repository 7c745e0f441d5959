"""A project on disk: where its config is, its state directory, its plugins, its plan.

The thin I/O layer around the pure planner: it finds and reads files, hands
the planner what the installed providers say of themselves, and digests the
mounted config files the draft plan names before its spec hashes are computed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from . import layout
from .digests import digest_path
from .errors import ConfigError
from .loader import CONFIG_FILES, SCRIPT_HINT, LoadedProject, find_config, load_project, not_a_file, script_config
from .plan import Plan
from .planner import PlanOptions, draft_plan, hash_plan, mounted_files
from .plugins import PluginManager

STATE_DIRNAME = layout.STATE_DIRNAME


def _script_hint(start: Path, *, parents: bool = True) -> str:
    """What to add when the TypeScript original's ``omnitron.config.ts`` is there instead."""
    found = script_config(start, parents=parents)
    return f"; {found} is not read: {SCRIPT_HINT}" if found is not None else ""


class Project:
    """One omnitron project: ``omnitron.config.py``/``omnitron.toml`` and its apps."""

    def __init__(self, config_file: Path, plugins: PluginManager | None = None) -> None:
        self.config_file = config_file.resolve()
        self.root = self.config_file.parent
        self._plugins = plugins

    @classmethod
    def discover(cls, explicit: Path | str | None = None, *, plugins: PluginManager | None = None) -> "Project":
        """The project named by ``--project``/``OMNITRON_PROJECT``, or found from the current directory up."""
        explicit = explicit or os.environ.get("OMNITRON_PROJECT") or None
        if explicit:
            path = Path(explicit)
            if path.is_dir():
                found = find_config(path, parents=False)
                if found is None:
                    raise ConfigError(f"no {' or '.join(CONFIG_FILES)} in {path}{_script_hint(path, parents=False)}")
                return cls(found, plugins)
            if path.is_file():
                return cls(path, plugins)
            raise ConfigError(not_a_file(path) or "no such file or directory", file=str(path))
        found = find_config(Path.cwd())
        if found is None:
            raise ConfigError(f"no {' or '.join(CONFIG_FILES)} in {Path.cwd()} or any parent directory (use --project DIR){_script_hint(Path.cwd())}")
        return cls(found, plugins)

    @property
    def plugins(self) -> PluginManager:
        if self._plugins is None:
            from .plugins import default_manager

            self._plugins = default_manager()
        return self._plugins

    @cached_property
    def loaded(self) -> LoadedProject:
        return load_project(self.config_file)

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def state_dir(self) -> Path:
        return layout.state_dir(self.root)

    def stack_dir(self, stack: str) -> Path:
        return layout.stack_dir(self.root, stack)

    def files_dir(self, stack: str, service: str) -> Path:
        """The files directory of ``service`` in ``stack`` (what its preset generates for it)."""
        return layout.files_dir(self.root, stack, service)

    def default_stack(self) -> str:
        return self.loaded.ecosystem.default_stack

    def plan(self, stack: str | None = None, *, provider: str | None = None, available: Mapping[str, bool] | None = None) -> Plan:
        """Plan ``stack``; spec hashes include digests of bind-mounted files.

        :param provider: ``--provider`` (overrides the stack's choice).
        :param available: provider name -> whether it can work here now (what ``auto`` prefers).
        """
        options = PlanOptions(stack=stack, environ=os.environ, provider=provider, providers=self.plugins.provider_descriptors(available))
        draft = draft_plan(self.loaded, self.plugins, options)
        return hash_plan(draft, {source: digest_path(Path(source)) for source in mounted_files(draft)})

    def planned_from(self, plan: Plan) -> list[str]:
        """Every file ``plan`` was made from: the ecosystem config, each app's config (present or not), mounted files."""
        files = [str(self.config_file)]
        for app in self.loaded.apps.values():
            files.append(str(app.config_file or app.path / "config" / "default.json"))
        files.extend(str(Path(source)) for source in mounted_files(plan))
        return list(dict.fromkeys(files))
