"""Core tests run with the core alone installed: presets they need are defined in _kv.py."""

from __future__ import annotations

import pytest

from _kv import KVPlugin, KVPreset


@pytest.fixture
def kv(register_plugin):
    register_plugin(KVPlugin(), name="kv-test")
    return KVPreset


@pytest.fixture
def stand_in_providers(register_plugin, omnitron_plugins):
    """docker, process and baremetal as they describe themselves (plans only; see _providers.py).

    In-process commands (``omnitron.cli.main``) use the same plugin manager.
    """
    from _providers import StandInProviders

    from omnitron.plugins import set_default_manager

    register_plugin(StandInProviders(), name="stand-in-providers")
    set_default_manager(omnitron_plugins)
    yield
    set_default_manager(None)


@pytest.fixture(autouse=True)
def _core_only(monkeypatch, request):
    """Core tests see built-ins and the plugins they register, not whatever is installed."""
    if "installed_plugins" not in request.keywords:
        monkeypatch.setenv("OMNITRON_PLUGINS", "")


# CI explores a fixed set of examples (reproducible); local runs explore new ones each time.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, max_examples=300)
if os.environ.get("CI"):
    settings.load_profile("ci")
settings.register_profile("long", max_examples=5000)
