"""Hidden service targets resolved through a real plan: apps' declared ports, services' host ports, host:port."""

from __future__ import annotations

import pytest

from omnitron_tor.targets import resolve
from tor_testlib import OFFLINE

SEARCH = {"type": "daemon", "ports": {"http": 9200, "admin": 9300}, "docker": {"image": "search:1"}}


@pytest.fixture
def plan(omnitron_project):
    eco = {
        "project": "onion",
        "apps": [{"name": "api", "ports": {"http": 7100}}],
        "infrastructure": {"services": {"tor": {"preset": "tor", "config": OFFLINE}, "search": SEARCH}},
        "stacks": {"dev": {"provider": "docker", "portOffsets": {"search": 1000}}},
    }
    apps = {
        "web": {"ports": {"http": 8080}},
        "shop": {"ports": {"http": 8081, "metrics": 9102}},
        "api": {"ports": {"http": 7000}},
        "worker": {"ports": {"queue": 5555}},
        "mobile": {"infrastructure": {"search": {**SEARCH, "docker": {"image": "search:2"}}}},
    }
    return omnitron_project.write(eco, apps).plan()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("web", "127.0.0.1:8080"),  # an app's only port
        ("shop", "127.0.0.1:8081"),  # the one named http
        ("shop:metrics", "127.0.0.1:9102"),
        ("shop:9102", "127.0.0.1:9102"),
        ("api", "127.0.0.1:7100"),  # the ecosystem's app entry wins over the app's config
        ("worker", "127.0.0.1:5555"),
        ("search:http", "127.0.0.1:10200"),  # a service's host port, offsets applied
        ("search:9300", "127.0.0.1:10300"),  # a port number as declared
        ("mobile/search:http", "127.0.0.1:10201"),  # an app's own service, moved off the taken port
        ("10.0.0.5:8443", "10.0.0.5:8443"),
        ("backend.internal:80", "backend.internal:80"),
        ("[::1]:8080", "[::1]:8080"),
    ],
)
def test_targets_resolve_through_the_plan(plan, target, expected):
    assert resolve(target, plan) == expected


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nobody", "no app named 'nobody'"),
        ("shop:admin", "app shop declares no port 'admin'; ports: http, metrics"),
        ("search:grpc", "service search has no port 'grpc'; ports: admin, http"),
        ("search", "service search has 2 ports: write search:PORT"),
        ("ghost:http", "no app or service named 'ghost'"),
    ],
)
def test_unresolvable_targets_say_why(plan, target, message):
    with pytest.raises(LookupError, match=message):
        resolve(target, plan)
