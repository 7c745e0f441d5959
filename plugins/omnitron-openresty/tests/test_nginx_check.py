"""What ``nginx -t`` says becomes one line naming the operator's file (as they wrote its directory) and line."""

from __future__ import annotations

from pathlib import Path

from omnitron_openresty.layout import Layout
from omnitron_openresty.nginx_check import first_problem


def layout(native: bool) -> Layout:
    prefix = "/var/lib/omnitron/p-1/data/gateway"
    return Layout(
        native=native, files_dir=Path("/srv/p/.omnitron/stacks/dev/files/gateway"), config_dir=Path("/srv/p/infra/nginx"), listen="127.0.0.1:8080",
        operator=f"{prefix}/conf/conf.d" if native else "/etc/nginx/conf.d", pid="nginx.pid", temp="temp/", lua_root="x", lua_operator="y", mime_types="m",
        conf_root=f"{prefix}/conf" if native else "/etc/omnitron/nginx", access_log="a", config_label="infra/nginx",
    )


def test_the_operators_file_and_line_in_a_container():
    out = 'nginx: [emerg] unknown directive "bogus" in /etc/nginx/conf.d/site.conf:3\nnginx: configuration file /etc/omnitron/nginx/nginx.conf test failed\n'
    assert first_problem(out, layout(False)) == 'infra/nginx/site.conf:3: unknown directive "bogus"'


def test_the_operators_file_and_line_natively():
    out = '2026/01/01 [emerg] 812#812: host not found in upstream "nope" in /var/lib/omnitron/p-1/data/gateway/conf/conf.d/sub/api.conf:12\n'
    assert first_problem(out, layout(True)) == 'infra/nginx/sub/api.conf:12: host not found in upstream "nope"'


def test_a_generated_file_is_named_where_it_is_on_the_host():
    out = "[emerg] 1#1: invalid port in upstream in /etc/omnitron/nginx/omnitron/upstreams.conf:4\n"
    assert first_problem(out, layout(False)) == "/srv/p/.omnitron/stacks/dev/files/gateway/omnitron/upstreams.conf:4: invalid port in upstream"


def test_a_problem_without_a_file_and_no_problem_line_at_all():
    assert first_problem('[emerg] 9#9: mkdir() "/x/temp/body" failed (13: Permission denied)\n', layout(True)) == 'mkdir() "/x/temp/body" failed (13: Permission denied)'
    assert first_problem("something odd\nlast words\n", layout(True)) == "last words"
