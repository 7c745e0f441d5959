"""``consul`` discovery: the passing instances of a service in Consul's catalog.

Reads ``GET <address>/v1/health/service/<service>?passing`` (with ``tag`` and
``dc`` when given, the ACL token in ``X-Consul-Token``). Each entry's address
is the service's own (``Service.Address``) or, when that is empty, its node's
(``Node.Address``), as Consul documents; its port is ``Service.Port`` (the
service's first declared port), its weight ``Service.Weights.Passing``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from omnitron.api import BareMetalServiceConfig, ServiceRequirement

from .backend import BackendOptions, DiscoveryBackend, DiscoveryError, DiscoveryQuery, Server, check_secret_ref, port_map, secret_name
from .fetch import get_json


class ConsulOptions(BackendOptions):
    """``bareMetal.consul``."""

    address: Annotated[str, Field(pattern=r"^https?://[^/\s]+/?$")] = "http://127.0.0.1:8500"
    """The Consul HTTP API (an agent or a server)."""
    service: Annotated[str, Field(min_length=1)]
    """The service's name in Consul's catalog."""
    tag: Annotated[str, Field(min_length=1)] | None = None
    """Only instances with this tag (``primary``)."""
    datacenter: Annotated[str, Field(min_length=1)] | None = None
    """The datacenter to ask (the agent's own when absent)."""
    token: str | None = None
    """An ACL token, as ``${secret:NAME}`` (NAME declared in the service's ``secrets``)."""
    ca_file: str | None = None
    """CA bundle for an ``https`` address (the system's when absent)."""


class ConsulBackend(DiscoveryBackend):
    name = "consul"
    options_model = ConsulOptions

    def check(self, config: BareMetalServiceConfig, options: ConsulOptions, requirement: ServiceRequirement) -> None:
        check_secret_ref(options.token, requirement, path=f"{self.name}.token")

    def describe(self, config: BareMetalServiceConfig, options: ConsulOptions) -> str:
        return f"consul service {options.service} at {options.address.rstrip('/')}"

    async def discover(self, query: DiscoveryQuery) -> list[Server]:
        options: ConsulOptions = query.options
        params: dict[str, str] = {}
        if options.tag:
            params["tag"] = options.tag
        if options.datacenter:
            params["dc"] = options.datacenter
        headers = {"Accept": "application/json"}
        if options.token:
            headers["X-Consul-Token"] = query.secret(secret_name(options.token) or "")
        base = options.address.rstrip("/")
        path = f"/v1/health/service/{options.service}"
        # `?passing` as Consul documents it: only instances whose checks all pass
        entries = await get_json(
            f"{base}{path}", query=["passing", *(f"{k}={v}" for k, v in params.items())], headers=headers, timeout=query.timeout,
            verify=options.ca_file or True, field=f"{self.name}.address", token_field=f"{self.name}.token" if options.token else None, what="Consul",
        )
        if not isinstance(entries, list):
            raise DiscoveryError(f"{base}{path} answered {type(entries).__name__}, not the list of instances Consul returns", field=f"{self.name}.address")
        return [_server(entry, query.declared_ports) for entry in entries]


def _server(entry: dict[str, Any], declared: dict[str, int]) -> Server:
    service = entry.get("Service") or {}
    node = entry.get("Node") or {}
    host = service.get("Address") or node.get("Address") or ""
    port = service.get("Port") or None
    weight = int(((service.get("Weights") or {}).get("Passing")) or 1)
    source = f"node {node.get('Node') or '?'}, instance {service.get('ID') or '?'}"
    return Server(host, port_map(declared, port=int(port) if port else None), weight, source)
