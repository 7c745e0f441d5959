"""Helpers of the gateway's tests: real nginx with Lua (natively, or in the stand-in image), apps started with
``omnitron run``, everything driven through the real CLI.

Every project lives in a directory of its own under /tmp (mode 0755: a native
nginx runs as the unprivileged service user when the tests run as root), with
its own project name, secret key and free ports.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from omnitron.testing import CliProject, free_port, unavailable

IMAGE = "omnitron-test/openresty:1.27"
REDIS_IMAGE = "omnitron-test/redis:7"
APP = '''
import http.server, os, sys
name = sys.argv[1]
port = int(os.environ.get("LISTEN_PORT") or os.environ["PORT"])

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = f"{name} {port} {self.path}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True

print(f"{name} listening on {port}", flush=True)
Server(("127.0.0.1", port), Handler).serve_forever()
'''
SITE = '''server {
    include omnitron/server.conf;
    location /orders/ { proxy_pass http://orders/; }
    location /inventory/ { proxy_pass http://inventory/; }
    location = /revision { default_type text/plain; return 200 "revision 1\\n"; }
    location = /lua { content_by_lua_block { ngx.say(require("omnitron.gateway").lookup("orders")) } }
}

server {
    include omnitron/server.conf;
    server_name ~^(?<app>[a-z]+)\\.localhost$;
    location / { proxy_pass http://$app; }
}
'''


def nginx_with_lua() -> None:
    """Debian's nginx with its Lua module, or openresty, else the test is skipped (failed under ``OMNITRON_REQUIRE_SERVICES=1``)."""
    if shutil.which("openresty"):
        return
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        unavailable("nginx is not installed (apt-get install nginx-light libnginx-mod-http-lua)")
    if not os.path.exists("/usr/lib/nginx/modules/ngx_http_lua_module.so"):
        unavailable("nginx's Lua module is not installed (apt-get install libnginx-mod-http-lua)")


def docker_image() -> None:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        unavailable("no Docker engine answers (bash .ci/docker-up.sh)")
    for image in (IMAGE, REDIS_IMAGE):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
            unavailable(f"image {image} is not built (bash .ci/build-images.sh)")


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def get(url: str, *, host: str | None = None, timeout: float = 5.0) -> tuple[int, str]:
    """``GET url`` on a new connection: status and body."""
    rest = url.removeprefix("http://")
    address, _, path = rest.partition("/")
    hostname, _, port = address.partition(":")
    conn = http.client.HTTPConnection(hostname, int(port or 80), timeout=timeout)
    try:
        conn.request("GET", "/" + path, headers={"Host": host or address, "Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


class GatewayProject(CliProject):
    """A project with a gateway, apps and the operator's nginx files, run through the CLI."""

    def __init__(self, provider: str) -> None:
        super().__init__("gw")
        self.provider = provider
        self.port = free_port()
        self.apps: dict[str, subprocess.Popen] = {}

    @property
    def site(self) -> Path:
        return self.root / "infra" / "nginx" / "site.conf"

    def write(self, *, apps: tuple[str, ...] = ("orders", "inventory"), gateway: dict[str, Any] | None = None, services: dict[str, Any] | None = None,
              app_config: dict[str, Any] | None = None, legacy: bool = False, site: str | None = SITE) -> None:
        config: dict[str, Any] = {"port": self.port, **({"configDir": "./infra/nginx"} if site is not None else {}), **(gateway or {})}
        if self.provider == "docker":
            config.setdefault("image", IMAGE)
        infra: dict[str, Any] = {"services": dict(services or {})}
        if legacy:
            infra["gateway"] = config
        else:
            infra["services"]["gateway"] = {"preset": "openresty", "config": config}
        self.write_ecosystem({"apps": [{"name": a} for a in apps], "infrastructure": infra, "stacks": {"dev": {"provider": self.provider}}})
        for app in apps:
            self.write_app(app, {"services": {"gateway": True}, **(app_config or {}).get(app, {})}, {"app.py": APP})
        if site is not None:
            self.site.parent.mkdir(parents=True, exist_ok=True)
            self.site.write_text(site)

    def app_env(self, app: str) -> dict[str, str]:
        return json.loads(self.ok("infra", "env", app, "--format", "json", "--show-secrets"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status(self) -> dict[str, Any]:
        return self.json("infra", "status")["services"]["gateway"]

    def master_pid(self) -> int:
        """The nginx master: the native process, or the container's main process (seen from the host)."""
        state = self.status()
        if self.provider == "docker":
            return int(docker("inspect", "-f", "{{.State.Pid}}", state["containerId"]).strip())
        return int(state["containerId"])

    def run_app(self, app: str, **env: str) -> subprocess.Popen:
        """``omnitron run APP -- python app.py APP`` in the background (its own session); extra env for the app."""
        log = open(self.root / f"{app}.log", "ab")
        proc = subprocess.Popen(
            [self.executable, "run", app, "--", sys.executable, "app.py", app],
            cwd=self.root / "apps" / app, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.apps[app] = proc
        return proc

    def stop_app(self, app: str) -> None:
        proc = self.apps.pop(app)
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def wait_for(self, path: str, expect: str, *, host: str | None = None, timeout: float = 60) -> str:
        """Until ``GET path`` through the gateway answers 200 with ``expect`` in its body; the body."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                status, body = get(self.url + path, host=host)
                if status == 200 and expect in body:
                    return body
                last = (status, body.strip()[:200])
            except OSError as exc:
                last = exc
            time.sleep(0.1)
        logs = {a: (self.root / f"{a}.log").read_text() for a in self.apps if (self.root / f"{a}.log").exists()}
        raise AssertionError(f"GET {path} never answered {expect!r} within {timeout}s; last: {last}; app logs: {logs}")

    def docker_objects(self) -> dict[str, list[str]]:
        """Containers, volumes and networks carrying this project's label."""
        found: dict[str, list[str]] = {}
        if self.provider == "docker":
            for kind, listing in (("container", ["ps", "-a"]), ("volume", ["volume", "ls"]), ("network", ["network", "ls"])):
                if ids := docker(*listing, "-q", "--filter", f"label=omnitron.project={self.name}", check=False).split():
                    found[kind] = ids
        return found

    def cleanup(self) -> None:
        for app in list(self.apps):
            self.stop_app(app)
        super().cleanup()
        for kind, ids in self.docker_objects().items():
            docker(*{"container": ["rm", "-f"], "volume": ["volume", "rm", "-f"], "network": ["network", "rm"]}[kind], *ids, check=False)
