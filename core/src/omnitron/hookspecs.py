"""Every hook of omnitron's core, grouped by what it registers.

Hooks are synchronous and cheap: they only hand omnitron *classes*, whose
(possibly async) methods do the work later. Every hook is called once per
plugin manager; the results of all plugins are merged and a name provided twice
is an error naming both distributions. omnitron's own built-ins (the tcp/http/
command probes, the encrypted ``file`` secret backend, the ``host``/``port``/
``secret``/``alloc`` template functions) register through these same hooks.

Plugins are found through the ``omnitron`` entry-point group::

    [project.entry-points.omnitron]
    mysql = "omnitron_mysql.plugin"

and implement hooks with :data:`omnitron.hookimpl`::

    from omnitron import hookimpl

    @hookimpl
    def omnitron_add_presets():
        return [MySQLPreset]

A plugin may define hooks of its own for other plugins to implement
(``omnitron_add_hookspecs``): the bare-metal provider's discovery backends
are one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .cli_registry import CommandSpec
    from .registry import PluginHooks
    from .health import HealthProbe
    from .presets import Preset
    from .providers import Provider
    from .secrets.base import SecretBackend
    from .templating import TemplateFunction

PROJECT = "omnitron"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -------------------------------------------------------------------------
# Services: what can be declared and how it is run
# -------------------------------------------------------------------------


@hookspec
def omnitron_add_presets() -> list[type[Preset]]:
    """Register service presets (``{"preset": "postgres"}``).

    A preset turns a short declaration into a full
    :class:`~omnitron.model.ServiceRequirement`, says what an app shorthand
    (``"database": true``) allocates and injects, and prepares the running
    service (databases, buckets) once it is healthy; ``prepare`` may return
    *service facts* (public values known only then, such as a hostname),
    recorded in the state store and handed to every template context.

    :returns: :class:`~omnitron.presets.Preset` subclasses; each
        ``Preset.name`` must be unique across all plugins.

    Called once, the first time presets are needed (planning).
    """


@hookspec
def omnitron_add_providers() -> list[type[Provider]]:
    """Register providers: what makes a planned service run (containers, native processes, remote servers).

    A provider describes itself with class attributes the planner reads as
    plain data (:class:`~omnitron.providers.ProviderDescriptor`): ``runs_from``
    (the part of a requirement it runs: ``docker``, ``process``,
    ``bare_metal``, or ``None``), ``assigns_host_ports``, ``manages_lifecycle``,
    ``auto_priority`` (``None``: only when a stack or ``--provider`` names it),
    ``is_available()``, a pure ``can_run(requirement, preset)``, ``data_noun``;
    see :class:`~omnitron.providers.Provider`. Keep the class cheap to import
    (``implementation`` names a subclass with the heavy methods).

    :returns: :class:`~omnitron.providers.Provider` subclasses, or
        :class:`~omnitron.lazy.LazyClass` references imported on first use;
        each ``name`` must be unique. They are instantiated per command with a
        :class:`~omnitron.providers.ProviderContext`.

    Called once, when a plan is made (the planner reads every provider's description).
    """


@hookspec
def omnitron_add_health_probes() -> list[type[HealthProbe]]:
    """Register health probe kinds (``tcp``, ``http``, ``command`` are built in).

    A probe's ``name`` is the key used under ``healthCheck`` in a declaration.

    :returns: :class:`~omnitron.health.HealthProbe` subclasses.

    Called once, when a plan is made (to validate declarations) or a gate waits.
    """


# -------------------------------------------------------------------------
# Env injection
# -------------------------------------------------------------------------


@hookspec
def omnitron_add_template_functions() -> list[type[TemplateFunction]]:
    """Register env template functions: ``${NAME}`` or ``${NAME:ARG}``.

    ``host``, ``port``, ``secret`` and ``alloc`` are built in.

    :returns: :class:`~omnitron.templating.TemplateFunction` subclasses; their
        ``render`` must be pure (no I/O): what they need comes in the context,
        which holds the whole plan (``ctx.plan``) and the *service facts*
        recorded so far (``ctx.facts``: service -> values its preset's
        ``prepare`` returned, such as a hidden service's hostname). A function
        reading a fact adds its service to ``ctx.needs`` (an app whose env uses
        it then depends on that service, so ``omnitron run`` brings it up
        first) and renders ``PENDING`` while the fact is not recorded yet.

    Called once, when a plan is made.
    """


@hookspec
def omnitron_add_secret_backends() -> list[type[SecretBackend]]:
    """Register secret backends (the encrypted ``file`` store is built in).

    A project selects one with ``secrets = { backend = "NAME" }``.

    :returns: :class:`~omnitron.secrets.base.SecretBackend` subclasses.

    Called once, when the first secret is read or written.
    """


# -------------------------------------------------------------------------
# Command line
# -------------------------------------------------------------------------


@hookspec
def omnitron_add_commands() -> list[CommandSpec]:
    """Register CLI commands, e.g. ``omnitron infra psql``.

    Commands are given as import strings so they are imported only when run,
    which keeps ``omnitron --help`` fast.

    :returns: :class:`~omnitron.cli_registry.CommandSpec` entries.

    Called once, when the CLI is built.
    """


# -------------------------------------------------------------------------
# Plugins extending plugins
# -------------------------------------------------------------------------


@hookspec
def omnitron_add_hookspecs() -> list[PluginHooks]:
    """Register hooks of the plugin's own, so other plugins can extend it (a provider's discovery backends).

    Each :class:`~omnitron.registry.PluginHooks` holds a module (or class) of
    hook specifications marked with ``omnitron.api.hookspec`` and named
    ``omnitron_<plugin>_*``, and the :class:`~omnitron.registry.Kind` of
    registry each hook fills. The plugin reads a registry with
    ``plugins.registry(HOOK)`` (``ctx.plugins`` in a provider): the same typed
    registry as the core's, so a name given twice is an error naming both
    distributions. ``omnitron plugins list`` shows what each plugin provides
    through them. A hook defined by two plugins is an error naming both.

    :returns: :class:`~omnitron.registry.PluginHooks` entries.

    Called once for each plugin, as it is registered, before any plugin's hook
    implementations are checked (a plugin implementing them may load first).
    """
