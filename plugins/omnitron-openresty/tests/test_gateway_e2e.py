"""The gateway end to end, through the real CLI: real nginx with Lua natively (Debian's nginx and its Lua module, as
the service user when the tests run as root) and in Docker (the stand-in image ``omnitron-test/openresty``), apps
started with ``omnitron run``.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from gateway_testlib import GatewayProject, docker, get

pytestmark = pytest.mark.slow


def start_both(gateway: GatewayProject) -> None:
    gateway.write()
    gateway.ok("infra", "up")
    gateway.run_app("orders")
    gateway.run_app("inventory")
    gateway.wait_for("/orders/ping", "orders ")
    gateway.wait_for("/inventory/ping", "inventory ")


def test_two_apps_started_with_run_are_reached_through_gateway_url_by_path_and_by_host(gateway):
    start_both(gateway)
    env = gateway.app_env("orders")
    assert env["GATEWAY_URL"] == gateway.url == gateway.app_env("inventory")["GATEWAY_URL"]
    port = int(env["PORT"])  # allocated: the app declares none
    assert get(f"{env['GATEWAY_URL']}/orders/a/b?c=1") == (200, f"orders {port} /a/b?c=1\n")
    assert get(f"{env['GATEWAY_URL']}/inventory/x")[1].startswith("inventory ")
    # by host: the operator's second server maps <app>.localhost to the upstream of that name
    assert get(f"{env['GATEWAY_URL']}/by-host", host="inventory.localhost") == (200, f"inventory {gateway.app_env('inventory')['PORT']} /by-host\n")
    assert get(f"{env['GATEWAY_URL']}/lua") == (200, f"127.0.0.1:{port}\n")  # the Lua map
    # where the apps really listen was recorded by `omnitron run` (the watcher saw their sockets)
    endpoints = _endpoints(gateway)
    assert endpoints["orders"] == ("http", "127.0.0.1", port, "observed")


def _endpoints(gateway: GatewayProject) -> dict[str, tuple]:
    import sqlite3

    with sqlite3.connect(gateway.root / ".omnitron" / "state.db") as db:
        rows = db.execute("SELECT app, name, host, port, source FROM app_endpoints").fetchall()
    return {app: (name, host, port, source) for app, name, host, port, source in rows}


def test_an_app_restarted_on_another_port_is_reached_with_no_config_edit(gateway):
    start_both(gateway)
    first = int(gateway.app_env("orders")["PORT"])
    site = gateway.site.read_text()
    pid = gateway.master_pid()
    gateway.stop_app("orders")
    moved = first + 1 if first < 19999 else first - 1
    gateway.run_app("orders", LISTEN_PORT=str(moved))  # an app that listens elsewhere than PORT says
    assert gateway.wait_for("/orders/moved", f"orders {moved} ", timeout=60) == f"orders {moved} /moved\n"
    assert gateway.site.read_text() == site and gateway.master_pid() == pid  # no edit, a reload: the same nginx
    assert _endpoints(gateway)["orders"] == ("http", "127.0.0.1", moved, "observed")
    assert f"127.0.0.1:{moved}" in gateway.json("infra", "gateway", "show")["upstreams"]["orders"]
    gateway.wait_for("/inventory/still", "inventory ")


def test_no_request_fails_across_five_reloads_under_load(gateway):
    """2000 requests, each on a new connection to 127.0.0.1, while `infra up` reloads five changed configs."""
    import threading

    start_both(gateway)
    pid = gateway.master_pid()
    state = {"done": 0, "reloads_left": 5, "reload_seconds": [], "failures": [], "windows": []}
    lock = threading.Lock()
    began = time.monotonic()

    def load() -> None:
        for i in range(2000):
            try:
                status, body = get(f"{gateway.url}/orders/{i}")
                if status != 200 or not body.startswith("orders "):
                    state["failures"].append((i, status, body[:100]))
            except OSError as exc:
                state["failures"].append((i, type(exc).__name__, str(exc)))
            with lock:
                state["done"] += 1
                left = state["reloads_left"]
                spent = state["reload_seconds"] or [time.monotonic() - began]
            if left:  # pace so that every reload happens under load, and the 2000 last until the last one
                time.sleep(min(0.05, (sum(spent) / len(spent)) * left / max(1, 1900 - i)))

    worker = threading.Thread(target=load)
    worker.start()
    for revision in range(2, 7):
        gateway.site.write_text(gateway.site.read_text().replace(f"revision {revision - 1}", f"revision {revision}"))
        start, done_before = time.monotonic(), state["done"]
        gateway.ok("infra", "up")
        with lock:
            state["reload_seconds"].append(time.monotonic() - start)
            state["reloads_left"] -= 1
            state["windows"].append(state["done"] - done_before)
        assert get(f"{gateway.url}/revision") == (200, f"revision {revision}\n")
    worker.join(timeout=300)
    assert not worker.is_alive()
    assert state["done"] == 2000 and state["failures"] == []
    assert all(n >= 5 for n in state["windows"]), f"requests served during each reload: {state['windows']}"
    assert gateway.master_pid() == pid  # five reloads, no restart


def test_a_broken_config_is_one_line_naming_file_and_line_and_the_old_config_keeps_serving(gateway):
    start_both(gateway)
    good = gateway.site.read_text()
    gateway.site.write_text(good.replace('return 200 "revision 1\\n";', 'return 200 "revision 2\\n";\n    no_such_directive on;'))
    result = gateway("infra", "up")
    assert result.returncode == 1
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "no_such_directive" in line]
    assert lines == ['failed: service gateway: infra/nginx/site.conf:6: unknown directive "no_such_directive" (nginx -t); the gateway keeps serving its previous config'], result.stdout + result.stderr
    assert get(f"{gateway.url}/revision") == (200, "revision 1\n")
    assert get(f"{gateway.url}/orders/still")[0] == 200
    gateway.site.write_text(good.replace("revision 1", "revision 3"))
    gateway.ok("infra", "up")
    assert get(f"{gateway.url}/revision") == (200, "revision 3\n")


def test_a_changed_mounted_file_reaches_the_running_gateway_by_a_reload(gateway):
    """The upstream incident: a gateway config change never reached the gateway. Editors replace a file (a new
    inode): a bind mount of the file itself would keep showing the old one; the directory is mounted instead."""
    start_both(gateway)
    pid, container = gateway.master_pid(), gateway.status()["containerId"]
    planned = gateway.json("infra", "plan")["services"][0]
    replaced = gateway.site.with_name("site.conf.new")
    replaced.write_text(gateway.site.read_text().replace("revision 1", "revision 2"))
    inode = gateway.site.stat().st_ino
    os.replace(replaced, gateway.site)
    assert gateway.site.stat().st_ino != inode
    replanned = gateway.json("infra", "plan")["services"][0]
    assert replanned["specHash"] == planned["specHash"] and replanned["configDigest"] != planned["configDigest"]
    gateway.ok("infra", "up")
    assert get(f"{gateway.url}/revision") == (200, "revision 2\n")
    assert (gateway.master_pid(), gateway.status()["containerId"]) == (pid, container)  # reloaded, not recreated
    with gateway.site.open("r+") as f:  # an edit in place, same inode
        text = f.read().replace("revision 2", "revision 3")
        f.seek(0)
        f.write(text)
        f.truncate()
    gateway.ok("infra", "up")
    assert get(f"{gateway.url}/revision") == (200, "revision 3\n")
    if gateway.provider == "docker":
        mounts = {m["Destination"]: m for m in json.loads(docker("inspect", container))[0]["Mounts"]}
        assert mounts["/etc/nginx/conf.d"]["Source"] == str(gateway.site.parent) and mounts["/etc/nginx/conf.d"]["RW"] is False
        assert mounts["/etc/omnitron/nginx"]["RW"] is False


REDIS_SITE = '''server {
    include omnitron/server.conf;
    location /orders/ { proxy_pass http://orders/; }
    location = /count {
        content_by_lua_block {
            local r = require("omnitron.gateway").redis()
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect(r.host, r.port))
            local function call(...)
                local parts = { "*" .. select("#", ...) }
                for _, arg in ipairs({ ... }) do
                    arg = tostring(arg)
                    parts[#parts + 1] = "$" .. #arg
                    parts[#parts + 1] = arg
                end
                assert(sock:send(table.concat(parts, "\\r\\n") .. "\\r\\n"))
                return assert(sock:receive("*l"))
            end
            if r.password then call("AUTH", r.password) end
            call("SELECT", r.db)
            ngx.say(r.db, " ", call("INCR", "gateway:hits"))
            sock:close()
        }
    }
}
'''


def test_the_gateways_redis_index_is_its_own_never_an_apps(gateway):
    from omnitron.testing import free_port

    redis_port = free_port()
    cache = {"preset": "redis", "config": {"port": redis_port, **({"image": "omnitron-test/redis:7"} if gateway.provider == "docker" else {})}}
    gateway.write(gateway={"redis": True}, services={"cache": cache}, app_config={"orders": {"redis": True}, "inventory": {"redis": True}}, site=REDIS_SITE)
    planned = {s["name"]: s for s in gateway.json("infra", "plan")["services"]}
    assert planned["gateway"]["dependsOn"] == ["cache"]
    gateway.ok("infra", "up")
    apps = {app: int(gateway.app_env(app)["REDIS_URL"].rsplit("/", 1)[1]) for app in ("orders", "inventory")}
    status, body = get(f"{gateway.url}/count")
    assert status == 200, body
    index, hits = (int(x.lstrip(":")) for x in body.split())
    assert hits == 1 and index not in apps.values() and len(set(apps.values())) == 2
    assert get(f"{gateway.url}/count")[1] == f"{index} :2\n"
    # what the gateway wrote is in its own DB only
    import redis

    password = gateway.ok("secret", "get", f"{gateway.name}/dev/cache/password").strip()
    for db, expected in [(index, b"2"), *((i, None) for i in apps.values())]:
        client = redis.Redis(host="127.0.0.1", port=redis_port, password=password, db=db)
        assert client.get("gateway:hits") == expected
        client.close()
    # stable across runs, and recorded as the gateway's
    gateway.ok("infra", "up")
    assert get(f"{gateway.url}/count")[1] == f"{index} :3\n"


def test_down_volumes_leaves_nothing_behind(gateway):
    start_both(gateway)
    files = gateway.root / ".omnitron" / "stacks" / "dev" / "files" / "gateway"
    data = gateway.root / ".omnitron" / "stacks" / "dev" / "data" / "gateway"
    assert (files / "nginx.conf").is_file()
    pid = gateway.master_pid()
    gateway.ok("infra", "down", "--volumes")
    assert not files.exists() and not data.exists()
    assert not Path(f"/proc/{pid}").exists() or "nginx" not in Path(f"/proc/{pid}/cmdline").read_text()
    assert gateway.docker_objects() == {}  # no container, volume or network
    assert gateway.status()["status"] == "not_found"


def test_the_legacy_infrastructure_gateway_key_works_end_to_end(gateway):
    gateway.write(legacy=True)
    planned = gateway.json("infra", "plan")
    assert [(s["name"], s["preset"], s["type"]) for s in planned["services"]] == [("gateway", "openresty", "gateway")]
    gateway.ok("infra", "up")
    gateway.run_app("orders")
    assert gateway.wait_for("/orders/legacy", "orders ").endswith(" /legacy\n")


def test_gateway_show_prints_the_files_the_gateway_serves(gateway):
    start_both(gateway)
    shown = gateway.json("infra", "gateway", "show")
    files = Path(shown["filesDir"])
    assert {rel: (files / rel).read_text() for rel in shown["files"]} == shown["files"]
    assert get(f"{gateway.url}/nginx-health") == (200, f"ok {shown['generation']}\n")
    assert sorted(shown["upstreams"]) == ["inventory", "inventory.http", "orders", "orders.http"]
    text = gateway.ok("infra", "gateway", "show")
    assert "# ---- omnitron/upstreams.conf" in text and "upstream orders {  # app orders, port http" in text
    assert gateway.ok("infra", "gateway", "show") == text  # deterministic


def test_natively_nginx_runs_as_the_service_user_with_its_own_prefix(native_gateway):
    gateway = native_gateway
    gateway.write()
    gateway.ok("infra", "up")
    pid = gateway.master_pid()
    status = Path(f"/proc/{pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert uid != 0 if os.geteuid() == 0 else uid == os.geteuid()  # as root: the unprivileged service user
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()  # nginx rewrites its title: one string
    prefix = Path(re.search(r" -p (\S+)", cmdline).group(1))
    assert (prefix / "nginx.pid").read_text().strip() == str(pid)
    assert (prefix / "conf" / "conf.d" / "site.conf").read_text() == gateway.site.read_text()  # the operator's, copied
    assert (prefix / "temp").stat().st_uid == uid and (prefix / "logs" / "access.log").exists()
    if "openresty" not in cmdline:
        assert "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;" in cmdline  # Debian's nginx: Lua loaded explicitly
    assert "signal process started" not in gateway.ok("infra", "logs", "gateway")


def test_without_config_dir_each_app_is_reached_under_its_name(native_gateway):
    gateway = native_gateway
    gateway.write(site=None)
    gateway.ok("infra", "up")
    gateway.run_app("orders")
    assert gateway.wait_for("/orders/hi", "orders ").endswith(" /hi\n")
    assert get(f"{gateway.url}/elsewhere")[0] == 404


def test_run_alone_brings_the_gateway_up_with_every_apps_upstream(native_gateway):
    gateway = native_gateway
    gateway.write()
    gateway.run_app("orders")  # no infra up first: run provisions the gateway, which names inventory too
    gateway.wait_for("/orders/first", "orders ")
    assert set(gateway.json("infra", "gateway", "show")["upstreams"]) >= {"orders", "inventory"}
    gateway.run_app("inventory")
    gateway.wait_for("/inventory/second", "inventory ")


def test_a_missing_config_dir_fails_the_up_naming_it(native_gateway):
    gateway = native_gateway
    gateway.write()
    gateway.site.unlink()
    gateway.site.parent.rmdir()
    result = gateway("infra", "up")
    assert result.returncode == 1
    assert "service gateway: configDir infra/nginx is not a directory" in result.stdout + result.stderr


def test_an_empty_config_dir_routes_each_app_and_servers_without_the_snippet_are_refused(native_gateway):
    gateway = native_gateway
    gateway.write()
    gateway.site.unlink()  # configDir exists, with nothing in it: the generated routes
    gateway.ok("infra", "up")
    gateway.run_app("orders")
    assert gateway.wait_for("/orders/empty", "orders ").endswith(" /empty\n")
    gateway.site.write_text("server {\n    listen 80;\n    location / { return 200 \"mine\\n\"; }\n}\n")  # the official image's way
    result = gateway("infra", "up")
    assert result.returncode == 1
    assert f"failed: service gateway: no server block in configDir infra/nginx includes omnitron/server.conf (its listen 127.0.0.1:{gateway.port} and /nginx-health)" in result.stdout + result.stderr
    assert gateway.wait_for("/orders/still", "orders ").endswith(" /still\n")  # the previous config keeps serving


def test_the_daemon_reloads_a_changed_config_dir_without_an_up(omnitron_daemon, native_gateway):
    """The daemon watches configDir: an edit is served with no command run, well before its next pass (30 s), by a
    reload of the same nginx. (How fast: benchmarks/gateway_reload.py --triggers daemon.)"""
    gateway = native_gateway
    omnitron_daemon.watch(gateway.root)
    gateway.write()
    gateway.ok("infra", "up")
    pid = gateway.master_pid()
    gateway.ok("daemon", "start")
    for revision in (2, 3):  # the first edit may land while the daemon's first pass runs: the second is the watcher's
        gateway.site.write_text(gateway.site.read_text().replace(f"revision {revision - 1}", f"revision {revision}"))
        gateway.wait_for("/revision", f"revision {revision}", timeout=60 if revision == 2 else 10)
    assert gateway.master_pid() == pid
    events = gateway.ok("infra", "events")
    assert "maintain" in events and "a watched path changed" in events
