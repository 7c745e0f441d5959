"""The running tor: its hidden services' hostnames, read where tor runs.

The hostname files are read through the provider's ``exec`` (inside the
container, or beside the native process as its user), with ``$TOR_DATA_DIR``
pointing at tor's data: the container's env, or the recipe's exec env.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from omnitron.api import ProvisionError

from .config import TorConfig
from .functions import fact_key

if TYPE_CHECKING:
    from omnitron.api import ServiceHandle

ONION_V3 = re.compile(r"^[a-z2-7]{56}\.onion$")
"""A v3 onion address: 56 base32 characters (public key, checksum, version) and ``.onion``."""
_SCRIPT = """
cd "$TOR_DATA_DIR" || exit 3
[ -e lock ] || { echo "tor has not taken its data directory yet"; exit 4; }
status=0
for name in "$@"; do
  if [ -s "hs_$name/hostname" ]; then printf '%s ' "$name"; head -n 1 "hs_$name/hostname"; else echo "$name -"; status=1; fi
done
exit $status
"""


def config_of(handle: ServiceHandle) -> TorConfig:
    return TorConfig.model_validate(handle.service.config)


async def read_hostnames(handle: ServiceHandle, names: list[str]) -> tuple[dict[str, str | None], str]:
    """Hidden service name -> its hostname (``None`` when its file is missing yet), and what went wrong, if anything."""
    result = await handle.exec(["sh", "-c", _SCRIPT, "sh", *names])
    found: dict[str, str | None] = {name: None for name in names}
    for line in result.output.splitlines():
        name, _, hostname = line.strip().partition(" ")
        if name in found and hostname not in ("", "-"):
            found[name] = hostname.strip()
    problem = ""
    if result.exit_code not in (0, 1):
        problem = result.output.strip().splitlines()[-1] if result.output.strip() else f"exit code {result.exit_code}"
    return found, problem


async def hostname_facts(handle: ServiceHandle) -> dict[str, str]:
    """``onion:<name>`` -> hostname for every hidden service; a :class:`ProvisionError` if one is missing or malformed."""
    names = [hs.name for hs in config_of(handle).hidden_services]
    if not names:
        return {}
    found, problem = await read_hostnames(handle, names)
    facts: dict[str, str] = {}
    for name, hostname in found.items():
        if hostname is None:
            raise ProvisionError(f"service {handle.name}: hidden service {name} has no hostname file" + (f" ({problem})" if problem else ""))
        if not ONION_V3.match(hostname):
            raise ProvisionError(f"service {handle.name}: hidden service {name} has a hostname that is not a v3 onion address: {hostname!r}")
        facts[fact_key(name)] = hostname
    return facts
