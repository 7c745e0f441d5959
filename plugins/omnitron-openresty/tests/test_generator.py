"""The generator is pure and deterministic: the plan and where apps listen in, readable files out."""

from __future__ import annotations

import pytest

from omnitron_openresty.generator import LUA, MAIN, SERVER, UPSTREAMS, generate
from omnitron_openresty.upstreams import upstream_names
from omnitron_openresty.layout import layout_of


def plan(omnitron_project, *, gateway=None, services=None, apps=None, stack=None):
    eco = {
        "project": "gen",
        "apps": [{"name": "orders", "ports": {"http": 3000, "admin": 3001}}, {"name": "inventory"}],
        "infrastructure": {"services": {"gateway": {"preset": "openresty", "config": {"configDir": "./infra/nginx", "port": 8080, **(gateway or {})}}, **(services or {})}},
        "stacks": {"dev": {"provider": "process", **(stack or {})}},
    }
    return omnitron_project.write(eco, apps or {"orders": {"services": {"gateway": True}}, "inventory": {}}).plan()


ADDRESSES = {"orders": {"http": ("127.0.0.1", 3000), "admin": ("127.0.0.1", 3001)}, "inventory": {"http": ("127.0.0.1", 15000)}}
SEARCH = {"type": "daemon", "ports": {"http": 9200, "transport": 9300}, "process": {"command": ["search"]}}


def gen(p, addresses=ADDRESSES, digest="d1"):
    svc = p.service("gateway")
    return generate(svc, p, addresses, layout_of(svc), digest)


def test_one_upstream_per_app_port_and_per_service_port_sorted_and_commented(omnitron_project):
    p = plan(omnitron_project, services={"search": SEARCH})
    out = gen(p).files[UPSTREAMS]
    blocks = [line for line in out.splitlines() if line.startswith("upstream ")]
    assert blocks == [
        "upstream inventory {  # app inventory, port http",
        "upstream inventory.http {  # app inventory, port http",
        "upstream orders {  # app orders, port http",
        "upstream orders.admin {  # app orders, port admin",
        "upstream orders.http {  # app orders, port http",
        "upstream search.http {  # service search, port http",
        "upstream search.transport {  # service search, port transport",
    ]
    assert "upstream orders {  # app orders, port http\n    server 127.0.0.1:3000;\n}\n" in out
    assert "upstream search.transport {  # service search, port transport\n    server 127.0.0.1:9300;\n}\n" in out
    assert "gateway." not in out  # not itself


def test_the_output_is_deterministic_and_changes_only_with_its_inputs(omnitron_project):
    p = plan(omnitron_project)
    first, again = gen(p), gen(plan(omnitron_project))
    assert first.files == again.files and first.generation == again.generation
    moved = {**ADDRESSES, "inventory": {"http": ("127.0.0.1", 15001)}}
    assert gen(p, moved).generation != first.generation
    assert gen(p, digest="d2").generation != first.generation
    assert gen(p, digest="d2").files[UPSTREAMS] == first.files[UPSTREAMS]  # the operator's files are theirs
    assert f'return 200 "ok {first.generation}\\n";' in first.files[SERVER]


def test_the_lua_map_holds_the_same_names(omnitron_project):
    p = plan(omnitron_project, services={"search": SEARCH})
    lua = gen(p).files[LUA]
    assert '  ["orders"] = "127.0.0.1:3000",' in lua and '  ["search.transport"] = "127.0.0.1:9300",' in lua
    assert '  ["orders"] = { host = "127.0.0.1", ports = { ["admin"] = 3001, ["http"] = 3000 } },' in lua
    assert '  ["search"] = { host = "127.0.0.1", ports = { ["http"] = 9200, ["transport"] = 9300 } },' in lua
    assert "function M.lookup(name)" in lua and "function M.redis()" in lua and lua.rstrip().endswith("return M")


def test_the_main_file_includes_the_operators_files_and_names_the_gateways_env(omnitron_project):
    p = plan(omnitron_project, gateway={"redis": True})
    main = gen(p).files[MAIN]
    assert "include conf.d/*.main;" in main and "    include conf.d/*.conf;" in main and "    include omnitron/upstreams.conf;" in main
    assert "env REDIS_URL;" in main and "daemon off;" in main and 'lua_package_path "$prefix/conf/?.lua;$prefix/conf/conf.d/?.lua;;";' in main
    assert "listen 127.0.0.1:8080;" in gen(p).files[SERVER]


def test_in_a_container_the_paths_are_the_images(omnitron_project):
    p = plan(omnitron_project, stack={"provider": "docker"})
    files = gen(p).files
    assert "include /etc/nginx/conf.d/*.conf;" in files[MAIN] and "include /usr/local/openresty/nginx/conf/mime.types;" in files[MAIN]
    assert 'lua_package_path "/etc/omnitron/nginx/?.lua;/etc/nginx/conf.d/?.lua;;";' in files[MAIN] and "access_log /dev/stdout;" in files[MAIN]
    assert "listen 127.0.0.1:8080;" in files[SERVER]  # the host's network: the planned host port itself


def test_the_listen_follows_bind_address_and_port_offsets(omnitron_project):
    p = plan(omnitron_project, stack={"bindAddress": "0.0.0.0", "portOffsets": 100})
    assert "listen 0.0.0.0:8180;" in gen(p).files[SERVER]


def test_without_config_dir_a_server_routes_each_app_by_name(omnitron_project):
    p = plan(omnitron_project, gateway={"configDir": None})
    files = gen(p).files
    assert "    include omnitron/default-server.conf;" in files[MAIN] and "conf.d" not in files[MAIN]
    server = files["omnitron/default-server.conf"]
    assert "location /orders/ {\n        proxy_pass http://orders/;" in server and "location /inventory/ {" in server
    assert "location /orders.http/" not in server


def test_two_upstreams_of_one_name_are_an_error_naming_both(omnitron_project):
    p = plan(omnitron_project, services={"orders": {"type": "daemon", "ports": {"admin": 9999}, "process": {"command": ["x"]}}})
    with pytest.raises(LookupError, match="'orders.admin' stands for both app orders, port admin and service orders, port admin"):
        upstream_names(p, ADDRESSES)


def test_a_config_dir_without_sites_gets_the_default_routes_and_one_that_never_includes_the_snippet_is_refused(omnitron_project, tmp_path):
    from omnitron.api import ProvisionError

    from omnitron_openresty.generator import DEFAULT_SERVER
    from omnitron_openresty.runtime import build

    p = plan(omnitron_project)
    svc = p.service("gateway")
    config_dir = layout_of(svc).config_dir
    config_dir.mkdir(parents=True)
    (config_dir / "ratelimit.lua").write_text("return {}\n")  # no *.conf: the routes of a gateway without configDir
    files = build(svc, p, {}, {}).generated.files
    assert DEFAULT_SERVER in files and f"include {DEFAULT_SERVER};" in files[MAIN] and "conf.d/*.conf" not in files[MAIN]
    (config_dir / "site.conf").write_text("server {\n    listen 80;\n    location / { return 200; }\n}\n")  # the image's default.conf
    with pytest.raises(ProvisionError) as err:
        build(svc, p, {}, {})
    assert str(err.value) == (
        "service gateway: no server block in configDir infra/nginx includes omnitron/server.conf "
        "(its listen 127.0.0.1:8080 and /nginx-health); add `include omnitron/server.conf;` to each server"
    )
    (config_dir / "site.conf").write_text("server {\n    include omnitron/server.conf;\n}\n")
    files = build(svc, p, {}, {}).generated.files
    assert DEFAULT_SERVER not in files and "conf.d/*.conf;" in files[MAIN]
