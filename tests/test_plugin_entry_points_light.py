"""Loading a plugin costs no driver, no config model and no crypto: its entry point registers names, heavy classes lazily.

Every installed plugin's entry-point module is imported in a fresh
interpreter and each of its registration hooks is called, as the plugin
manager does for ``omnitron --help`` or ``plugins list``; the modules it
imported are checked. A behaviour test, not a timed one: a preset class
imported at registration again (``return [MinioPreset]`` instead of a
:class:`~omnitron.api.LazyClass`) fails here on any machine.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys

import pytest

from omnitron.testing import modules_imported_by

HEAVY = {"pydantic", "pydantic_core", "cryptography", "anyio", "sqlite3", "psycopg", "redis", "aiohttp", "aiodocker", "pymysql", "httpx", "docker", "boto3", "botocore"}
"""Config models, crypto, the event loop and the servers' client libraries: what only the code that uses them may load."""

THIRD_PARTY_EXAMPLES = {"memcached"}
"""examples/omnitron-memcached shows a third-party preset in its plainest form (the class returned from the hook):
omnitron loads it the same way, that plugin just pays for its own imports. The rule here is this repository's plugins'."""
ENTRY_POINTS = sorted((ep for ep in md.entry_points(group="omnitron") if ep.name not in THIRD_PARTY_EXAMPLES), key=lambda ep: ep.name)

_LOAD = """
import importlib.metadata as md, json, sys
(ep,) = [e for e in md.entry_points(group="omnitron") if e.name == sys.argv[1]]
module = ep.load()
called = []
for name in sorted(dir(module)):
    hook = getattr(module, name)
    if name.startswith("omnitron_") and callable(hook) and hasattr(hook, "omnitron_impl"):
        hook()
        called.append(name)
print(json.dumps({"called": called, "modules": sorted({m.partition(".")[0] for m in sys.modules})}))
"""


def test_the_plugins_of_this_repository_are_installed():
    assert {"postgres", "redis", "minio", "mysql", "tor", "openresty", "docker", "process", "swarm", "baremetal"} <= {ep.name for ep in ENTRY_POINTS}


@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=lambda ep: ep.name)
def test_registering_a_plugin_loads_nothing_heavy(entry_point):
    done = subprocess.run([sys.executable, "-c", _LOAD, entry_point.name], capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout)
    assert report["called"], f"{entry_point.value} implements no hook"
    assert not set(report["modules"]) & HEAVY, f"{entry_point.value}: {sorted(set(report['modules']) & HEAVY)}"


def test_the_checker_sees_a_heavy_registration(tmp_path):
    """A plugin whose hook imports pydantic at registration is seen doing so."""
    (tmp_path / "heavy_plugin.py").write_text(
        "from omnitron import hookimpl\n\n\n@hookimpl\ndef omnitron_add_commands():\n    import pydantic  # noqa: F401\n\n    return []\n"
    )
    info = tmp_path / "heavy_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: heavy-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[omnitron]\nheavy = heavy_plugin\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _LOAD, "heavy"], capture_output=True, text=True, timeout=120, check=True, env=env)
    assert "pydantic" in json.loads(done.stdout)["modules"]


def test_plugins_list_with_every_plugin_loads_no_model_and_no_driver(omnitron_isolated):
    env = {**os.environ, "OMNITRON_DISABLE_PLUGINS": ",".join(sorted(THIRD_PARTY_EXAMPLES))}
    code, imported = modules_imported_by(["plugins", "list", "--json"], env=env)
    assert code == 0
    assert "pluggy" in imported  # the plugins were really loaded
    assert not imported & (HEAVY | {"rich"})
