"""``infra status`` speaks the spec's ``ContainerState`` vocabulary whatever the provider said."""

from __future__ import annotations

from omnitron.engine.inspect import _reported, iso_utc
from omnitron.providers import ContainerState


def test_a_stopped_service_has_health_none():
    for status in ("not_found", "exited", "created"):
        st = _reported(ContainerState(name="db", status=status))
        assert st.health == "none"
        assert st.model_dump(by_alias=True, mode="json")["health"] == "none"
    assert _reported(ContainerState(name="db", status="running")).health is None  # running, not probed: left alone
    assert _reported(ContainerState(name="db", status="running", health="unhealthy")).health == "unhealthy"


def test_started_at_is_the_same_for_docker_and_process():
    docker = _reported(ContainerState(name="db", status="running", started_at="2026-12-02T12:00:00.123456789Z"))
    process = _reported(ContainerState(name="db", status="running", started_at="2026-12-02T12:00:00.654321+00:00"))
    assert docker.started_at == process.started_at == "2026-12-02T12:00:00+00:00"
    assert iso_utc("2026-12-02T14:00:00+02:00") == "2026-12-02T12:00:00+00:00"
    assert iso_utc("not a time") == "not a time"
