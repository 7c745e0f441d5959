"""The ``omnitron`` command line (cyclopts): the apps, their commands and :func:`main`.

Sub-commands are registered by import string, so ``omnitron --help`` imports
none of them; the apps themselves (and cyclopts) are built on first use, so
an answer replayed from :mod:`.output_cache` imports neither. A user's
mistake ends as one line on stderr and exit code 2; nothing else may print a
traceback.
"""

from __future__ import annotations

import sys
from typing import Any

from .. import __version__

_APPS = ("app", "infra", "plugins_app", "config_app", "secret_app", "daemon_app", "backup_app")


def _version() -> str:
    from ..plugins import default_manager

    try:
        pm = default_manager()
        infos = pm.plugin_infos()
    except Exception as exc:  # version must print even with broken plugins
        return f"omnitron {__version__} (plugins: {exc})"
    plugins = ", ".join(f"{i.name} {i.version}" for i in infos if i.name != "omnitron")
    return f"omnitron {__version__}" + (f"\nplugins: {plugins}" if plugins else "")


def _build() -> dict[str, Any]:
    """The apps with the core's commands (once per process)."""
    built = {name: globals()[name] for name in _APPS if name in globals()}
    if len(built) == len(_APPS):
        return built
    from cyclopts import App

    app = App(
        name="omnitron",
        help="Infrastructure as declarative dependencies of apps.",
        version=_version,
        help_format="plaintext",
    )

    infra = App(name="infra", help="Plan, provision and inspect the project's infrastructure.")
    plugins_app = App(name="plugins", help="Installed plugins.")
    config_app = App(name="config", help="Config files: JSON Schema and validation.")
    secret_app = App(name="secret", help="The project's secret store.")
    daemon_app = App(name="daemon", help="The project's daemon: it keeps the stack as declared and serves the infrastructure API.")
    backup_app = App(name="backup", help="Back up and restore the stack's data (each service's preset copies it where it runs).")
    app.command(infra)
    app.command(daemon_app)
    app.command(backup_app)
    app.command("omnitron.cli.completion_cmd:install_completion", name="--install-completion", help="Install shell completion (bash, zsh or fish: --shell), completing app, service and stack names from the project.")
    app.command(plugins_app)
    app.command(config_app)
    app.command(secret_app)

    plugins_app.command("omnitron.cli.plugins_cmd:list_plugins", name="list", help="Installed plugins: name, version, hooks, what each provides.")
    plugins_app.command("omnitron.cli.plugins_cmd:new_plugin", name="new", help="Write a new plugin package (a preset or a provider) whose own tests pass.")
    config_app.command("omnitron.cli.config_cmd:schema", name="schema", help="JSON Schema (draft 2020-12) of omnitron.toml (--which ecosystem) or of config/default.json (--which app).")
    config_app.command("omnitron.cli.config_cmd:validate", name="validate", help="Check the ecosystem and every app config; plan every stack.")
    infra.command("omnitron.cli.infra_cmd:plan", name="plan", help="Show what up would do: services, providers, ports, order, each app's env.")
    built = {"app": app, "infra": infra, "plugins_app": plugins_app, "config_app": config_app, "secret_app": secret_app, "daemon_app": daemon_app, "backup_app": backup_app}
    globals().update(built)
    return built


def __getattr__(name: str) -> Any:
    if name in _APPS:
        return _build()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Commands registered by import string when their module is present: (sub-app, module, {name: help}).
_OPTIONAL = [
    ("secret_app", "omnitron.cli.secret_cmd", {
        "set": "Store a secret (value from the argument, stdin or a hidden prompt).",
        "get": "Print a secret's value.",
        "list": "List secret names (never values).",
        "rm": "Remove a secret.",
        "rotate-key": "Re-encrypt the store under a new key.",
    }),
    ("infra", "omnitron.cli.infra_run", {
        "up": "Provision all infrastructure and wait until it is healthy.",
        "down": "Stop everything of this stack; --volumes deletes data.",
        "status": "Inventory of managed services.",
        "ps": "Inventory of managed services (alias of status).",
        "logs": "Service logs (-f to follow, -n N lines).",
        "env": "Print an app's env (secrets masked unless --show-secrets).",
        "migrate": "Run an app's migrate command with its env.",
        "reset": "DESTRUCTIVE: drop and recreate all data (needs --yes).",
    }),
    ("infra", "omnitron.cli.infra_wait", {"wait": "Wait until services are healthy (exit 0), or report the failing probe (exit 1)."}),
    ("backup_app", "omnitron.cli.backup_cmd", {
        "create": "Back up the running stack's data (pg_dump, Redis RDB, MySQL dump...), with a manifest of checksums.",
        "list": "List the backups: id, stack, when, services, size.",
        "restore": "Restore a backup (the newest by default), replacing current data (needs --yes).",
    }),
    ("app", "omnitron.cli.run_cmd", {"run": "Wait for an app's infrastructure, then exec a command with its env."}),
    ("infra", "omnitron.cli.infra_keep", {
        "events": "What the reconciler, the janitor and up did, and why (-f to follow).",
        "endpoints": "Endpoints handed to apps (services, env names, when): live or phantom.",
        "prune": "Show what can be pruned; remove only what is asked (--phantoms, --orphans).",
        "reconcile": "Reconcile now (the daemon's pass, or one pass here without a daemon).",
    }),
    ("daemon_app", "omnitron.cli.daemon_cmd", {
        "start": "Start the project's daemon in the background.",
        "stop": "Stop the project's daemon.",
        "status": "Whether the project's daemon runs, and what it keeps.",
        "run": "Run the daemon in the foreground (for systemd or a supervisor).",
    }),
]


_registered: set[tuple[int, str]] = set()


def _add(target: Any, import_path: str, name: str, help: str | None = None) -> None:
    """Register a command once, however often :func:`main` runs in one process."""
    key = (id(target), name)
    if key in _registered:
        return
    _registered.add(key)
    target.command(import_path, name=name, help=help)


def _register_optional() -> None:
    import importlib.util

    apps = _build()
    for target, module, names in _OPTIONAL:
        if importlib.util.find_spec(module) is None:
            continue
        for name, help_text in names.items():
            _add(apps[target], f"{module}:{name.replace('-', '_')}_cmd", name, help_text)


def _register_plugin_commands() -> None:
    from ..plugins import default_manager

    try:
        specs = default_manager().commands
    except Exception as exc:
        print(f"warning: plugin commands unavailable: {exc}", file=sys.stderr)
        return
    apps = _build()
    groups = {"": "app", "infra": "infra", "secret": "secret_app", "plugins": "plugins_app", "config": "config_app", "daemon": "daemon_app", "backup": "backup_app"}
    for spec in specs.values():
        target = groups.get(spec.group)
        if target is None:
            continue
        _add(apps[target], spec.target, spec.name, spec.help or None)


_BUILTIN_INFRA = {"plan", "up", "down", "status", "ps", "logs", "env", "migrate", "reset", "events", "endpoints", "prune", "reconcile", "wait"}


def _wants_plugin_commands(argv: list[str]) -> bool:
    """Plugin commands are loaded only when the command line may name one (keeps built-ins fast)."""
    words = [a for a in argv if not a.startswith("-")]
    if not words:
        return any(a in ("-h", "--help", "--install-completion") for a in argv)
    if words[0] == "infra":
        return len(words) < 2 or words[1] not in _BUILTIN_INFRA
    return words[0] not in {"plugins", "config", "secret", "run", "daemon", "backup"}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``omnitron`` script (``argv``: this process's command line when ``None``)."""
    own = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:
        print(_version())  # plain text: never wrapped to a terminal's width, whatever reads it
        return 0
    if own and _replayable(argv):
        from .output_cache import answer

        return answer(argv, lambda: _run(argv))
    return _run(argv)


def _replayable(argv: list[str]) -> bool:
    """The script's own help or plugin listing, with the installed plugins (not a test's manager)."""
    from .output_cache import cacheable

    plugins = sys.modules.get("omnitron.plugins")
    return cacheable(argv) and getattr(plugins, "_override", None) is None


def _run(argv: list[str]) -> int:
    _register_optional()
    if _wants_plugin_commands(argv):
        _register_plugin_commands()
    return _guarded(lambda: _build()["app"](argv, result_action="return_value", exit_on_error=False, print_error=False), argv)


def run_up(options: dict[str, Any]) -> int:
    """``omnitron infra up`` with ``options`` already read (:func:`omnitron.fastargs.parse_up`): no cyclopts, the same endings."""
    from pathlib import Path

    from .infra_up import up

    project = options.get("project")
    return _guarded(lambda: up(**{**options, "project": Path(project) if project is not None else None}), ["infra", "up"])


def _guarded(call: Any, argv: list[str]) -> int:
    """``call()``'s exit code; a user's mistake, Ctrl-C or a closed pipe ends as one line (or none), never a traceback.

    :param argv: the command line ``call`` parses, for the wording of a usage error.
    """
    from ..errors import OmnitronError

    try:
        result = call()
    except OmnitronError as exc:
        print(f"omnitron: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("omnitron: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): nothing left to say
        return 141
    except _cyclopts_error() as exc:  # type: ignore[misc]
        _print_usage_error(argv, exc)
        return 2
    if isinstance(result, bool) or result is None:
        return 0
    if isinstance(result, int):
        return result
    return 0


def _cyclopts_error() -> type[BaseException]:
    from cyclopts import CycloptsError

    return CycloptsError


def _print_usage_error(argv: list[str], exc: Any) -> None:
    """A command line cyclopts could not parse: cyclopts' own message, unless a command knows what was meant."""
    from cyclopts import UnknownOptionError

    if isinstance(exc, UnknownOptionError) and argv[:2] == ["secret", "set"]:
        from .secret_cmd import option_like_value_hint

        print(f"omnitron: {option_like_value_hint(argv[2:], exc.token.value)}", file=sys.stderr)
        return
    message = " ".join(str(exc).split())  # cyclopts wraps long messages: one line
    command = " ".join(["omnitron", *_command_words(argv), "--help"])
    print(f"omnitron: {message} (see `{command}`)", file=sys.stderr)


def _command_words(argv: list[str]) -> list[str]:
    """The commands named at the start of ``argv`` (``["infra", "up"]`` of ``infra up --bogus``), known ones only."""
    words: list[str] = []
    app = _build()["app"]
    for token in argv:
        if token.startswith("-"):
            break
        try:
            app = app[token]
        except Exception:  # not a command: an argument, or a misspelt command
            break
        words.append(token)
    return words
