import pytest
from pydantic import ValidationError

from omnitron.model import (
    AppConfig,
    EcosystemConfig,
    HealthCheck,
    ServiceRequirement,
    StackConfig,
    VolumeMount,
    parse_duration,
    parse_size,
)


@pytest.mark.parametrize(
    ("raw", "ms"),
    [("5s", 5000), ("2m", 120_000), ("500ms", 500), (1500, 1500), ("1h", 3_600_000), ("1.5s", 1500), ("250", 250)],
)
def test_durations(raw, ms):
    assert parse_duration(raw) == ms
    assert ServiceRequirement(startup_timeout=raw).startup_timeout == ms


@pytest.mark.parametrize("raw", ["5x", "", "s", -1, True, "1 day", None])
def test_bad_durations(raw):
    with pytest.raises(ValueError):
        parse_duration(raw)


@pytest.mark.parametrize(("raw", "size"), [("10gb", 10_000_000_000), ("512mb", 512_000_000), ("1GiB", 1024**3), (42, 42)])
def test_sizes(raw, size):
    assert parse_size(raw) == size


def test_defaults_critical_and_startup_timeout():
    req = ServiceRequirement()
    assert req.critical is True
    assert req.startup_timeout == 120_000


def test_camel_and_snake_case_both_accepted():
    a = ServiceRequirement.model_validate({"dependsOn": ["x"], "startupTimeout": "5s"})
    b = ServiceRequirement.model_validate({"depends_on": ["x"], "startup_timeout": 5000})
    assert a == b
    assert "dependsOn" in a.model_dump(by_alias=True)


def test_spec_health_check_example():
    hc = HealthCheck.model_validate(
        {
            "tcp": {"port": 5432},
            "http": {"path": "/healthz", "port": 8080, "status": 200},
            "command": {"exec": ["pg_isready", "-U", "postgres"], "interval": "5s"},
            "retries": 10,
            "timeout": "10s",
        }
    )
    assert hc.command.interval == 5000
    assert hc.timeout == 10_000
    assert hc.http.path == "/healthz"


def test_plain_string_secret_refused_with_pointer_to_store():
    with pytest.raises(ValidationError, match="omnitron secret set"):
        ServiceRequirement.model_validate({"secrets": {"db_pass": "hunter2"}})


def test_volume_type_is_inferred():
    assert VolumeMount(source="./infra/nginx", target="/etc/nginx").type == "bind"
    assert VolumeMount(source="/srv/x", target="/x").type == "bind"
    assert VolumeMount(source="pgdata", target="/var/lib/postgresql/data").type == "volume"


def test_legacy_shape_normalised_into_services_all_six_keys():
    eco = EcosystemConfig.model_validate(
        {
            "infrastructure": {
                "postgres": {"databases": {"main": {}}},
                "redis": {"maxmemory": "64mb"},
                "minio": {"buckets": ["uploads"]},
                "gateway": {"configDir": "./infra/nginx"},
                "tor": True,
                "containers": {"my-service": {"ports": {"http": 8080}, "docker": {"image": "me:1"}}},
            }
        }
    )
    services = eco.infrastructure.services
    assert set(services) == {"postgres", "redis", "minio", "gateway", "tor", "my-service"}
    assert services["postgres"].preset == "postgres"
    assert services["postgres"].config == {"databases": {"main": {}}}
    assert services["gateway"].preset == "openresty"
    assert services["gateway"].config == {"configDir": "./infra/nginx"}
    assert services["tor"].preset == "tor"
    assert services["minio"].preset == "minio"
    assert isinstance(services["my-service"], ServiceRequirement)


def test_legacy_and_services_conflict_is_an_error():
    with pytest.raises(ValidationError, match="declared both"):
        EcosystemConfig.model_validate({"infrastructure": {"postgres": {}, "services": {"postgres": {"preset": "postgres"}}}})


def test_legacy_disabled_entry_is_skipped():
    eco = EcosystemConfig.model_validate({"infrastructure": {"redis": False, "minio": {"enabled": False}}})
    assert eco.infrastructure.services == {}


def test_app_config_spec_example():
    cfg = AppConfig.model_validate(
        {
            "database": True,
            "redis": True,
            "s3": {"bucket": "uploads", "quota": "10gb"},
            "services": {"discovery": True, "notifications": True},
            "infrastructure": {
                "search": {
                    "type": "daemon",
                    "ports": {"http": 9200},
                    "env": {"SEARCH_URL": "http://${host}:${port:http}"},
                    "docker": {"image": "elasticsearch:8.11.0"},
                }
            },
        }
    )
    assert cfg.s3.quota == 10_000_000_000
    assert cfg.infrastructure["search"].ports == {"http": 9200}


def test_stack_defaults_bind_loopback():
    stack = StackConfig()
    assert stack.bind_address == "127.0.0.1"
    assert stack.provider == "auto"
    assert stack.type == "local"
