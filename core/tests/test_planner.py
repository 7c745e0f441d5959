"""One test per planner rule, built from the spec's own examples where it has one."""

import pytest

from omnitron.errors import ConfigError, PlanError

pytestmark = pytest.mark.usefixtures("stand_in_providers")

SEARCH = {
    "type": "daemon",
    "ports": {"http": 9200},
    "env": {"SEARCH_URL": "http://${host}:${port:http}"},
    "docker": {"image": "elasticsearch:8.11.0"},
}
LEDGER = {
    "type": "daemon",
    "ports": {"rpc": 18443},
    "env": {"LEDGER_URL": "http://${host}:${port:rpc}"},
    "docker": {
        "variants": {
            "regtest": {"image": "ledger:latest", "command": ["--regtest"]},
            "testnet": {"image": "ledger:latest", "command": ["--testnet"]},
            "mainnet": {"image": "ledger:latest", "command": ["--mainnet"]},
        }
    },
}


def plan(factory, eco, apps=None, **opts):
    project = factory.write(eco, apps)
    return project.plan(**opts)


def test_full_requirement_service_is_planned(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"search": SEARCH}}}, {"web": {"services": {"search": True}}})
    svc = p.service("search")
    assert svc.provider == "docker"
    assert svc.docker.image == "elasticsearch:8.11.0"
    assert svc.ports == {"http": 9200}
    assert p.apps["web"].env["SEARCH_URL"].template == "http://${host}:${port:http}"


def test_critical_defaults_true_and_startup_timeout_120s(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"search": SEARCH}}})
    assert p.service("search").critical is True
    assert p.service("search").startup_timeout_ms == 120_000


def test_startup_timeout_and_critical_are_read(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"search": {**SEARCH, "critical": False, "startupTimeout": "2m"}}}})
    assert p.service("search").critical is False
    assert p.service("search").startup_timeout_ms == 120_000 * 1
    p = plan(omnitron_project, {"infrastructure": {"services": {"search": {**SEARCH, "startupTimeout": "5s"}}}})
    assert p.service("search").startup_timeout_ms == 5000


def test_app_custom_infrastructure_is_merged(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {}}}, {"web": {"infrastructure": {"search": SEARCH}}})
    assert [s.name for s in p.services] == ["search"]
    assert p.apps["web"].services == ["search"]
    assert "SEARCH_URL" in p.apps["web"].env


def test_identical_app_declarations_share_one_service(omnitron_project):
    p = plan(omnitron_project, {}, {"a": {"infrastructure": {"search": SEARCH}}, "b": {"infrastructure": {"search": SEARCH}}})
    assert [s.name for s in p.services] == ["search"]


def test_different_app_declaration_gets_its_own_service(omnitron_project):
    other = {**SEARCH, "docker": {"image": "opensearch:2"}}
    p = plan(omnitron_project, {"infrastructure": {"services": {"search": SEARCH}}}, {"a": {"services": {"search": True}}, "b": {"infrastructure": {"search": other}}})
    names = [s.name for s in p.services]
    assert names == ["b/search", "search"]
    assert p.service("b/search").docker.image == "opensearch:2"
    assert p.service("b/search").ports["http"] != p.service("search").ports["http"]
    assert p.apps["b"].env["SEARCH_URL"].service == "b/search"


def test_depends_on_is_topologically_ordered(omnitron_project):
    svc = lambda deps, port: {"ports": {"p": port}, "dependsOn": deps, "docker": {"image": "x"}}
    p = plan(omnitron_project, {"infrastructure": {"services": {"app-db": svc(["net"], 1), "api": svc(["app-db", "cache"], 2), "cache": svc(["net"], 3), "net": svc([], 4)}}})
    order = [s.name for s in p.services]
    assert order.index("net") < order.index("app-db") < order.index("api")
    assert order.index("cache") < order.index("api")


def test_dependency_cycle_is_an_error_naming_the_cycle(omnitron_project):
    svc = lambda deps, port: {"ports": {"p": port}, "dependsOn": deps, "docker": {"image": "x"}}
    with pytest.raises(PlanError, match=r"dependency cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)"):
        plan(omnitron_project, {"infrastructure": {"services": {"a": svc(["b"], 1), "b": svc(["c"], 2), "c": svc(["a"], 3)}}})


def test_unknown_dependency_is_an_error(omnitron_project):
    with pytest.raises(PlanError, match="depends on unknown service 'nope'"):
        plan(omnitron_project, {"infrastructure": {"services": {"a": {"dependsOn": ["nope"], "docker": {"image": "x"}}}}})


def test_network_mode_from_stack_selects_variant(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"ledger-daemon": LEDGER}}, "stacks": {"dev": {"networkMode": "regtest"}}})
    svc = p.service("ledger-daemon")
    assert svc.docker.command == ["--regtest"]
    assert svc.network_mode == "regtest"


def test_network_mode_from_env_var_wins(omnitron_project, monkeypatch):
    monkeypatch.setenv("OMNITRON_NETWORK_MODE", "testnet")
    p = plan(omnitron_project, {"infrastructure": {"services": {"ledger-daemon": LEDGER}}, "stacks": {"dev": {"networkMode": "regtest"}}})
    assert p.service("ledger-daemon").docker.command == ["--testnet"]


def test_unknown_network_mode_names_the_variants(omnitron_project):
    with pytest.raises(PlanError, match="no docker variant for network mode 'simnet'; variants: mainnet, regtest, testnet"):
        plan(omnitron_project, {"infrastructure": {"services": {"ledger-daemon": LEDGER}}, "stacks": {"dev": {"networkMode": "simnet"}}})


def test_variants_without_mode_need_one(omnitron_project):
    with pytest.raises(PlanError, match="a network mode is needed"):
        plan(omnitron_project, {"infrastructure": {"services": {"ledger-daemon": LEDGER}}})


def test_external_override_from_spec(omnitron_project):
    eco = {
        "infrastructure": {"services": {"search": SEARCH}},
        "stacks": {"dev": {"type": "local", "serviceOverrides": {"search": {"external": {"host": "10.0.1.5", "ports": {"http": 9200}}}}}},
    }
    p = plan(omnitron_project, eco, {"web": {"services": {"search": True}}})
    svc = p.service("search")
    assert svc.provider == "external" and svc.host == "10.0.1.5" and svc.docker is None
    from omnitron.env import render_app_env
    from omnitron.templating import BUILTIN_FUNCTIONS, Renderer

    env = render_app_env(p, "web", Renderer({f.name: f() for f in BUILTIN_FUNCTIONS}))
    assert env["SEARCH_URL"] == "http://10.0.1.5:9200"


def test_docker_override_from_spec(omnitron_project):
    eco = {
        "infrastructure": {"services": {"search": SEARCH}},
        "stacks": {"prod": {"type": "cluster", "serviceOverrides": {"search": {"docker": {"image": "elasticsearch:8.11.0-secured"}}}}},
    }
    p = plan(omnitron_project, eco, stack="prod")
    assert p.service("search").docker.image == "elasticsearch:8.11.0-secured"
    assert p.stack_type == "cluster"


def test_app_scoped_override_wins_for_that_app_only(omnitron_project):
    eco = {
        "infrastructure": {"services": {"search": SEARCH}},
        "stacks": {"dev": {"serviceOverrides": {"analytics/search": {"docker": {"image": "opensearch:2.x"}}, "search": {"docker": {"image": "es:dev"}}}}},
    }
    p = plan(omnitron_project, eco, {"analytics": {"services": {"search": True}}, "web": {"services": {"search": True}}})
    assert p.service("analytics/search").docker.image == "opensearch:2.x"
    assert p.service("search").docker.image == "es:dev"
    assert p.apps["analytics"].env["SEARCH_URL"].service == "analytics/search"
    assert p.apps["web"].env["SEARCH_URL"].service == "search"


def test_disabled_override_skips_the_service(omnitron_project):
    eco = {"infrastructure": {"services": {"search": SEARCH}}, "stacks": {"dev": {"serviceOverrides": {"search": {"disabled": True}}}}}
    p = plan(omnitron_project, eco, {"web": {"services": {"search": True}}})
    assert p.services == []
    assert set(p.apps["web"].env) == {"PORT"}  # only where the app listens: nothing from the disabled service


def test_disabled_dependency_is_an_error(omnitron_project):
    eco = {
        "infrastructure": {"services": {"search": SEARCH, "api": {"dependsOn": ["search"], "docker": {"image": "x"}}}},
        "stacks": {"dev": {"serviceOverrides": {"search": {"disabled": True}}}},
    }
    with pytest.raises(PlanError, match="which stack 'dev' disables"):
        plan(omnitron_project, eco)


@pytest.mark.parametrize("key", ["nope", "web/nope", "ghost/search"])
def test_unknown_override_target_is_an_error(omnitron_project, key):
    eco = {"infrastructure": {"services": {"search": SEARCH}}, "stacks": {"dev": {"serviceOverrides": {key: {"disabled": True}}}}}
    with pytest.raises(PlanError, match="unknown override target") as info:
        plan(omnitron_project, eco, {"web": {"services": {"search": True}}})
    assert f"serviceOverrides.{key}" in str(info.value)


def test_bare_metal_override(omnitron_project):
    eco = {
        "infrastructure": {"services": {"search": SEARCH}},
        "stacks": {"prod": {"type": "cluster", "serviceOverrides": {"search": {"bareMetal": {"servers": [{"host": "10.0.1.10", "port": 9200, "weight": 1}, {"host": "10.0.1.11", "weight": 5}]}}}}},
    }
    svc = plan(omnitron_project, eco, stack="prod").service("search")
    assert svc.provider == "baremetal"
    assert svc.host == "10.0.1.11"


def test_bare_metal_declaration_is_read_on_cluster_stacks(omnitron_project):
    db = {
        "type": "database",
        "ports": {"tcp": 5432},
        "env": {"DATABASE_URL": "postgres://${secret:db_user}:${secret:db_pass}@${host}:${port:tcp}/main"},
        "bareMetal": {"discovery": "static", "servers": [{"host": "10.0.1.10", "port": 5432}]},
        "secrets": {"db_user": {"secret": "db_user"}, "db_pass": {"secret": "db_pass"}},
        "docker": {"image": "postgres:16"},
    }
    eco = {"infrastructure": {"services": {"db": db}}, "stacks": {"dev": {}, "prod": {"type": "cluster"}}}
    assert plan(omnitron_project, eco, stack="dev").service("db").provider == "docker"
    prod = plan(omnitron_project, eco, stack="prod").service("db")
    assert prod.provider == "baremetal" and prod.host == "10.0.1.10"
    assert prod.secrets == {"db_user": "db_user", "db_pass": "db_pass"}


def test_port_offset_applies_to_every_service(omnitron_project):
    eco = {
        "infrastructure": {"services": {"search": SEARCH, "other": {"ports": {"a": 7000, "b": 7001}, "docker": {"image": "x"}}}},
        "stacks": {"test": {"portOffsets": 100}},
    }
    p = plan(omnitron_project, eco, stack="test")
    assert p.service("search").ports == {"http": 9300}
    assert p.service("search").target_ports == {"http": 9200}
    assert p.service("other").ports == {"a": 7100, "b": 7101}


def test_port_offset_per_service_with_default(omnitron_project):
    eco = {
        "infrastructure": {"services": {"search": SEARCH, "other": {"ports": {"a": 7000}, "docker": {"image": "x"}}}},
        "stacks": {"test": {"portOffsets": {"*": 10, "other": 500}}},
    }
    p = plan(omnitron_project, eco, stack="test")
    assert p.service("search").ports == {"http": 9210}
    assert p.service("other").ports == {"a": 7500}


def test_port_collision_between_declared_services_is_an_error(omnitron_project):
    eco = {"infrastructure": {"services": {"a": {"ports": {"p": 5000}, "docker": {"image": "x"}}, "b": {"ports": {"p": 5000}, "docker": {"image": "y"}}}}}
    with pytest.raises(PlanError, match="host port 5000 is used by both 'a' and 'b'"):
        plan(omnitron_project, eco)


def test_port_offset_out_of_range(omnitron_project):
    eco = {"infrastructure": {"services": {"search": SEARCH}}, "stacks": {"dev": {"portOffsets": 60000}}}
    with pytest.raises(PlanError, match="out of range"):
        plan(omnitron_project, eco)


def test_unknown_stack(omnitron_project):
    with pytest.raises(PlanError, match="unknown stack 'qa'; declared: dev"):
        plan(omnitron_project, {}, stack="qa")


def test_unknown_preset_names_the_package(omnitron_project):
    with pytest.raises(PlanError, match="unknown preset 'tor': install omnitron-tor"):
        plan(omnitron_project, {"infrastructure": {"services": {"onion": {"preset": "tor"}}}})


def test_shorthand_without_preset_names_the_package(omnitron_project):
    with pytest.raises(PlanError, match="install omnitron-minio") as info:
        plan(omnitron_project, {}, {"web": {"s3": True}})
    assert "apps/web/config/default.json: omnitron.s3" in str(info.value)


def test_unknown_dialect_names_the_field_and_the_installed_dialects(omnitron_project, register_plugin):
    from _kv import AccountsPlugin

    with pytest.raises(PlanError) as none:
        plan(omnitron_project, {}, {"web": {"database": {"dialect": "mysql"}}})
    assert str(none.value) == "apps/web/config/default.json: omnitron.database.dialect: no installed preset serves dialect 'mysql' (install omnitron-mysql); installed dialects: (none)"
    register_plugin(AccountsPlugin(), name="accounts")
    with pytest.raises(PlanError) as unknown:
        plan(omnitron_project, {}, {"web": {"database": {"dialect": "oracle"}}})
    assert str(unknown.value) == "apps/web/config/default.json: omnitron.database.dialect: no installed preset serves dialect 'oracle'; installed dialects: acct"


def test_preset_expansion_credentials_and_shorthand(omnitron_project, kv):
    p = plan(omnitron_project, {"project": "shop", "infrastructure": {"services": {"cache": {"preset": "kv"}}}}, {"web": {"redis": True}})
    svc = p.service("cache")
    assert svc.preset == "kv" and svc.docker.image == "kv:1"
    assert svc.secrets == {"token": "shop/dev/cache/token"}
    assert [g.key for g in svc.generated] == ["shop/dev/cache/token"]
    assert p.apps["web"].allocations[0].kind == "kv_db"
    assert p.apps["web"].env["KV_URL"].service == "cache"


def test_shorthand_adds_the_shared_service_when_missing(omnitron_project, kv):
    p = plan(omnitron_project, {}, {"web": {"redis": True}, "api": {"redis": True}})
    assert [s.name for s in p.services] == ["kv"]
    assert p.service("kv").auto is True
    assert {a.app for app in p.apps.values() for a in app.allocations} == {"web", "api"}


def test_dedicated_shorthand_plans_a_service_for_the_app_alone(omnitron_project, kv):
    p = plan(omnitron_project, {"infrastructure": {"services": {"cache": {"preset": "kv"}}}}, {"web": {"redis": {"dedicated": True}}, "api": {"redis": True}})
    assert {s.name for s in p.services} == {"cache", "web/kv"}
    assert p.service("web/kv").app == "web"
    assert p.service("web/kv").ports["main"] != p.service("cache").ports["main"]
    assert p.apps["web"].env["KV_URL"].service == "web/kv"
    assert p.apps["api"].env["KV_URL"].service == "cache"


def test_shared_service_a_shorthand_adds_keeps_the_default_port_beside_a_dedicated_one(omnitron_project, kv):
    # "a/kv" sorts before "kv": the shared service still gets the preset's port, the app's own one moves
    p = plan(omnitron_project, {}, {"a": {"redis": {"dedicated": True}}, "b": {"redis": True}})
    assert p.service("kv").auto and p.service("a/kv").app == "a"
    assert p.service("kv").ports["main"] == 7000
    assert p.service("a/kv").ports["main"] == 7001


def test_preset_config_error_names_the_path(omnitron_project, kv):
    with pytest.raises(ConfigError) as info:
        plan(omnitron_project, {"infrastructure": {"services": {"cache": {"preset": "kv", "config": {"prot": 1}}}}})
    assert str(info.value) == "omnitron.config.py: infrastructure.services.cache.config.prot: unknown key"


def test_spec_hash_is_stable_and_tracks_changes(omnitron_project):
    a = plan(omnitron_project, {"infrastructure": {"services": {"search": SEARCH}}}).service("search").spec_hash
    b = plan(omnitron_project, {"infrastructure": {"services": {"search": SEARCH}}}).service("search").spec_hash
    c = plan(omnitron_project, {"infrastructure": {"services": {"search": {**SEARCH, "docker": {"image": "elasticsearch:8.12.0"}}}}}).service("search").spec_hash
    d = plan(omnitron_project, {"infrastructure": {"services": {"search": {**SEARCH, "critical": False}}}}).service("search").spec_hash
    assert a == b != c
    assert a == d  # gate settings do not recreate containers


def test_spec_hash_includes_mounted_config_files(omnitron_project):
    gw = {"ports": {"http": 8080}, "docker": {"image": "openresty", "volumes": [{"source": "./infra/nginx", "target": "/etc/nginx/conf.d", "readOnly": True}]}}
    project = omnitron_project.write({"infrastructure": {"services": {"gateway": gw}}})
    conf = project.root / "infra" / "nginx"
    conf.mkdir(parents=True)
    (conf / "site.conf").write_text("server { listen 8080; }")
    first = project.plan().service("gateway")
    assert first.docker.volumes[0].source == str(conf)
    (conf / "site.conf").write_text("server { listen 8080; location / {} }")
    assert project.plan().service("gateway").spec_hash != first.spec_hash


def test_provider_choice(omnitron_project, kv):
    eco = {"infrastructure": {"services": {"search": SEARCH}}, "stacks": {"dev": {"provider": "process"}}}
    with pytest.raises(PlanError, match="cannot run as a native process"):
        plan(omnitron_project, eco)
    native = {"ports": {"p": 4000}, "process": {"command": ["./server", "--port", "4000"]}}
    p = plan(omnitron_project, {"infrastructure": {"services": {"native": native, "search": SEARCH}}}, available={"docker": False})
    assert p.service("native").provider == "process"
    assert p.service("search").provider == "docker"  # nothing else can run it
    p = plan(omnitron_project, {"infrastructure": {"services": {"native": {**native, "docker": {"image": "n"}}}}}, available={"docker": True})
    assert p.service("native").provider == "docker"
    p = plan(omnitron_project, {"infrastructure": {"services": {"native": {**native, "docker": {"image": "n"}}}}}, available={"docker": True}, provider="process")
    assert p.service("native").provider == "process"


def test_env_collision_between_services_is_an_error(omnitron_project):
    a = {"ports": {"p": 1}, "env": {"URL": "a://${host}"}, "docker": {"image": "a"}}
    b = {"ports": {"p": 2}, "env": {"URL": "b://${host}"}, "docker": {"image": "b"}}
    with pytest.raises(PlanError, match="env URL is injected by both 'a' and 'b'"):
        plan(omnitron_project, {"infrastructure": {"services": {"a": a, "b": b}}}, {"web": {"services": {"a": True, "b": True}}})


def test_unknown_app_service_reference_gives_the_app_nothing(omnitron_project):
    p = plan(omnitron_project, {"infrastructure": {"services": {"search": SEARCH}}}, {"web": {"services": {"discovery": True, "search": True}}})
    assert p.apps["web"].services == ["search"]
    assert [s.name for s in p.services] == ["search"]


def test_app_service_reference_to_another_apps_infrastructure(omnitron_project):
    # "api" comes first and names the search service that "web", loaded after it, declares
    p = plan(omnitron_project, {"apps": [{"name": "api"}, {"name": "web"}]}, {"api": {"services": {"search": True}}, "web": {"infrastructure": {"search": SEARCH}}})
    assert p.apps["api"].services == ["search"]
    assert p.apps["api"].env["SEARCH_URL"].service == "search"


def test_bad_template_in_service_env_names_app_and_variable(omnitron_project):
    bad = {**SEARCH, "env": {"SEARCH_URL": "http://${host}:${port:grpc}"}}
    with pytest.raises(ConfigError) as info:
        plan(omnitron_project, {"infrastructure": {"services": {"search": bad}}}, {"web": {"services": {"search": True}}})
    assert "app web" in str(info.value) and "SEARCH_URL" in str(info.value) and "unknown port 'grpc'" in str(info.value)


def test_plan_is_deterministic(omnitron_project, kv):
    eco = {"infrastructure": {"services": {"search": SEARCH, "cache": {"preset": "kv"}}}}
    apps = {"web": {"redis": True, "services": {"search": True}}, "api": {"redis": {"dedicated": True}}}
    a = plan(omnitron_project, eco, apps).model_dump()
    b = plan(omnitron_project, eco, apps).model_dump()
    assert a == b


@pytest.fixture
def buckets(register_plugin):
    from _kv import BucketPlugin

    register_plugin(BucketPlugin(), name="buckets-test")


def test_s3_true_asks_for_a_default_bucket_named_after_the_app(omnitron_project, buckets):
    p = plan(omnitron_project, {}, {"Web_App": {"s3": True}})
    alloc = p.apps["Web_App"].allocations[0]
    assert (alloc.kind, alloc.name, alloc.params["public"]) == ("bucket", "web-app", False)
    assert p.service("buckets").auto


def test_s3_named_bucket_with_quota(omnitron_project, buckets):
    p = plan(omnitron_project, {}, {"web": {"s3": {"bucket": "uploads", "quota": "10gb"}}})
    alloc = p.apps["web"].allocations[0]
    assert (alloc.name, alloc.params["quota"]) == ("uploads", 10_000_000_000)


@pytest.mark.parametrize("where", ["stack", "option"])
def test_an_unknown_provider_is_an_error_listing_the_installed_ones(omnitron_project, where):
    eco = {"infrastructure": {"services": {"search": SEARCH}}, "stacks": {"dev": {"provider": "nope"} if where == "stack" else {}}}
    with pytest.raises(PlanError) as info:
        plan(omnitron_project, eco, **({"provider": "nope"} if where == "option" else {}))
    assert "unknown provider 'nope'; installed providers: baremetal, docker, external, process" in str(info.value)
    assert str(info.value).startswith("omnitron.config.py: stacks.dev.provider:" if where == "stack" else "--provider:")


def test_a_provider_not_installed_names_its_package(omnitron_project, omnitron_plugins):
    omnitron_plugins.unregister("stand-in-providers")
    from omnitron.errors import PluginError

    eco = {"infrastructure": {"services": {"search": SEARCH}}, "stacks": {"dev": {"provider": "docker"}}}
    with pytest.raises(PluginError, match=r"^omnitron.config.py: stacks.dev.provider: service search runs with the docker provider, which is not installed: pip install omnitron-provider-docker; installed providers: external"):
        plan(omnitron_project, eco)
    with pytest.raises(PluginError, match=r"service search: no installed provider can run it: pip install omnitron-provider-docker"):
        plan(omnitron_project, {"infrastructure": {"services": {"search": SEARCH}}})


def test_a_provider_named_nowhere_in_the_core_runs_what_it_describes(omnitron_project, register_plugin):
    """The planner knows providers only by what they say of themselves."""
    from omnitron import hookimpl
    from _providers import DockerStandIn

    class Swarmish(DockerStandIn):
        name = "swarmish"
        auto_priority = None  # only when a stack names it

    class Plugin:
        @hookimpl
        def omnitron_add_providers(self):
            return [Swarmish]

    register_plugin(Plugin(), name="swarmish")
    eco = {"infrastructure": {"services": {"search": SEARCH}}, "stacks": {"dev": {}, "prod": {"type": "cluster", "provider": "swarmish"}}}
    assert plan(omnitron_project, eco).service("search").provider == "docker"
    prod = plan(omnitron_project, eco, stack="prod").service("search")
    assert prod.provider == "swarmish" and prod.docker.image == "elasticsearch:8.11.0" and prod.ports == {"http": 9200}


def test_env_rendered_once_for_all_apps_equals_each_app_rendered_alone(omnitron_project, register_plugin):
    """Values that depend only on the service are rendered once per plan; per-app ones (a plugin function that
    reads the app, an app's own database) still differ, and every app's env is what rendering it alone gives."""
    from omnitron.env import render_app_env, render_plan_env
    from omnitron import hookimpl
    from omnitron.templating import Renderer, TemplateFunction

    class Caller(TemplateFunction):
        name = "caller"
        takes_argument = False

        def render(self, arg, ctx):
            return ctx.app or "-"

    class CallerPlugin:
        @hookimpl
        def omnitron_add_template_functions(self):
            return [Caller]

    register_plugin(CallerPlugin(), name="caller")
    search = {**SEARCH, "env": {"SEARCH_URL": "http://${host}:${port:http}", "SEARCH_AS": "${caller}@${host}"}}
    eco = {"infrastructure": {"services": {"search": search}}}
    project = omnitron_project.write(eco, {name: {"services": {"search": True}} for name in ("web", "api", "worker")})
    p = project.plan()
    together = render_plan_env(project, p)
    renderer = Renderer(project.plugins.template_functions)
    for name in ("web", "api", "worker"):
        assert together[name] == render_app_env(p, name, renderer)
        assert together[name]["SEARCH_AS"] == f"{name}@127.0.0.1"
        assert together[name]["SEARCH_URL"] == "http://127.0.0.1:9200"
