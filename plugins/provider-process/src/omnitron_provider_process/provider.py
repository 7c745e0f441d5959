"""The ``process`` provider as omnitron sees it: services as supervised native processes, when there is no Docker.

Light on purpose (``infra plan`` reads every installed provider's
description): the methods live in :class:`~.runner.ProcessRunner`, imported
when the first provider is made (``ProcessProvider(ctx)`` makes one).
"""

from __future__ import annotations

from typing import ClassVar

from omnitron.api import Provider


class ProcessProvider(Provider):
    """Runs services as native processes from binaries on the machine or in a wheel; see :mod:`.runner`."""

    name = "process"
    install_hint = "pip install omnitron-provider-process"
    runs_from: ClassVar[str | None] = "process"
    assigns_host_ports = True
    manages_lifecycle = True
    auto_priority: ClassVar[int | None] = 10
    data_noun = "its data directory"
    implementation = "omnitron_provider_process.runner:ProcessRunner"

    @classmethod
    def cannot_run(cls, requirement, preset) -> str:
        return "cannot run as a native process (no process recipe or command); use the docker provider"
