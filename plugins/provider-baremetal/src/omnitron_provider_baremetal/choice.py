"""Choosing one server among those found: the heaviest healthy one, in a stable order (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from omnitron.api import Candidate

from .backend import Server


@dataclass(frozen=True)
class Probed:
    server: Server
    ok: bool
    detail: str


def ranked(servers: list[Server]) -> list[Server]:
    """Heaviest first, the order found among equals; standbys (weight 0) last."""
    return [s for _, s in sorted(enumerate(servers), key=lambda pair: (-pair[1].weight, pair[0]))]


def choose(probed: list[Probed]) -> tuple[Probed | None, str]:
    """The first healthy server of ``probed`` (already :func:`ranked`), and why it was chosen."""
    healthy = [p for p in probed if p.ok]
    if not healthy:
        return None, ""
    chosen = healthy[0]
    passed = probed[: probed.index(chosen)]
    weight = f" (weight {chosen.server.weight})"
    if passed:
        down = "; ".join(f"{p.server.address} unhealthy: {p.detail}" for p in passed)
        return chosen, f"failover: {down}; {chosen.server.address} is the next healthy server by weight{weight}"
    if len(probed) == 1:
        return chosen, "the only server, healthy"
    return chosen, f"the heaviest healthy server{weight}"


def candidates(probed: list[Probed], chosen: Probed | None) -> list[Candidate]:
    return [
        Candidate(host=p.server.host, ports=dict(p.server.ports), weight=p.server.weight, health="healthy" if p.ok else "unhealthy", detail=p.detail, chosen=p is chosen)
        for p in probed
    ]


def none_healthy(probed: list[Probed], what: str) -> str:
    """Every server with its last probe result, one line."""
    if not probed:
        return f"{what} found no server"
    listed = "; ".join(f"{p.server.address} (weight {p.server.weight}{', ' + p.server.source if p.server.source else ''}): {p.detail}" for p in probed)
    return f"no healthy server ({what}): {listed}"
