"""``omnitron infra export``: the examples as Kubernetes manifests and a compose file, validated offline.

Kubernetes manifests are checked with ``kubernetes-validate --strict`` (the
official schemas, shipped in the package: no API server is needed); the
compose file with ``docker-compose config``. A deliberately broken manifest
shows the validator really runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from omnitron.testing import unavailable

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
GATEWAY_EXAMPLE = EXAMPLES / "gateway"
"""The gateway example, exported like the others once it exists in this tree."""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "OMNITRON_SECRET_KEY": os.urandom(32).hex(), "OMNITRON_CONFIG_DIR": str(tmp_path / "config")}


def export(example: Path, out: Path, env: dict[str, str], *args: str) -> dict:
    work = out.parent / f"{example.name}-project"
    shutil.copytree(example, work, ignore=shutil.ignore_patterns(".omnitron"))
    result = subprocess.run([str(BIN / "omnitron"), "infra", "export", "--stack", "cluster", "-o", str(out), "--json", *args], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def validate(*files: Path) -> subprocess.CompletedProcess[str]:
    tool = BIN / "kubernetes-validate"
    if not tool.exists():
        unavailable("kubernetes-validate is not installed (the export session's test group installs it)")
    return subprocess.run([str(tool), "--strict", *map(str, files)], capture_output=True, text=True, timeout=300)


def docs(out: Path) -> list[dict]:
    return [d for f in sorted(out.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


EXPORTED = ["shop", "onion", *(["gateway"] if GATEWAY_EXAMPLE.is_dir() else [])]


@pytest.mark.parametrize("example", EXPORTED)
def test_an_example_exports_to_valid_kubernetes_manifests(example: str, tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "k8s"
    export(EXAMPLES / example, out, env)
    files = sorted(out.glob("*.yaml"))
    assert files
    result = validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout + result.stderr


def test_shop_manifests_hold_what_a_cluster_needs(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "k8s"
    report = export(EXAMPLES / "shop", out, env)
    by_kind: dict[str, dict[str, dict]] = {}
    for doc in docs(out):
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    # services with volumes are stateful: a StatefulSet with a claim per volume
    assert set(by_kind["StatefulSet"]) == {"db", "cache", "storage"}
    storage = by_kind["StatefulSet"]["storage"]
    assert [c["metadata"]["name"] for c in storage["spec"]["volumeClaimTemplates"]] == ["data"]
    db = by_kind["StatefulSet"]["db"]
    assert [c["metadata"]["name"] for c in db["spec"]["volumeClaimTemplates"]] == ["data"]
    container = db["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "POSTGRES_PASSWORD_FILE", "value": "/run/secrets/postgres-password"} in container["env"]
    assert container["livenessProbe"]["exec"]["command"][0] == "pg_isready"
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    assert db["metadata"]["labels"]["omnitron.project"] == "shop" and db["metadata"]["labels"]["omnitron.spec-hash"]
    assert db["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] == "shop-db"
    assert by_kind["Service"]["db"]["spec"]["ports"] == [{"name": "main", "port": 5432, "targetPort": 5432, "protocol": "TCP"}]
    cache = by_kind["StatefulSet"]["cache"]["spec"]["template"]["spec"]["containers"][0]
    assert cache["args"][:2] == ["redis-server", "/run/secrets/redis.conf"] and "--requirepass" not in cache["args"]
    job = by_kind["Job"]["orders-migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["python", "migrate.py"]
    assert job["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [{"secretRef": {"name": "shop-orders-env"}}]
    commands = report["secretCommands"]
    assert any(c.startswith("kubectl create secret generic shop-db ") and "--from-file=postgres-password=<(omnitron infra export --stack cluster --secret shop-db/postgres-password)" in c for c in commands)
    assert (out / "create-secrets.sh").read_text().count("kubectl create secret") == len(commands)


def test_secrets_appear_only_as_references(tmp_path: Path, env: dict[str, str]) -> None:
    work = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "shop", work, ignore=shutil.ignore_patterns(".omnitron"))  # not the state of a demo run there
    run = lambda *a: subprocess.run([str(BIN / "omnitron"), *a], cwd=work, env=env, capture_output=True, text=True, timeout=60, input="s3cret-Value-42\n")
    assert run("secret", "set", "shop/cluster/db/password").returncode == 0
    result = run("infra", "export", "--stack", "cluster", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    assert "s3cret-Value-42" not in written and "s3cret-Value-42" not in result.stdout
    assert not any(d["kind"] == "Secret" for d in docs(tmp_path / "out"))
    assert "omnitron infra export --stack cluster --secret shop-db/postgres-password" in written


def test_a_broken_manifest_fails_validation(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "k8s"
    export(EXAMPLES / "shop", out, env)
    (db,) = [d for d in docs(out) if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "db"]
    db["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["tcpSockett"] = {"port": 5432}  # a misspelled field
    db["spec"]["replicas"] = "one"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(db))
    result = validate(broken)
    assert result.returncode != 0
    assert "tcpSockett" in result.stdout + result.stderr or "replicas" in result.stdout + result.stderr


def test_compose_export_passes_docker_compose_config(tmp_path: Path, env: dict[str, str]) -> None:
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose is not installed (scripts/setup-system installs it)")
    out = tmp_path / "compose"
    report = export(EXAMPLES / "shop", out, env, "--format", "compose")
    compose = out / "compose.yaml"
    result = subprocess.run(["docker-compose", "-f", str(compose), "config", "-q"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(compose.read_text())
    db = data["services"]["db"]
    assert db["secrets"] == [{"source": "shop-db-postgres-password", "target": "/run/secrets/postgres-password", "mode": 0o444}]
    assert data["secrets"]["shop-db-postgres-password"] == {"external": True}
    assert "POSTGRES_PASSWORD" not in db["environment"] and db["healthcheck"]["test"][0] == "CMD-SHELL"
    assert any(c.endswith("| docker secret create shop-db-postgres-password -") for c in report["secretCommands"])
    broken = tmp_path / "broken.yaml"
    data["services"]["db"]["healthcheck"]["intervall"] = "5s"
    broken.write_text(yaml.safe_dump(data))
    assert subprocess.run(["docker-compose", "-f", str(broken), "config", "-q"], capture_output=True, text=True).returncode != 0


def test_a_stack_whose_services_run_as_processes_is_refused_clearly(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "omnitron.toml").write_text('project = "p"\n[infrastructure.services.job]\nports = {main = 9000}\nprocess = {command = ["sleep", "1"]}\n[stacks.cluster]\ntype = "cluster"\n')
    result = subprocess.run([str(BIN / "omnitron"), "infra", "export", "--stack", "cluster"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


GATEWAY = """project = "gw"
[infrastructure.services.gateway]
ports = {http = 8080}
healthCheck = {http = {port = "http", path = "/"}}
[infrastructure.services.gateway.docker]
image = "omnitron-test/openresty:1.27"
volumes = [
  {source = "./conf", target = "/etc/nginx/conf.d", type = "bind", readOnly = true},
  {source = "./main.conf", target = "/etc/nginx/main.conf", type = "bind", readOnly = true},
]
resources = {memory = "128m", cpus = 0.5}
[stacks.cluster]
type = "cluster"
provider = "swarm"
"""


def test_mounted_config_files_become_config_maps(tmp_path: Path, env: dict[str, str]) -> None:
    """A gateway's config directory and a single config file: one ConfigMap each, mounted where the container reads them."""
    project = tmp_path / "gw"
    (project / "conf").mkdir(parents=True)
    (project / "conf" / "site.conf").write_text('server { listen 8080; location / { return 200 "ok"; } }\n')
    (project / "main.conf").write_text("worker_processes 1;\n")
    (project / "omnitron.toml").write_text(GATEWAY)
    out = tmp_path / "k8s"
    result = subprocess.run([str(BIN / "omnitron"), "infra", "export", "--stack", "cluster", "-o", str(out)], cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    checked = validate(*sorted(out.glob("*.yaml")))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    found = {d["kind"] + "/" + d["metadata"]["name"]: d for d in docs(out)}
    maps = {name: d["data"] for name, d in found.items() if name.startswith("ConfigMap/")}
    assert sorted(maps.values(), key=str) == [{"main.conf": "worker_processes 1;\n"}, {"site.conf": (project / "conf" / "site.conf").read_text()}]
    pod = found["Deployment/gateway"]["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["/etc/nginx/conf.d"]["readOnly"] is True and "subPath" not in mounts["/etc/nginx/conf.d"]
    assert mounts["/etc/nginx/main.conf"]["subPath"] == "main.conf"
    assert {v["configMap"]["name"] for v in pod["volumes"]} == {name.removeprefix("ConfigMap/") for name in maps}
    assert pod["containers"][0]["resources"] == {"limits": {"memory": str(128 * 1024**2), "cpu": "500m"}}
    assert pod["containers"][0]["livenessProbe"]["httpGet"] == {"path": "/", "port": 8080, "scheme": "HTTP"}
    assert found["Service/gateway"]["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"}]


KUBECTL = """#!/usr/bin/env python3
import json, os, sys
record = {"argv": sys.argv[1:], "files": {}}
for arg in sys.argv[1:]:
    if arg.startswith("--from-file="):
        key, path = arg.removeprefix("--from-file=").split("=", 1)
        record["files"][key] = open(path).read()
with open(os.environ["KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
"""


def test_the_secret_script_creates_each_secret_from_the_store_never_from_an_argument(tmp_path: Path, env: dict[str, str]) -> None:
    """``create-secrets.sh`` run as a user would, with a ``kubectl`` that records what it was given (no API server
    can be had here): every value comes from the secret store through a pipe, none is on a command line."""
    work = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "shop", work, ignore=shutil.ignore_patterns(".omnitron"))
    run = lambda *a, value="": subprocess.run([str(BIN / "omnitron"), *a], cwd=work, env=env, capture_output=True, text=True, timeout=60, input=value)
    for key, value in (("shop/cluster/db/password", "pg-Secret_Value-1"), ("shop/cluster/cache/password", "redis-Secret_Value-2")):
        assert run("secret", "set", key, value=value + "\n").returncode == 0
    out = tmp_path / "k8s"
    assert run("infra", "export", "--stack", "cluster", "-o", str(out)).returncode == 0
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "kubectl").write_text(KUBECTL)
    (fake / "kubectl").chmod(0o755)
    log = tmp_path / "kubectl.log"
    script_env = {**env, "PATH": f"{fake}:{BIN}:{os.environ['PATH']}", "KUBECTL_LOG": str(log)}
    result = subprocess.run([str(out / "create-secrets.sh")], cwd=work, env=script_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = {call["argv"][3]: call for call in map(json.loads, log.read_text().splitlines())}
    assert calls["shop-db"]["files"] == {"postgres-password": "pg-Secret_Value-1"}
    assert calls["shop-cache"]["files"]["redis.conf"] == 'requirepass "redis-Secret_Value-2"\n'
    assert ":redis-Secret_Value-2@cache:6379/" in calls["shop-orders-env"]["files"]["REDIS_URL"]
    assert calls["shop-orders-env"]["files"]["DATABASE_URL"] == "postgresql://postgres:pg-Secret_Value-1@db:5432/orders"
    argv = json.dumps([call["argv"] for call in calls.values()])
    assert "Secret_Value" not in argv and "Secret_Value" not in (out / "create-secrets.sh").read_text()


def test_a_bad_memory_limit_is_one_line_naming_the_field_and_nothing_is_written(tmp_path: Path, env: dict[str, str]) -> None:
    project = tmp_path / "gw"
    (project / "conf").mkdir(parents=True)
    (project / "main.conf").write_text("worker_processes 1;\n")
    (project / "omnitron.toml").write_text(GATEWAY.replace('memory = "128m"', 'memory = "lots"'))
    out = tmp_path / "k8s"
    result = subprocess.run([str(BIN / "omnitron"), "infra", "export", "--stack", "cluster", "-o", str(out)], cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "infrastructure.services.gateway.docker.resources.memory" in result.stderr and "lots" in result.stderr
    assert not out.exists()


HARD = "p@ss w$rd'\"\\ #/:?%&${HOME}$(touch pwned)`id`"
"""A password holding what shells, YAML, compose interpolation, URLs and Redis's config quoting treat specially."""

DOCKER = """#!/usr/bin/env python3
import json, os, sys
record = {"argv": sys.argv[1:], "stdin": sys.stdin.read() if sys.argv[1:3] == ["secret", "create"] else None}
with open(os.environ["DOCKER_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
"""


def _fake(tmp_path: Path, name: str, body: str) -> Path:
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / name).write_text(body)
    (fake / name).chmod(0o755)
    return fake


def _run_script(script: Path, work: Path, env: dict[str, str], fake: Path, **extra: str) -> None:
    result = subprocess.run([str(script)], cwd=work, env={**env, "PATH": f"{fake}:{BIN}:{os.environ['PATH']}", **extra}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (work / "pwned").exists()


def redis_takes(conf: str, password: str, tmp_path: Path) -> bool:
    """Whether a real redis-server fed ``conf`` (as the container's config file) accepts ``password`` (redis-cli, the
    password in ``REDISCLI_AUTH``); a wrong password must be refused by the same server."""
    from omnitron.api import free_port, poll_attempts_sync

    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        unavailable("redis-server and redis-cli are not installed (apt-get install redis-server)")
    port = free_port()
    data = tmp_path / f"redis-{port}"
    data.mkdir()
    local = f'port {port}\nbind 127.0.0.1\ndir "{data}"\nsave ""\nappendonly no\n'
    output = data / "server.log"
    with output.open("w") as sink:
        server = subprocess.Popen(["redis-server", "-"], stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        server.stdin.write(conf + local)  # type: ignore[union-attr]
        server.stdin.close()  # type: ignore[union-attr]

        def ping(auth: str) -> str:
            done = subprocess.run(["redis-cli", "-p", str(port), "ping"], env={**os.environ, "REDISCLI_AUTH": auth}, capture_output=True, text=True, timeout=30)
            return done.stdout + done.stderr

        for _ in poll_attempts_sync(60):
            answer = ping(password)
            if "Could not connect" not in answer and "Connection refused" not in answer:
                break
            assert server.poll() is None, output.read_text()
        assert "PONG" not in ping(password + "x")
        return "PONG" in answer
    finally:
        server.kill()
        server.wait()


def _password_of(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    password = urlsplit(url).password
    assert password is not None, url
    return unquote(password)


def _store_hard_passwords(work: Path, env: dict[str, str]) -> None:
    for key in ("shop/cluster/db/password", "shop/cluster/cache/password"):
        done = subprocess.run([str(BIN / "omnitron"), "secret", "set", key], cwd=work, env=env, capture_output=True, text=True, timeout=60, input=HARD + "\n")
        assert done.returncode == 0, done.stderr


def test_a_password_with_shell_yaml_and_url_characters_reaches_kubernetes_intact(tmp_path: Path, env: dict[str, str]) -> None:
    """The Secrets' contents as Redis and a URL parser read them: the Redis config authenticates a real server."""
    work = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "shop", work, ignore=shutil.ignore_patterns(".omnitron"))
    _store_hard_passwords(work, env)
    out = tmp_path / "k8s"
    done = subprocess.run([str(BIN / "omnitron"), "infra", "export", "--stack", "cluster", "-o", str(out)], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    fake = _fake(tmp_path, "kubectl", KUBECTL)
    log = tmp_path / "kubectl.log"
    _run_script(out / "create-secrets.sh", work, env, fake, KUBECTL_LOG=str(log))
    files = {call["argv"][3]: call["files"] for call in map(json.loads, log.read_text().splitlines())}
    assert files["shop-db"]["postgres-password"] == HARD
    assert redis_takes(files["shop-cache"]["redis.conf"], HARD, tmp_path)
    assert _password_of(files["shop-orders-env"]["REDIS_URL"]) == HARD
    assert _password_of(files["shop-orders-env"]["DATABASE_URL"]) == HARD
    assert "pwned" not in (out / "create-secrets.sh").read_text() and "w$rd" not in (out / "create-secrets.sh").read_text()
    unknown = subprocess.run([str(BIN / "omnitron"), "infra", "export", "--stack", "cluster", "--secret", "shop-db/nope"], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and unknown.stdout == "" and unknown.stderr.count("\n") == 1 and "shop-db" in unknown.stderr, unknown.stderr


def test_a_password_with_shell_yaml_and_url_characters_reaches_a_compose_stack_intact(tmp_path: Path, env: dict[str, str]) -> None:
    """The compose file passes ``docker-compose config`` and its Docker secrets hold a Redis config that authenticates a real server."""
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose is not installed (scripts/setup-system installs it)")
    work = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "shop", work, ignore=shutil.ignore_patterns(".omnitron"))
    _store_hard_passwords(work, env)
    out = tmp_path / "compose"
    done = subprocess.run([str(BIN / "omnitron"), "infra", "export", "--stack", "cluster", "--format", "compose", "-o", str(out)], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    checked = subprocess.run(["docker-compose", "-f", str(out / "compose.yaml"), "config", "-q"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    fake = _fake(tmp_path, "docker", DOCKER)
    log = tmp_path / "docker.log"
    _run_script(out / "create-secrets.sh", work, env, fake, DOCKER_LOG=str(log))
    created = {call["argv"][2]: call["stdin"] for call in map(json.loads, log.read_text().splitlines())}
    assert created["shop-db-postgres-password"] == HARD
    assert redis_takes(created["shop-cache-redis-conf"], HARD, tmp_path)


def test_an_app_whose_database_was_renamed_exports_the_new_name_not_the_one_recorded_before(tmp_path: Path, env: dict[str, str]) -> None:
    """The database recorded under the app's former name stays in the store (its data is kept; here it sorts after
    the new one), but the exported env names the database the app asks for now."""
    from urllib.parse import urlsplit

    from omnitron.api import StateStore

    work = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "shop", work, ignore=shutil.ignore_patterns(".omnitron"))
    config = work / "apps" / "orders" / "config" / "default.json"
    declared = json.loads(config.read_text())
    declared["omnitron"]["database"] = {"name": "ledger"}
    config.write_text(json.dumps(declared))
    _store_hard_passwords(work, env)
    with StateStore(work / ".omnitron") as state:
        state.put_allocation("cluster", "db", "orders", "database", "orders", {"database": "orders", "user": "orders"})
        state.put_allocation("cluster", "db", "orders", "database", "ledger", {"database": "ledger", "user": "ledger"})
    done = subprocess.run([str(BIN / "omnitron"), "infra", "export", "--stack", "cluster", "--secret", "shop-orders-env/DATABASE_URL"], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    url = urlsplit(done.stdout.strip())
    assert (url.username, url.path) == ("ledger", "/ledger"), done.stdout
    assert _password_of(done.stdout.strip()) == HARD
