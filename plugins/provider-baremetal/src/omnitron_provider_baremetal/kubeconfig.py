"""How to reach the Kubernetes API: the in-cluster service account, or a kubeconfig file.

Tried in this order, like the official clients: the kubeconfig named by
``k8s.kubeconfig``, else ``$KUBECONFIG`` (its first file) or ``~/.kube/config``
when it exists, else the pod's service account
(``/var/run/secrets/kubernetes.io/serviceaccount``: ``token``, ``ca.crt``,
``namespace``; the API at ``$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT``).

From a kubeconfig: the context (``k8s.context`` or ``current-context``), its
cluster's ``server`` and CA (``certificate-authority``/``-data``,
``insecure-skip-tls-verify``) and its user's credentials: ``token``,
``tokenFile``, client certificates (``client-certificate``/``-data`` with
``client-key``/``-data``) or an ``exec`` credential plugin (its
``ExecCredential`` token). The token is re-read on every use (service account
tokens rotate); nothing is written to disk, except a client key given as data,
which ``ssl`` can only load from a file: it is written to a private file in
memory (``/dev/shm`` where there is one), loaded and deleted at once.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backend import DiscoveryError

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where Kubernetes mounts a pod's service account."""


@dataclass
class ApiAccess:
    """Where the API is and how to authenticate to it."""

    server: str
    headers: dict[str, str] = field(default_factory=dict)
    verify: ssl.SSLContext | bool = True
    namespace: str | None = None
    """The namespace of the context or the pod (used when ``k8s.namespace`` is absent)."""
    source: str = ""


def api_access(kubeconfig: str | None, context: str | None, *, environ: dict[str, str] | None = None) -> ApiAccess:
    """The API access for these options (see the module's docstring for the order)."""
    env = dict(os.environ if environ is None else environ)
    path = _kubeconfig_path(kubeconfig, env)
    if path is not None:
        return from_kubeconfig(path, context)
    if env.get("KUBERNETES_SERVICE_HOST") and (SERVICE_ACCOUNT / "token").is_file():
        return in_cluster(env)
    raise DiscoveryError(
        f"no Kubernetes credentials: no kubeconfig (k8s.kubeconfig, $KUBECONFIG or ~/.kube/config) and not in a cluster (no service account at {SERVICE_ACCOUNT})",
        field="k8s.kubeconfig",
    )


def _kubeconfig_path(explicit: str | None, env: dict[str, str]) -> Path | None:
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise DiscoveryError(f"kubeconfig {path} does not exist", field="k8s.kubeconfig")
        return path
    first = next((p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p), None)
    if first:
        return Path(first).expanduser() if Path(first).expanduser().is_file() else None
    default = Path(env.get("HOME") or Path.home()) / ".kube" / "config"
    return default if default.is_file() else None


def in_cluster(env: dict[str, str]) -> ApiAccess:
    host, port = env["KUBERNETES_SERVICE_HOST"], env.get("KUBERNETES_SERVICE_PORT", "443")
    host = f"[{host}]" if ":" in host else host
    context = ssl.create_default_context(cafile=str(SERVICE_ACCOUNT / "ca.crt"))
    token = (SERVICE_ACCOUNT / "token").read_text().strip()
    namespace_file = SERVICE_ACCOUNT / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else None
    return ApiAccess(f"https://{host}:{port}", {"Authorization": f"Bearer {token}"}, context, namespace, "the pod's service account")


def from_kubeconfig(path: Path, context_name: str | None) -> ApiAccess:
    import yaml

    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DiscoveryError(f"cannot read kubeconfig {path}: {str(exc).splitlines()[0]}", field="k8s.kubeconfig") from None
    name = context_name or config.get("current-context")
    context = _named(config, "contexts", "context", name, path, field="k8s.context" if context_name else "k8s.kubeconfig")
    cluster = _named(config, "clusters", "cluster", context.get("cluster"), path)
    user = _named(config, "users", "user", context.get("user"), path) if context.get("user") else {}
    server = str(cluster.get("server") or "").rstrip("/")
    if not server:
        raise DiscoveryError(f"kubeconfig {path}: cluster {context.get('cluster')!r} has no server", field="k8s.kubeconfig")
    verify = _verify(cluster, path.parent) if server.startswith("https://") else True
    headers = _user_headers(user, path.parent)
    if isinstance(verify, ssl.SSLContext):
        _client_certificate(verify, user, path.parent)
    return ApiAccess(server, headers, verify, context.get("namespace"), f"kubeconfig {path}, context {name}")


def _named(config: dict[str, Any], section: str, key: str, name: Any, path: Path, *, field: str = "k8s.kubeconfig") -> dict[str, Any]:
    for entry in config.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry.get(key) or {}
    known = ", ".join(str(e.get("name")) for e in config.get(section) or [] if isinstance(e, dict)) or "(none)"
    raise DiscoveryError(f"kubeconfig {path} has no {key} {name!r}; {section}: {known}", field=field)


def _relative(value: str, base: Path) -> str:
    candidate = Path(value).expanduser()
    return str(candidate if candidate.is_absolute() else base / candidate)


def _verify(cluster: dict[str, Any], base: Path) -> ssl.SSLContext | bool:
    if cluster.get("insecure-skip-tls-verify"):
        return False
    context = ssl.create_default_context()
    if cluster.get("certificate-authority-data"):
        context.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    elif cluster.get("certificate-authority"):
        context.load_verify_locations(cafile=_relative(cluster["certificate-authority"], base))
    return context


def _user_headers(user: dict[str, Any], base: Path) -> dict[str, str]:
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(_relative(user["tokenFile"], base)).read_text().strip()
    if not token and user.get("exec"):
        token = _exec_token(user["exec"])
    return {"Authorization": f"Bearer {token}"} if token else {}


def _exec_token(spec: dict[str, Any]) -> str:
    """The token an ``exec`` credential plugin prints (``ExecCredential.status.token``)."""
    command = [str(spec.get("command") or ""), *[str(a) for a in spec.get("args") or []]]
    env = {**os.environ, **{str(e["name"]): str(e["value"]) for e in spec.get("env") or [] if isinstance(e, dict) and "name" in e}}
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=True).stdout
        token = json.loads(out)["status"]["token"]
    except FileNotFoundError:
        raise DiscoveryError(f"the kubeconfig's exec credential plugin {command[0]!r} is not installed", field="k8s.kubeconfig") from None
    except (subprocess.SubprocessError, ValueError, KeyError, TypeError) as exc:
        raise DiscoveryError(f"the kubeconfig's exec credential plugin {command[0]!r} gave no token: {type(exc).__name__}", field="k8s.kubeconfig") from None
    return str(token)


def _client_certificate(context: ssl.SSLContext, user: dict[str, Any], base: Path) -> None:
    if user.get("client-certificate") and user.get("client-key"):
        context.load_cert_chain(_relative(user["client-certificate"], base), _relative(user["client-key"], base))
        return
    if not (user.get("client-certificate-data") and user.get("client-key-data")):
        return
    directory = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=directory, prefix="omnitron-k8s-") as tmp:
        os.chmod(tmp, 0o700)
        cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(base64.b64decode(user["client-key-data"]))
        context.load_cert_chain(str(cert), str(key))
