"""``k8s`` discovery: the ready endpoints of a Kubernetes Service, from its EndpointSlices.

Reads ``GET /apis/discovery.k8s.io/v1/namespaces/<namespace>/endpointslices``
with ``labelSelector=kubernetes.io/service-name=<service>`` (credentials: see
:mod:`.kubeconfig`). Only endpoints whose ``conditions.ready`` is not
``false`` count (Kubernetes documents an absent ``ready`` as ready). The port
is the slice's port named ``k8s.port`` (the slice's only port when it has one),
for the service's first declared port; other declared ports take the slice's
port of the same name. Endpoints have no weights: each weighs 1, in address order.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from omnitron.api import BareMetalServiceConfig

from .backend import BackendOptions, DiscoveryBackend, DiscoveryError, DiscoveryQuery, Server, port_map
from .fetch import get_json

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class K8sOptions(BackendOptions):
    """``bareMetal.k8s``."""

    service: Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
    """The Kubernetes Service whose endpoints to use."""
    namespace: Annotated[str, Field(pattern=DNS_LABEL, max_length=63)] | None = None
    """Its namespace: the kubeconfig context's or the pod's when absent, else ``default``."""
    port: Annotated[str, Field(min_length=1)] | None = None
    """The EndpointSlice port's name (the slice's only port when absent)."""
    kubeconfig: str | None = None
    """A kubeconfig file; ``$KUBECONFIG``, ``~/.kube/config`` or the pod's service account when absent."""
    context: str | None = None
    """The kubeconfig context (its ``current-context`` when absent)."""


class K8sBackend(DiscoveryBackend):
    name = "k8s"
    options_model = K8sOptions

    def describe(self, config: BareMetalServiceConfig, options: K8sOptions) -> str:
        return f"k8s service {options.namespace + '/' if options.namespace else ''}{options.service}"

    async def discover(self, query: DiscoveryQuery) -> list[Server]:
        from .kubeconfig import api_access

        options: K8sOptions = query.options
        access = api_access(options.kubeconfig, options.context)
        namespace = options.namespace or access.namespace or "default"
        url = f"{access.server}/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
        listing = await get_json(
            url, query=[f"labelSelector={SERVICE_NAME_LABEL}={options.service}"], headers={"Accept": "application/json", **access.headers},
            timeout=query.timeout, verify=access.verify, field="k8s.kubeconfig", what=f"the Kubernetes API ({access.source})",
        )
        if not isinstance(listing, dict) or listing.get("kind") not in (None, "EndpointSliceList"):
            raise DiscoveryError(f"{url} answered something that is not an EndpointSliceList", field="k8s.kubeconfig")
        servers = [s for item in listing.get("items") or [] for s in _ready(item, options, query.declared_ports)]
        return sorted(servers, key=lambda s: (s.host, s.source))


def _ready(item: dict[str, Any], options: K8sOptions, declared: dict[str, int]) -> list[Server]:
    ports = {str(p.get("name") or ""): int(p["port"]) for p in item.get("ports") or [] if p.get("port") is not None}
    primary = _primary_port(ports, options, item)
    if primary is None:
        return []
    mapped = port_map(declared, port=primary, ports={n: p for n, p in ports.items() if n in declared and n != next(iter(declared), None)})
    out = []
    for endpoint in item.get("endpoints") or []:
        if (endpoint.get("conditions") or {}).get("ready") is False:
            continue
        target = endpoint.get("targetRef") or {}
        source = f"{(target.get('kind') or 'endpoint').lower()} {target.get('name') or endpoint.get('hostname') or '?'}"
        out.extend(Server(address, mapped, 1, source) for address in (endpoint.get("addresses") or [])[:1])
    return out


def _primary_port(ports: dict[str, int], options: K8sOptions, item: dict[str, Any]) -> int | None:
    name = (item.get("metadata") or {}).get("name", "?")
    if options.port is not None:
        if options.port in ports:
            return ports[options.port]
        if ports:
            raise DiscoveryError(f"EndpointSlice {name} has no port named {options.port!r}; its ports: {', '.join(sorted(ports))}", field="k8s.port")
        return None
    if len(ports) == 1:
        return next(iter(ports.values()))
    if not ports:
        return None
    raise DiscoveryError(f"EndpointSlice {name} has several ports ({', '.join(sorted(ports))}): name one with port", field="k8s.port")
