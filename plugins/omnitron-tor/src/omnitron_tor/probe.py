"""The ``tor`` health probe: tor runs, its config was accepted, every hidden service has its hostname.

It does not wait for tor to bootstrap: offline (``DisableNetwork``) that never
reaches 100%, and a hidden service's keys and hostname exist long before.
tor refuses a bad config by exiting, which the gate sees as the process (or
container) exiting; the hostname files appear only once tor accepted the
config and made (or loaded) the keys. The control port, and the SOCKS port
when tor may use the network, must also accept a connection.
"""

from __future__ import annotations

import time
from typing import Any

from omnitron.api import HealthProbe, PresetConfig, ProbeResult

from .runtime import config_of, read_hostnames


class TorCheck(PresetConfig):
    pass


class TorProbe(HealthProbe):
    name = "tor"
    spec_model = TorCheck

    async def check(self, spec: Any, target: Any, timeout: float) -> ProbeResult:
        import anyio

        start = time.perf_counter()
        config = config_of(target)
        names = [hs.name for hs in config.hidden_services]
        try:
            with anyio.fail_after(timeout):
                found, problem = await read_hostnames(target, names)
                closed = [name for name in self._listening_ports(config, target) if not await _accepts(target.host, target.port(name))]
        except TimeoutError:
            return ProbeResult(False, f"tor: no answer within {timeout:g}s")
        except Exception as exc:  # the provider cannot reach it (stopped container, dead process)
            return ProbeResult(False, f"tor: {type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - start) * 1000
        if problem:
            return ProbeResult(False, f"tor: {problem}", elapsed)
        missing = sorted(name for name, hostname in found.items() if hostname is None)
        if missing:
            return ProbeResult(False, f"tor: no hostname yet for hidden service {', '.join(missing)}", elapsed)
        if closed:
            return ProbeResult(False, f"tor: {', '.join(closed)} port not listening yet", elapsed)
        detail = ", ".join(f"{name}={hostname}" for name, hostname in found.items()) or "running"
        return ProbeResult(True, f"tor: {detail}", elapsed)

    @staticmethod
    def _listening_ports(config: Any, target: Any) -> list[str]:
        """Ports tor opens: the control port always, SOCKS only when it may use the network."""
        names = [n for n in ("control", "socks") if n in target.ports]
        if config.testing.disable_network:
            names = [n for n in names if n != "socks"]
        return names


async def _accepts(host: str, port: int) -> bool:
    import anyio

    try:
        stream = await anyio.connect_tcp(host, port)
    except OSError:
        return False
    await stream.aclose()
    return True
