"""Running tor as a native process (the process provider's recipe): Debian's ``tor``.

What it needs from the runtime spec (the engine renders it like the
container's command): ``command`` (required), tor's rendered arguments
(``--Option value`` pairs, see :mod:`.torrc`). They become a torrc with the
paths moved onto the service's data directory, written to ``tor -f -`` on
stdin: the control password's hash is neither in the process's arguments nor
in a file. Defences the binary does not know (proof-of-work before tor
0.4.8) are left out with a note.

The data directory holds tor's state and every hidden service's keys
(``hs_<name>/``, mode 0700): kept across restarts and ``down``, deleted by
``down --volumes``. When omnitron runs as root, tor runs as the unprivileged
service user, which owns the data directory.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import ClassVar

from omnitron.api import ProcessRecipe, ProcessRun, ProvisionError, StartupTimeout, wait_for_ports

from .config import TorConfig
from .torrc import DATA_ROOT, OPTIONAL, Line, parse_args, relocate, torrc_text

STARTED = "Bootstrapped "
"""What tor logs once it accepted its config and opened its listeners (offline too)."""
_known_options: dict[tuple[str, int], frozenset[str]] = {}


def known_options(binary: Path) -> frozenset[str]:
    """Options ``binary`` accepts (``tor --list-torrc-options``), remembered per binary."""
    try:
        key = (str(binary), binary.stat().st_mtime_ns)
    except OSError:
        return frozenset()
    if key not in _known_options:
        try:
            out = subprocess.run([str(binary), "--list-torrc-options"], capture_output=True, timeout=20, check=False).stdout.decode(errors="replace")
        except (OSError, subprocess.SubprocessError):
            out = ""
        _known_options[key] = frozenset(line.strip() for line in out.splitlines() if line.strip())
    return _known_options[key]


class TorRecipe(ProcessRecipe):
    binaries = ("tor",)
    search_paths = ("/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin")
    refuses_root = True
    """Not refused by tor, but it should not run as root: it runs as the service user."""
    install_hint = "install tor (`apt-get install tor`)"
    uses_run_dir: ClassVar[bool] = False

    def lines(self, run: ProcessRun) -> list[Line]:
        """The torrc lines of the rendered command, with the paths on the data directory."""
        if not run.spec.command:
            raise ProvisionError(f"service {run.name}: no rendered tor command in its runtime spec (the engine renders the preset's)")
        lines = relocate(parse_args(list(run.spec.command)), str(run.data_dir), source=DATA_ROOT)
        known = known_options(run.binaries["tor"]) if "tor" in run.binaries else frozenset()
        if known:
            skipped = sorted({key for key, _ in lines if key in OPTIONAL and key not in known})
            if skipped:
                run.log(f"tor{' ' + run.version if run.version else ''} does not know {', '.join(skipped)}: left out")
                lines = [(k, v) for k, v in lines if k not in skipped]
        return lines

    def command(self, run: ProcessRun) -> list[str]:
        return [str(run.binaries["tor"]), "--defaults-torrc", "/nonexistent/torrc-defaults", "-f", "-"]

    def stdin(self, run: ProcessRun) -> bytes:
        return torrc_text(self.lines(run)).encode()

    def exec_env(self, run: ProcessRun) -> dict[str, str]:
        return {"TOR_DATA_DIR": str(run.data_dir)}

    async def after_start(self, run: ProcessRun) -> None:
        """Wait until tor logs that it accepted its config (or exits, with its error), then for its open ports."""
        import anyio

        started = time.monotonic()
        while STARTED not in self._this_start(run):
            if not run.is_running():
                raise ProvisionError(f"service {run.name}: tor exited while starting: {run.log_tail() or 'no output'} (log: {run.log_path})")
            if time.monotonic() - started > run.startup_timeout:
                raise StartupTimeout(f"service {run.name}: tor did not start within {run.startup_timeout:g}s; log: {run.log_path}")
            await anyio.sleep(0.005 if time.monotonic() - started < 2 else 0.05)
        config = TorConfig.model_validate(run.spec.service.config)
        if config.testing.disable_network:
            run.port = {k: v for k, v in run.port.items() if k != "socks"}  # offline tor opens no SOCKS listener
        await wait_for_ports(run)

    async def before_start(self, run: ProcessRun) -> None:
        """Note where the log ends: what tor writes after that is this start's."""
        try:
            self._log_offset = run.log_path.stat().st_size if run.log_path is not None else 0
        except OSError:
            self._log_offset = 0

    def _this_start(self, run: ProcessRun) -> str:
        """What the log got since this start."""
        if run.log_path is None:
            return STARTED
        try:
            with open(run.log_path, "rb") as log:
                offset = getattr(self, "_log_offset", 0)
                if log.seek(0, 2) < offset:  # rotated at the start: all of it is new
                    offset = 0
                log.seek(offset)
                return log.read(1 << 20).decode(errors="replace")
        except OSError:
            return ""
