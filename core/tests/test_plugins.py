"""The plugin manager: loading, allow/block lists, broken plugins, duplicates, introspection."""

import importlib
import inspect
import re
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from omnitron import hookspecs
from omnitron.errors import PluginError
from omnitron.plugins import PluginLoadWarning, PluginManager

PRESET_MODULE = '''
from omnitron import hookimpl
from omnitron.model import ServiceRequirement
from omnitron.presets import Preset


class P(Preset):
    name = {preset!r}
    service_type = "daemon"

    def expand(self, config, ctx):
        return ServiceRequirement(ports={{"main": 1234}}, docker={{"image": "img"}})


@hookimpl
def omnitron_add_presets():
    return [P]
'''


def make_dist(root: Path, dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A real installed distribution (dist-info on sys.path) that importlib.metadata finds."""
    for mod, source in modules.items():
        (root / f"{mod}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    eps = "[omnitron]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(eps)


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("OMNITRON_PLUGINS", raising=False)
    importlib.invalidate_caches()
    yield tmp_path
    for name, mod in list(sys.modules.items()):
        if str(getattr(mod, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]
    importlib.invalidate_caches()


def test_entry_point_plugin_is_loaded_with_its_distribution(site):
    make_dist(site, "omnitron-alpha", "1.2.3", {"alpha": "alpha_plugin"}, {"alpha_plugin": PRESET_MODULE.format(preset="alpha")})
    pm = PluginManager()
    assert "alpha" in pm.presets
    info = next(i for i in pm.plugin_infos() if i.name == "alpha")
    assert (info.distribution, info.version) == ("omnitron-alpha", "1.2.3")
    assert info.provides == {"presets": ["alpha"]}
    assert info.hooks == ["omnitron_add_presets"]


def test_broken_plugin_warns_and_others_still_load(site):
    make_dist(site, "omnitron-alpha", "1.0", {"alpha": "alpha_plugin"}, {"alpha_plugin": PRESET_MODULE.format(preset="alpha")})
    make_dist(site, "omnitron-broken", "0.1", {"broken": "broken_plugin"}, {"broken_plugin": "import does_not_exist_anywhere\n"})
    with pytest.warns(PluginLoadWarning, match=r"plugin 'broken' \(omnitron-broken 0.1\) failed to load and was skipped: ModuleNotFoundError"):
        pm = PluginManager()
        presets = pm.presets
    assert "alpha" in presets
    assert any("broken" in e for e in pm.load_errors)


def test_duplicate_preset_names_both_distributions(site):
    make_dist(site, "omnitron-alpha", "1.0", {"alpha": "alpha_plugin"}, {"alpha_plugin": PRESET_MODULE.format(preset="same")})
    make_dist(site, "omnitron-beta", "2.0", {"beta": "beta_plugin"}, {"beta_plugin": PRESET_MODULE.format(preset="same")})
    with pytest.raises(PluginError, match=r"preset 'same' is provided by both omnitron-alpha 1.0 \(plugin 'alpha'\) and omnitron-beta 2.0 \(plugin 'beta'\)"):
        PluginManager().presets


def test_duplicate_of_a_builtin_is_rejected(register_plugin, omnitron_plugins):
    from omnitron import hookimpl
    from omnitron.health import TcpProbe

    class Again:
        @hookimpl
        def omnitron_add_health_probes(self):
            return [TcpProbe]

    register_plugin(Again(), name="again")
    with pytest.raises(PluginError, match=r"probe 'tcp' is provided by both omnitron-core .* and again"):
        omnitron_plugins.probes


def test_allowlist_and_blocklist(site, monkeypatch):
    make_dist(site, "omnitron-alpha", "1.0", {"alpha": "alpha_plugin"}, {"alpha_plugin": PRESET_MODULE.format(preset="alpha")})
    make_dist(site, "omnitron-beta", "1.0", {"beta": "beta_plugin"}, {"beta_plugin": PRESET_MODULE.format(preset="beta")})
    monkeypatch.setenv("OMNITRON_PLUGINS", "beta")
    assert {"beta"} <= set(PluginManager().presets) and "alpha" not in PluginManager().presets
    monkeypatch.delenv("OMNITRON_PLUGINS")
    monkeypatch.setenv("OMNITRON_DISABLE_PLUGINS", "beta, gamma")
    presets = PluginManager().presets
    assert "alpha" in presets and "beta" not in presets


def test_builtins_register_through_the_hooks(omnitron_plugins):
    assert {"tcp", "http", "command"} <= set(omnitron_plugins.probes)
    assert {"host", "port", "secret", "alloc"} <= set(omnitron_plugins.template_functions)
    info = next(i for i in omnitron_plugins.plugin_infos() if i.name == "omnitron")
    assert info.distribution == "omnitron-core"
    assert info.provides["probes"] == ["command", "http", "tcp"]


def test_plugins_list_json(omnitron_cli, site):
    make_dist(site, "omnitron-alpha", "1.2.3", {"alpha": "alpha_plugin"}, {"alpha_plugin": PRESET_MODULE.format(preset="alpha")})
    result = omnitron_cli("plugins", "list", "--json")
    assert result.code == 0
    data = {p["name"]: p for p in result.json()}
    assert data["alpha"]["version"] == "1.2.3"
    assert data["alpha"]["provides"] == {"presets": ["alpha"]}
    assert set(data["alpha"]) >= {"name", "version", "hooks", "provides"}
    table = omnitron_cli("plugins", "list")
    assert "alpha" in table.out and "1.2.3" in table.out


HOOKS = [name for name, obj in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("omnitron_")]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook))
    assert doc and ":returns:" in doc, f"{hook} needs a docstring with :returns:"
    assert re.search(r"Called (once|when|for|each)", doc), f"{hook} must say when it fires"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    here = Path(__file__).parent
    assert any(f"def test_hook_{hook}" in p.read_text() for p in here.glob("test_*.py")), f"add test_hook_{hook}"


# -- one test per hook: a plugin object registering through it is seen -------------


def _plugin_with(hook_name, items):
    from omnitron import hookimpl

    ns = {}
    exec(f"def {hook_name}(self):\n    return items\n", {"items": items}, ns)
    return type("P", (), {hook_name: hookimpl(ns[hook_name])})()


def test_hook_omnitron_add_presets(register_plugin, omnitron_plugins):
    from _kv import KVPreset

    register_plugin(_plugin_with("omnitron_add_presets", [KVPreset]))
    assert isinstance(omnitron_plugins.presets["kv"], KVPreset)


def test_hook_omnitron_add_providers(register_plugin, omnitron_plugins):
    from omnitron.providers import Provider

    class Null(Provider):
        name = "null"

    register_plugin(_plugin_with("omnitron_add_providers", [Null]))
    assert omnitron_plugins.providers["null"] is Null


def test_hook_omnitron_add_health_probes(register_plugin, omnitron_plugins):
    from omnitron.health import HealthProbe, ProbeResult
    from omnitron.presets import PresetConfig

    class Always(HealthProbe):
        name = "always"
        spec_model = PresetConfig

        async def check(self, spec, target, timeout):
            return ProbeResult(True, "ok")

    register_plugin(_plugin_with("omnitron_add_health_probes", [Always]))
    assert isinstance(omnitron_plugins.probes["always"], Always)


def test_hook_omnitron_add_template_functions(register_plugin, omnitron_plugins):
    from omnitron.templating import Renderer, TemplateContext, TemplateFunction

    class Upper(TemplateFunction):
        name = "upper"
        takes_argument = True

        def render(self, arg, ctx):
            return arg.upper()

    register_plugin(_plugin_with("omnitron_add_template_functions", [Upper]))
    renderer = Renderer(omnitron_plugins.template_functions)
    assert renderer.render("x-${upper:abc}", TemplateContext(app="a", service=None)) == "x-ABC"


def test_hook_omnitron_add_secret_backends(register_plugin, omnitron_plugins):
    from omnitron.secrets.base import SecretBackend

    class Mem(SecretBackend):
        name = "mem"

        def get(self, key):
            return None

        def set(self, key, value):
            pass

        def delete(self, key):
            return False

        def list(self):
            return []

    register_plugin(_plugin_with("omnitron_add_secret_backends", [Mem]))
    assert omnitron_plugins.secret_backends["mem"] is Mem


def test_hook_omnitron_add_commands(register_plugin, omnitron_plugins):
    from omnitron.cli_registry import CommandSpec

    spec = CommandSpec(name="hello", target="os:getcwd", group="infra", help="hi")
    register_plugin(_plugin_with("omnitron_add_commands", [spec]))
    assert omnitron_plugins.commands["infra hello"] == spec


def test_no_warnings_from_a_clean_environment():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PluginManager().plugin_infos()


def test_lazy_provider_is_imported_on_first_lookup(site, register_plugin, omnitron_plugins):
    from omnitron.lazy import LazyClass

    (site / "lazy_provider_mod.py").write_text(
        "from omnitron.providers import Provider\n\nclass Slow(Provider):\n    name = 'slow'\n"
    )
    register_plugin(_plugin_with("omnitron_add_providers", [LazyClass("slow", "lazy_provider_mod:Slow"), LazyClass("liar", "lazy_provider_mod:Slow")]))
    providers = omnitron_plugins.providers
    assert "slow" in providers and "lazy_provider_mod" not in sys.modules
    assert providers["slow"].__name__ == "Slow"
    assert "lazy_provider_mod" in sys.modules
    with pytest.raises(PluginError, match="registered as 'liar' but its name is 'slow'"):
        providers["liar"]


def test_a_misspelled_hook_is_an_error_naming_the_plugin(omnitron_plugins):
    from omnitron import hookimpl

    class Typo:
        @hookimpl
        def omnitron_add_preset(self):  # the hook is omnitron_add_presets
            return []

    with pytest.raises(PluginError, match=r"plugin 'typo' .*implements omnitron_add_preset, which is not an omnitron hook \(misspelled\?\); hooks: .*omnitron_add_presets"):
        omnitron_plugins.register(Typo(), name="typo")
    assert "typo" not in [name for name, _ in omnitron_plugins._pm.list_name_plugin()]


def test_a_misspelled_hook_of_an_entry_point_names_its_distribution(site):
    make_dist(site, "omnitron-typo", "0.3", {"typo": "typo_plugin"}, {"typo_plugin": "from omnitron import hookimpl\n\n@hookimpl\ndef omnitron_add_provider():\n    return []\n"})
    with pytest.raises(PluginError, match=r"plugin 'typo' \(omnitron-typo 0.3\) implements omnitron_add_provider"):
        PluginManager().presets
