"""Where the gateway's files are: on the host, and as nginx sees them in a container or as a native process. Pure.

On the host, omnitron writes the generated files to the service's files
directory and reads the operator's ``configDir`` in place. nginx reads:

- in a container: the files directory mounted read-only at :data:`GENERATED`
  (``nginx.conf`` there is the main file), ``configDir`` read-only at
  :data:`OPERATOR` (the official image's ``conf.d``); pid and temp files in
  ``/tmp``;
- natively: a copy of both under its prefix (the process's data directory,
  which its unprivileged user owns): ``<prefix>/conf/`` and
  ``<prefix>/conf/conf.d/``; every path in ``nginx.conf`` is relative to the
  prefix or the conf directory, so the same file works wherever the prefix is.

The operator's files name generated ones relative to the conf directory
(``include omnitron/server.conf;``), which is the same in both.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnitron.api import PlannedService

GENERATED = "/etc/omnitron/nginx"
"""Where the files directory is mounted in the container (``-c`` names ``nginx.conf`` there)."""
OPERATOR = "/etc/nginx/conf.d"
"""Where ``configDir`` is mounted in the container: the official image's ``conf.d``."""
IMAGE_MIME_TYPES = "/usr/local/openresty/nginx/conf/mime.types"
"""``mime.types`` of the official image (and of its local stand-in)."""
OPTION_CONFIG_DIR = "configDir"
OPTION_FILES_DIR = "filesDir"
"""Keys of the process part's ``options``: the operator's directory and the files directory, absolute."""


@dataclass(frozen=True)
class Layout:
    """The gateway's paths for one way of running it."""

    native: bool
    files_dir: Path
    """Host: the generated files."""
    config_dir: Path | None
    """Host: the operator's files (``None``: none declared)."""
    listen: str
    """What ``listen`` says: ``127.0.0.1:8080`` (the stack's bind address and the planned host port)."""
    operator: str
    """Where nginx reads the operator's files from (a directory)."""
    pid: str
    temp: str
    """Prefix of nginx's temp directories (``<temp>client_body``...)."""
    lua_root: str
    """Where ``require`` finds the generated Lua module (``lua_package_path``)."""
    lua_operator: str
    """Where ``require`` finds Lua modules the operator ships in ``configDir`` (``ratelimit.lua``)."""
    mime_types: str
    conf_root: str
    """Where nginx reads the generated files (the directory of its ``nginx.conf``)."""
    access_log: str
    """``/dev/stdout`` in a container (its log); natively ``logs/access.log`` under the prefix (an unprivileged nginx
    cannot reopen the service log the provider hands it as stdout)."""

    config_label: str | None = None
    """``configDir`` as the operator wrote it (``infra/nginx``)."""

    def shown(self, path: str) -> str:
        """A path as nginx reported it, as the operator knows it: a file of their ``configDir``, or a generated one."""
        for root, host in ((self.operator, self.config_label), (self.conf_root, str(self.files_dir))):
            if host and root and path.startswith(root.rstrip("/") + "/"):
                return posixpath.join(host, path[len(root.rstrip("/")) + 1 :])
        return path


def layout_of(svc: PlannedService, *, prefix: str | None = None) -> Layout:
    """The layout of ``svc`` as planned (container or native); ``prefix``: the native process's, when known."""
    label = posixpath.normpath(svc.config["config_dir"]) if svc.config.get("config_dir") else None
    bind = "127.0.0.1" if svc.bind_address in ("", "localhost") else svc.bind_address
    listen = f"[{bind}]:{svc.ports['http']}" if ":" in bind else f"{bind}:{svc.ports['http']}"
    files_dir = Path(svc.files_dir)
    if svc.docker is not None:
        source = next((v.source for v in svc.docker.volumes if v.target == OPERATOR and v.type == "bind"), None)
        host_network = svc.docker.network is not None and svc.docker.network.name == "host"
        inside = str(svc.docker.ports.get("http") or svc.target_ports.get("http") or 80)
        return Layout(
            native=False, files_dir=files_dir, config_dir=Path(source) if source else None,
            listen=listen if host_network else inside, operator=OPERATOR, pid="/tmp/omnitron-nginx.pid",
            temp="/tmp/omnitron-nginx-", lua_root=GENERATED, lua_operator=OPERATOR, mime_types=IMAGE_MIME_TYPES, conf_root=GENERATED, config_label=label, access_log="/dev/stdout",
        )
    options = svc.process.options if svc.process is not None else {}
    config_dir = options.get(OPTION_CONFIG_DIR)
    conf_root = posixpath.join(prefix, "conf") if prefix else "conf"
    return Layout(
        native=True, files_dir=Path(options.get(OPTION_FILES_DIR) or files_dir), config_dir=Path(config_dir) if config_dir else None,
        listen=listen, operator="conf.d" if prefix is None else posixpath.join(conf_root, "conf.d"), pid=posixpath.join(prefix, "nginx.pid") if prefix else "nginx.pid",
        temp="temp/", lua_root="$prefix/conf", lua_operator="$prefix/conf/conf.d", mime_types="mime.types", conf_root=conf_root, config_label=label, access_log="logs/access.log",
    )
