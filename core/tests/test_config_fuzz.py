"""Generated configs never raise anything but the project's config error."""

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnitron.errors import ConfigError
from omnitron.plugins import PluginManager
from omnitron.project import Project

from _kv import KVPlugin
from _providers import StandInProviders

KEYS = [
    "services", "preset", "config", "ports", "env", "dependsOn", "docker", "image", "command", "variants", "critical",
    "startupTimeout", "healthCheck", "tcp", "port", "secrets", "secret", "bareMetal", "servers", "host", "stacks", "dev",
    "serviceOverrides", "external", "disabled", "portOffsets", "redisDbOffset", "networkMode", "type", "volumes",
    "source", "target", "infrastructure", "postgres", "redis", "containers", "apps", "name", "kv", "main", "web",
    "database", "s3", "dedicated", "bucket", "quota", "search", "http", "provider", "weight", "readOnly", "$", "",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 70000), st.sampled_from(["kv", "5s", "x:1", "${host}", "${port:main}", "${secret:token}", "${", "web", "dev", "local", "bind", "/data", "10gb", "regtest"]), st.text(max_size=6)
)
values = st.recursive(scalars, lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=4), max_leaves=20)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(eco=st.dictionaries(st.sampled_from(["infrastructure", "stacks", "apps", "project", "defaultStack", "secrets"]), values, max_size=4), app=values)
def test_generated_configs_raise_only_config_errors(eco, app):
    pm = PluginManager(load_entrypoints=False)
    pm.register(KVPlugin(), name="kv-test")
    pm.register(StandInProviders(), name="stand-in-providers")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        (root / "apps" / "web" / "config").mkdir(parents=True)
        (root / "apps" / "web" / "config" / "default.json").write_text(json.dumps({"omnitron": app}))
        try:
            Project(root / "omnitron.config.py", pm).plan(available={"docker": True})
        except ConfigError as exc:
            text = str(exc)
            assert "\n" not in text and text


@settings(max_examples=200, deadline=None)
@given(eco=st.fixed_dictionaries({"infrastructure": st.fixed_dictionaries({"services": st.dictionaries(st.sampled_from(["a", "b", "c", "kv"]), st.one_of(st.just({"preset": "kv"}), st.fixed_dictionaries({"ports": st.dictionaries(st.sampled_from(["main", "http"]), st.integers(1, 65535), max_size=2), "dependsOn": st.lists(st.sampled_from(["a", "b", "c", "kv"]), max_size=2), "docker": st.just({"image": "x"})})), max_size=4)}), "stacks": st.fixed_dictionaries({"dev": st.fixed_dictionaries({"portOffsets": st.integers(0, 100)})})}))
def test_structurally_valid_configs_plan_or_fail_cleanly(eco):
    pm = PluginManager(load_entrypoints=False)
    pm.register(KVPlugin(), name="kv-test")
    pm.register(StandInProviders(), name="stand-in-providers")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "omnitron.config.py").write_text(f"from omnitron import define_ecosystem\necosystem = define_ecosystem({eco!r})\n")
        try:
            plan = Project(root / "omnitron.config.py", pm).plan(available={"docker": True})
        except ConfigError as exc:
            assert "\n" not in str(exc)
            return
        names = [s.name for s in plan.services]
        for i, svc in enumerate(plan.services):
            assert all(names.index(dep) < i for dep in svc.depends_on)
