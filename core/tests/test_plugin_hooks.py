"""Plugins defining hooks of their own (``omnitron_add_hookspecs``) that other plugins implement."""

from __future__ import annotations

import pytest
from test_plugins import make_dist, site  # noqa: F401  (the fixture)

from omnitron import hookimpl
from omnitron.api import Kind, PluginHooks, hookspec
from omnitron.errors import PluginError
from omnitron.plugins import PluginManager

DEFINER = '''
from omnitron import hookimpl
from omnitron.api import Kind, PluginHooks, hookspec


class Specs:
    @hookspec
    def omnitron_greeter_add_greetings():
        """Greetings: classes with a ``name``."""


@hookimpl
def omnitron_add_hookspecs():
    return [PluginHooks(Specs, (Kind("omnitron_greeter_add_greetings", "greetings", instantiate=True),))]


class Hello:
    name = "hello"


@hookimpl
def omnitron_greeter_add_greetings():
    return [Hello]
'''

IMPLEMENTER = '''
from omnitron import hookimpl


class Hola:
    name = "hola"


@hookimpl
def omnitron_greeter_add_greetings():
    return [Hola]
'''

HOOK = "omnitron_greeter_add_greetings"


class Specs:
    @hookspec
    def omnitron_greeter_add_greetings():
        """Greetings: classes with a ``name``."""


def _named(name: str) -> type:
    return type(name.title(), (), {"name": name})


class Definer:
    @hookimpl
    def omnitron_add_hookspecs(self):
        return [PluginHooks(Specs, (Kind(HOOK, "greetings", instantiate=True),))]

    @hookimpl
    def omnitron_greeter_add_greetings(self):
        return [_named("hello")]


class Implementer:
    def __init__(self, *names: str) -> None:
        self.names = names

    @hookimpl
    def omnitron_greeter_add_greetings(self):
        return [_named(n) for n in self.names]


def test_hook_omnitron_add_hookspecs(register_plugin, omnitron_plugins):
    register_plugin(Definer(), name="greeter")
    register_plugin(Implementer("hola"), name="third-party")
    greetings = omnitron_plugins.registry(HOOK)
    assert sorted(greetings) == ["hello", "hola"]
    assert greetings["hola"].name == "hola" and not isinstance(greetings["hola"], type)  # instantiated once
    assert greetings.owner("hola") == "third-party"
    infos = {i.name: i for i in omnitron_plugins.plugin_infos()}
    assert infos["third-party"].provides == {"greetings": ["hola"]}
    assert HOOK in infos["third-party"].hooks


def test_an_implementer_loaded_before_the_definer_is_accepted(site):  # noqa: F811
    # entry points load in name order: "aaa" implements the hook "zzz" defines
    make_dist(site, "omnitron-aaa", "1.0", {"aaa": "aaa_plugin"}, {"aaa_plugin": IMPLEMENTER})
    make_dist(site, "omnitron-zzz", "2.0", {"zzz": "zzz_plugin"}, {"zzz_plugin": DEFINER})
    pm = PluginManager()
    assert sorted(pm.registry(HOOK)) == ["hello", "hola"]
    assert pm.registry(HOOK).owner("hola") == "aaa"


def test_an_implementer_without_its_definer_is_an_error_naming_it(site):  # noqa: F811
    make_dist(site, "omnitron-aaa", "1.0", {"aaa": "aaa_plugin"}, {"aaa_plugin": IMPLEMENTER})
    with pytest.raises(PluginError, match=r"plugin 'aaa' \(omnitron-aaa 1.0\) implements omnitron_greeter_add_greetings, which is not an omnitron hook \(misspelled, or the plugin defining it is not installed\?\)"):
        PluginManager().presets


def test_a_name_given_twice_through_a_plugin_hook_names_both(register_plugin, omnitron_plugins):
    register_plugin(Definer(), name="greeter")
    register_plugin(Implementer("hello"), name="copycat")
    with pytest.raises(PluginError, match=r"greeting 'hello' is provided by both greeter 0 \(plugin 'greeter'\) and copycat 0 \(plugin 'copycat'\)"):
        omnitron_plugins.registry(HOOK)


def test_a_hook_defined_twice_is_an_error_naming_both(register_plugin, omnitron_plugins):
    register_plugin(Definer(), name="greeter")
    with pytest.raises(PluginError, match=r"plugin .*'again'.* defines the hook omnitron_greeter_add_greetings, which .*'greeter'.* defines already"):
        omnitron_plugins.register(Definer(), name="again")
    assert "again" not in [n for n, _ in omnitron_plugins._pm.list_name_plugin()]


def test_a_registry_nobody_defines_is_an_error(omnitron_plugins):
    with pytest.raises(PluginError, match="no installed plugin defines the hook omnitron_nobody_add_things"):
        omnitron_plugins.registry("omnitron_nobody_add_things")
