"""The gateway as a native process (the process provider's recipe): ``openresty`` on PATH, else Debian's nginx with its Lua module.

nginx runs in the foreground (``daemon off`` is in the generated main file)
with its own prefix, the service's data directory: ``conf/`` (a copy of the
generated files, ``conf/conf.d/`` a copy of the operator's ``configDir``,
``conf/mime.types``), ``temp/``, ``logs/access.log``, ``nginx.pid``; errors go
to stderr, which is the service's log. Everything nginx reads is
under the prefix, which its user owns: when omnitron runs as root it is the
unprivileged service user, who may not be able to reach the project.

Debian's nginx has the Lua module as a dynamic module: it is loaded with
``-g "load_module ...;"`` on every command line (start, ``-t``, reload); an
``openresty`` binary has it built in. Commands run beside the service (``-t``,
``-s reload``) find the binary, the prefix and those directives in its exec
env (:data:`NATIVE_EXEC`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from omnitron.api import ProcessRecipe, ProcessRun, ProvisionError

from .files import read_tree, write_files
from .layout import OPTION_CONFIG_DIR, OPTION_FILES_DIR

NATIVE_EXEC = (
    'exec "$OMNITRON_NGINX_BIN" -p "$OMNITRON_NGINX_PREFIX/" -c "$OMNITRON_NGINX_PREFIX/conf/nginx.conf" -e stderr '
    '${OMNITRON_NGINX_GLOBALS:+-g "$OMNITRON_NGINX_GLOBALS"} "$@"'
)
"""``sh -c`` script running the gateway's nginx with ``"$@"``, beside the service (its exec env names the rest)."""
OPENRESTY_PATHS = ("/usr/local/openresty/bin/openresty", "/usr/local/openresty/nginx/sbin/nginx")
MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/share/nginx/modules", "/usr/lib64/nginx/modules")
LUA_MODULES = ("ndk_http_module.so", "ngx_http_lua_module.so")
"""Debian's dynamic modules OpenResty has built in, in load order (the Lua module needs the devel kit)."""
MIME_TYPES = ("/etc/nginx/mime.types", "/usr/local/openresty/nginx/conf/mime.types")
_MINIMAL_MIME = b"types {\n    text/html html htm;\n    text/css css;\n    application/javascript js;\n    application/json json;\n    text/plain txt;\n    image/png png;\n    image/svg+xml svg;\n}\n"
_VERSION = re.compile(r"(?:openresty|nginx)/(\d+(?:\.\d+)+)")


def conf_tree(generated: Mapping[str, str], operator: Mapping[str, bytes]) -> dict[str, bytes]:
    """Everything under ``<prefix>/conf``: the generated files, the operator's under ``conf.d/``, ``mime.types``."""
    tree: dict[str, bytes] = {rel: text.encode() for rel, text in generated.items()}
    tree.update({f"conf.d/{rel}": data for rel, data in operator.items()})
    mime = next((Path(p) for p in MIME_TYPES if Path(p).is_file()), None)
    tree["mime.types"] = mime.read_bytes() if mime is not None else _MINIMAL_MIME
    return tree


def lua_modules() -> list[str]:
    """The module files Debian's nginx needs for Lua, or a :class:`ProvisionError` saying what to install."""
    for directory in MODULE_DIRS:
        found = [Path(directory) / name for name in LUA_MODULES]
        if all(p.is_file() for p in found):
            return [str(p) for p in found]
    raise ProvisionError(f"nginx has no Lua module: install libnginx-mod-http-lua (looked in {', '.join(MODULE_DIRS)}), or put openresty on PATH")


def _openresty() -> str | None:
    return shutil.which("openresty") or next((p for p in OPENRESTY_PATHS if os.access(p, os.X_OK)), None)


class OpenrestyRecipe(ProcessRecipe):
    search_paths = ("/usr/local/openresty/bin", "/usr/sbin", "/usr/local/sbin", "/usr/bin")
    refuses_root = True
    """nginx would run as root and drop its workers to ``nobody``; here all of it runs as the service user."""
    install_hint = "install OpenResty (openresty on PATH), or nginx with its Lua module (`apt-get install nginx-light libnginx-mod-http-lua`)"
    uses_run_dir: ClassVar[bool] = False
    stop_signal: ClassVar[int] = signal.SIGQUIT
    """A graceful stop: requests in flight are finished."""

    def __init__(self) -> None:
        found = _openresty()
        self.binaries = (found,) if found else ("nginx",)

    @property
    def is_openresty(self) -> bool:
        return Path(self.binaries[0]).name == "openresty" or "openresty" in self.binaries[0]

    def version(self, binary: Path) -> str | None:
        try:
            result = subprocess.run([str(binary), "-v"], capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        found = _VERSION.search((result.stderr + result.stdout).decode(errors="replace"))
        return found.group(1) if found else None

    def _globals(self, run: ProcessRun) -> str:
        if self.is_openresty:
            return ""
        return " ".join(f"load_module {path};" for path in lua_modules())

    async def before_start(self, run: ProcessRun) -> None:
        """The prefix's directories (``temp/`` owned by the service's user), and a fresh copy of the config under ``conf/``."""
        options = run.spec.service.process.options if run.spec.service.process is not None else {}
        files = Path(options.get(OPTION_FILES_DIR) or run.spec.service.files_dir)
        generated = {rel: data.decode() for rel, data in read_tree(files).items()}
        if "nginx.conf" not in generated:
            raise ProvisionError(f"service {run.name}: no generated nginx.conf in {files} (omnitron writes it before the start)")
        config_dir = options.get(OPTION_CONFIG_DIR)
        write_files(run.data_dir / "conf", conf_tree(generated, read_tree(Path(config_dir)) if config_dir else {}))
        for name in ("temp", "logs"):
            made = run.data_dir / name
            made.mkdir(exist_ok=True)
            if run.user is not None:
                import pwd

                entry = pwd.getpwnam(run.user)
                os.chown(made, entry.pw_uid, entry.pw_gid)
        self._globals(run)  # a missing Lua module fails here, with what to install

    def command(self, run: ProcessRun) -> list[str]:
        argv = [str(run.binaries[Path(self.binaries[0]).name]), "-p", f"{run.data_dir}/", "-c", f"{run.data_dir}/conf/nginx.conf", "-e", "stderr"]
        extra = self._globals(run)
        return [*argv, "-g", extra] if extra else argv

    def env(self, run: ProcessRun) -> dict[str, str]:
        """The env the gateway gets from the services it uses (``REDIS_URL``); the main file passes it to the workers."""
        return dict(run.spec.env)

    def exec_env(self, run: ProcessRun) -> dict[str, str]:
        return {
            "OMNITRON_NGINX_BIN": str(run.binaries[Path(self.binaries[0]).name]),
            "OMNITRON_NGINX_PREFIX": str(run.data_dir),
            "OMNITRON_NGINX_GLOBALS": self._globals(run),
        }
