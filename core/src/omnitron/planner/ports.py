"""Stage 3: host ports of the services whose provider assigns them here: offsets, then collisions.

Declared services keep their ports (plus the stack's offset); a clash between
two of them is an error. App-scoped and automatic services move up to the
next free port instead, shared ones first: a shared Postgres a shorthand adds
keeps 5432 and an app's dedicated one moves, whatever the apps are called.
"""

from __future__ import annotations

from ..errors import PlanError
from ..plan import PlannedService
from .inputs import PlanContext


def offset_of(ctx: PlanContext, name: str) -> int:
    offsets = ctx.stack.port_offsets
    if isinstance(offsets, int):
        return offsets
    base = name.split("/", 1)[-1]
    return offsets.get(name, offsets.get(base, offsets.get("*", 0)))


def assign_ports(ctx: PlanContext, services: dict[str, PlannedService]) -> None:
    if isinstance(ctx.stack.port_offsets, dict):
        for key in ctx.stack.port_offsets:
            if key != "*" and key not in services and key not in ctx.decls:
                raise PlanError(f"unknown service {key!r}", file=ctx.eco_file, path=f"stacks.{ctx.stack_name}.portOffsets.{key}")
    taken: dict[int, str] = {}
    local = [s for s in services.values() if s.provider in ctx.providers and ctx.providers[s.provider].assigns_host_ports]
    local.sort(key=lambda s: (s.app is not None, s.auto, s.name))
    for svc in local:
        offset = offset_of(ctx, svc.name)
        movable = svc.app is not None or svc.auto
        decl = ctx.decls[svc.name]
        for port_name, port in sorted(svc.target_ports.items()):
            host_port = port + offset
            while host_port in taken and movable and host_port < 65535:
                host_port += 1
            if not 1 <= host_port <= 65535:
                raise PlanError(f"port {port} + offset {offset} = {host_port} is out of range 1-65535", file=ctx.eco_file, path=f"stacks.{ctx.stack_name}.portOffsets")
            if host_port in taken:
                raise PlanError(
                    f"host port {host_port} is used by both {taken[host_port]!r} and {svc.name!r}: change a port or use portOffsets",
                    file=decl.file, path=f"{decl.path}.ports.{port_name}",
                )
            taken[host_port] = svc.name
            svc.ports[port_name] = host_port
