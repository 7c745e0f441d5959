"""Whether the swarm's routing mesh works here, and how services publish ports and resolve names without it.

Swarm's routing mesh (ingress publishing) and service virtual IPs are built
on the kernel's IPVS. A kernel without IPVS (no ``ip_vs`` module, as in
many container-optimised or micro-VM kernels) creates the services but every
connection through a VIP or the mesh fails. Then each service publishes its
ports in ``host`` mode (on the node running its task) and resolves by DNS
round robin (``endpoint_mode: dnsrr``).

``OMNITRON_SWARM_MESH`` decides: ``auto`` (default) detects IPVS on a local
engine (``/proc/net/ip_vs``, ``/sys/module/ip_vs``, or the module in
``/lib/modules/<release>``) and assumes it on a remote one (``DOCKER_HOST``
over TCP or SSH: a real cluster's kernel has it); ``on`` uses the mesh and
VIPs; ``off`` uses host publishing and DNS round robin everywhere. A
service's ``docker.deploy.publishMode`` / ``endpointMode`` win over both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MESH_ENV = "OMNITRON_SWARM_MESH"
SETTINGS = ("auto", "on", "off")


@dataclass(frozen=True)
class Routing:
    """How a service publishes its ports and how others resolve it."""

    publish_mode: str
    """``ingress`` (the routing mesh) or ``host``."""
    endpoint_mode: str
    """``vip`` or ``dnsrr``."""
    reason: str = ""


def kernel_has_ipvs(root: Path = Path("/"), release: str | None = None) -> bool:
    """Whether this machine's kernel has IPVS loaded or loadable."""
    if (root / "proc/net/ip_vs").exists() or (root / "sys/module/ip_vs").exists():
        return True
    modules = root / "lib/modules" / (release or os.uname().release)
    if (modules / "kernel/net/netfilter/ipvs").is_dir():
        return True
    builtin = modules / "modules.builtin"
    try:
        return "ip_vs.ko" in builtin.read_text()
    except OSError:
        return False


def engine_is_local() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    return not host or host.startswith("unix://")


def setting() -> str:
    value = os.environ.get(MESH_ENV, "auto").strip().lower() or "auto"
    if value not in SETTINGS:
        from omnitron.api import ConfigError

        raise ConfigError(f"{MESH_ENV}={value!r}: use one of {', '.join(SETTINGS)}", path=MESH_ENV)
    return value


def default_routing(value: str | None = None, *, local: bool | None = None, has_ipvs: bool | None = None) -> Routing:
    """The routing of services that do not choose their own."""
    value = value or setting()
    if value == "on":
        return Routing("ingress", "vip", f"{MESH_ENV}=on")
    if value == "off":
        return Routing("host", "dnsrr", f"{MESH_ENV}=off")
    local = engine_is_local() if local is None else local
    if not local:
        return Routing("ingress", "vip", "remote engine: its kernel is assumed to have IPVS")
    if kernel_has_ipvs() if has_ipvs is None else has_ipvs:
        return Routing("ingress", "vip", "the kernel has IPVS")
    return Routing("host", "dnsrr", "the kernel has no IPVS: ports published on the node, names by DNS round robin")


def service_routing(default: Routing, publish_mode: str | None, endpoint_mode: str | None) -> Routing:
    """A service's own ``deploy`` choices over the default; ``dnsrr`` never goes with the routing mesh."""
    endpoint = endpoint_mode or default.endpoint_mode
    publish = publish_mode or ("host" if endpoint == "dnsrr" else default.publish_mode)
    return Routing(publish, endpoint, default.reason)
