"""``omnitron infra wait [SERVICE...] [--timeout 60s]``: exit 0 once the services are healthy, 1 with the failing probe otherwise."""

from __future__ import annotations

import sys
from typing import Annotated

from cyclopts import Parameter

from .options import JsonOpt, ServiceArg, ProjectOpt, ProviderOpt, StackOpt, console, print_json, report_warnings, run_async

TimeoutOpt = Annotated[str, Parameter(name=["--timeout", "-t"], help="How long to wait in all: 500ms, 30s, 2m, or milliseconds.")]


def wait_cmd(*services: ServiceArg, timeout: TimeoutOpt = "60s", project: ProjectOpt = None, stack: StackOpt = None, provider: ProviderOpt = None, json: JsonOpt = False) -> int:
    """Wait until SERVICEs (every service of the stack when none is named) pass their health probes; provisions nothing.

    :param services: Services of the stack, e.g. db cache.
    """
    from ..errors import ConfigError
    from ..model import parse_duration
    from ..usecases import load_stack, wait_for

    try:
        seconds = parse_duration(timeout) / 1000
    except ValueError as exc:
        raise ConfigError(str(exc), path="--timeout") from None
    loaded = load_stack(project, stack, provider)
    report_warnings(loaded.project)
    outcome = run_async(wait_for, loaded, list(services), timeout=seconds)
    if json:
        print_json(outcome.as_dict())
        return 0 if outcome.ok else 1
    out = console()
    for name, waited in outcome.services.items():
        if waited.healthy:
            out.print(f"[green]healthy[/green] {name} ({waited.seconds:.2f}s): {waited.probe}", soft_wrap=True)
    for name, waited in outcome.services.items():
        if not waited.healthy:
            print(f"omnitron: service {name} is not healthy after {timeout}; last probe: {waited.probe}", file=sys.stderr)
    return 0 if outcome.ok else 1
