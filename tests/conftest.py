"""Cross-package tests: every omnitron package installed together."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["process", "docker"])
def project(request, tmp_path):
    """The small ``db`` + ``cache`` + ``web`` project (:class:`harden_testlib.Project`), once on each provider."""
    from harden_testlib import Project
    from shop_project import require_docker

    if request.param == "docker":
        require_docker()
    p = Project(tmp_path, request.param)
    yield p
    p.cleanup()
