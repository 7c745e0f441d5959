"""``infra status`` speaks the spec's ``ContainerState`` vocabulary whatever the provider said, while the state
itself keeps the provider's words (its quick checks compare them)."""

from __future__ import annotations

from omnitron.isotime import iso_utc
from omnitron.providers import ContainerState, InfrastructureState


def spoken(st: ContainerState) -> dict:
    return InfrastructureState(services={st.name: st}).as_json()["services"][st.name]


def test_a_stopped_service_has_health_none():
    for status in ("not_found", "exited", "created"):
        st = ContainerState(name="db", status=status)
        assert spoken(st)["health"] == "none"
        assert st.health is None
    assert spoken(ContainerState(name="db", status="running"))["health"] is None  # running, not probed: left alone
    assert spoken(ContainerState(name="db", status="running", health="unhealthy"))["health"] == "unhealthy"


def test_started_at_is_the_same_for_docker_and_process():
    docker = ContainerState(name="db", status="running", started_at="2026-12-02T12:00:00.123456789Z")
    process = ContainerState(name="db", status="running", started_at="2026-12-02T12:00:00.654321+00:00")
    assert spoken(docker)["startedAt"] == spoken(process)["startedAt"] == "2026-12-02T12:00:00+00:00"
    assert docker.started_at == "2026-12-02T12:00:00.123456789Z"  # what a quick check of this start compares
    assert ContainerState.model_validate(docker.model_dump()).started_at == docker.started_at
    assert iso_utc("2026-12-02T14:00:00+02:00") == "2026-12-02T12:00:00+00:00"
    assert iso_utc("not a time") == "not a time"
