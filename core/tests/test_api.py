"""The public API for plugin authors: every name resolves, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import omnitron.api as api


def test_every_public_name_resolves():
    missing = [name for name in api.__all__ if getattr(api, name, None) is None]
    assert missing == []


def test_unknown_name_is_an_attribute_error():
    try:
        api.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_loads_no_heavy_module():
    code = "import sys, omnitron.api; print(sorted(m for m in ('pydantic', 'cyclopts', 'anyio', 'rich') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_the_type_checking_names_match_the_exports():
    import omnitron._api_types as types

    assert sorted(types.__all__) == sorted(api.__all__)
    assert all(getattr(types, name) is getattr(api, name) for name in api.__all__)
