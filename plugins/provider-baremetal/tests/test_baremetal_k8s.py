"""Kubernetes discovery against a replay of the ``discovery.k8s.io/v1`` EndpointSlice list.

No Kubernetes API server can be had on the test machines, so a local HTTP(S)
server replays an ``EndpointSliceList`` shaped as the API reference documents
it (ready, not-ready and condition-less endpoints, named ports) and records
each request, to check the path, the ``kubernetes.io/service-name`` label
selector and the bearer token. The ready endpoint is a real PostgreSQL server.
"""

from __future__ import annotations

import datetime
import ssl

import pytest
from baremetal_testlib import PASSWORD, unique, write
from replay import Replay

from omnitron.testing import Session, app_env, up

pytestmark = pytest.mark.anyio
TOKEN = "eyJhbGciOiJSUzI1NiJ9.k8s-token"


def slice_list(port: int) -> dict:
    return {
        "kind": "EndpointSliceList",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": {"resourceVersion": "123456"},
        "items": [{
            "kind": "EndpointSlice",
            "apiVersion": "discovery.k8s.io/v1",
            "metadata": {"name": "pg-x7k2p", "namespace": "data", "generateName": "pg-",
                         "labels": {"kubernetes.io/service-name": "pg", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["127.0.0.2"], "conditions": {"ready": False, "serving": False, "terminating": True},
                 "nodeName": "node-2", "targetRef": {"kind": "Pod", "namespace": "data", "name": "pg-1", "uid": "b2"}, "zone": "zone-b"},
                {"addresses": ["127.0.0.1"], "conditions": {"ready": True, "serving": True, "terminating": False},
                 "nodeName": "node-1", "targetRef": {"kind": "Pod", "namespace": "data", "name": "pg-0", "uid": "a1"}, "zone": "zone-a"},
                {"addresses": ["127.0.0.3"], "conditions": {},
                 "nodeName": "node-3", "targetRef": {"kind": "Pod", "namespace": "data", "name": "pg-2", "uid": "c3"}, "zone": "zone-c"},
            ],
            "ports": [{"name": "metrics", "protocol": "TCP", "port": 9187}, {"name": "postgres", "protocol": "TCP", "port": port}],
        }],
    }


PATH = "/apis/discovery.k8s.io/v1/namespaces/data/endpointslices"


@pytest.fixture
def api():
    replay = Replay().start()
    yield replay
    replay.stop()


def kubeconfig(tmp_path, server: str) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster:
    server: {server}
contexts:
- name: prod
  context:
    cluster: prod-cluster
    user: deployer
    namespace: data
users:
- name: deployer
  user:
    token: {TOKEN}
""")
    return str(path)


async def test_only_ready_endpoints_are_used_with_a_kubeconfig(omnitron_project, pg_pair, api, tmp_path):
    """A replay of the EndpointSlice list (no Kubernetes API server can be had here); credentials from a kubeconfig."""
    server = pg_pair[0]
    api.routes[PATH] = (200, slice_list(server.port))
    app = unique("web")
    db = {
        "preset": "postgres",
        "bareMetal": {"discovery": "k8s", "k8s": {"service": "pg", "port": "postgres", "kubeconfig": kubeconfig(tmp_path, api.url)}},
        "secrets": {"password": {"secret": "pg-admin"}},
        "startupTimeout": "2s",
    }
    project = write(omnitron_project, {"db": db}, {app: {"database": True}})
    plan = project.plan()
    result = await up(project, plan)
    state = result.services["db"].state
    assert (state.host, state.ports) == ("127.0.0.1", {"main": server.port})
    assert {c.host: c.health for c in state.candidates} == {"127.0.0.1": "healthy", "127.0.0.3": "unhealthy"}  # 127.0.0.2 is not ready
    async with Session(project, plan) as session:
        assert f"@127.0.0.1:{server.port}/{app}" in app_env(session, app)["DATABASE_URL"]
    request = api.seen[0]
    assert request.path == PATH  # the context's namespace
    assert request.query == {"labelSelector": ["kubernetes.io/service-name=pg"]}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def _tls_pair(tmp_path):
    """A CA and a server certificate for 127.0.0.1 signed by it (as a cluster's API server has)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-cluster-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False).sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (tmp_path / "server.crt").write_bytes(cert.public_bytes(pem))
    (tmp_path / "server.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca.public_bytes(pem)


async def test_in_cluster_the_service_account_token_ca_and_namespace_are_used(tmp_path, monkeypatch, pg_pair):
    """A replay over TLS (no Kubernetes API server can be had here): the pod's service account, its CA verifying the server."""
    from omnitron_provider_baremetal import kubeconfig as kc
    from omnitron_provider_baremetal.backend import DiscoveryQuery
    from omnitron_provider_baremetal.k8s import K8sBackend, K8sOptions

    from omnitron.api import BareMetalServiceConfig

    ca = _tls_pair(tmp_path)
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN + "\n")
    (account / "ca.crt").write_bytes(ca)
    (account / "namespace").write_text("data")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    api = Replay(routes={PATH: (200, slice_list(pg_pair[1].port))}).start(tls)
    try:
        monkeypatch.setattr(kc, "SERVICE_ACCOUNT", account)
        monkeypatch.delenv("KUBECONFIG", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(api.server.server_address[1]))
        config = BareMetalServiceConfig.model_validate({"discovery": "k8s", "k8s": {"service": "pg", "port": "postgres"}})
        query = DiscoveryQuery("db", config, K8sOptions(service="pg", port="postgres"), {"main": 5432}, lambda name: "")
        found = await K8sBackend().discover(query)
    finally:
        api.stop()
    assert [(s.host, s.ports, s.source) for s in found] == [("127.0.0.1", {"main": pg_pair[1].port}, "pod pg-0"), ("127.0.0.3", {"main": pg_pair[1].port}, "pod pg-2")]
    assert api.seen[0].path == PATH and api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_port_name_the_slices_do_not_have_names_the_field(omnitron_project, omnitron_cli, api, tmp_path):
    """A replay of the EndpointSlice list (no Kubernetes API server can be had here)."""
    api.routes[PATH] = (200, slice_list(5432))
    db = {"preset": "postgres", "bareMetal": {"discovery": "k8s", "k8s": {"service": "pg", "port": "pg", "kubeconfig": kubeconfig(tmp_path, api.url)}},
          "secrets": {"password": {"secret": "pg-admin"}}}
    project = write(omnitron_project, {"db": db})
    result = omnitron_cli("infra", "up", "--project", str(project.root))
    assert result.code == 1
    assert "infrastructure.services.db.bareMetal.k8s.port: EndpointSlice pg-x7k2p has no port named 'pg'; its ports: metrics, postgres" in result.out
