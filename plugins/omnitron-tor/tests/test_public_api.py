"""The plugin uses omnitron's public API only: ``omnitron.api`` and ``from omnitron import hookimpl``."""

from __future__ import annotations

from pathlib import Path

from omnitron.testing import imports_beyond_api


def test_only_the_public_api_is_imported():
    assert imports_beyond_api(Path(__file__).resolve().parent.parent / "src" / "omnitron_tor") == []
