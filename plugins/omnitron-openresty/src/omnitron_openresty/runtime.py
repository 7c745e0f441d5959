"""The running gateway: its files written before it starts, and every later change validated, then reloaded.

:func:`materialise` (before the provider starts it) writes the generated
files to the service's files directory. :func:`maintain` (every ``infra up``,
every ``omnitron run`` that records a new address, the daemon's ticks)
generates them again from the plan and where apps listen, and when the
generation differs from the one the gateway serves (its ``/nginx-health``
says ``ok <generation>``): copies them where a native nginx reads them, runs
``nginx -t`` where the gateway runs, then ``nginx -s reload``, and waits
until the new generation is served. A config ``nginx -t`` refuses is one line
naming the operator's file and line, and nothing is reloaded: the gateway
keeps serving its previous config. Nothing is ever restarted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnitron.api import ProvisionError, app_addresses

from .files import read_tree, tree_digest, write_files
from .generator import HEALTH_PATH, Generated, generate
from .layout import GENERATED, Layout, layout_of
from .native import NATIVE_EXEC, conf_tree

if TYPE_CHECKING:
    from omnitron.api import Plan, PlannedService, ServiceHandle

RELOAD_WAIT = 10.0
"""Seconds a reload may take until the new generation is served."""
_WORKERS_FN = r"""
workers() {
    master=$(cat "$1") || return 3
    for d in /proc/[0-9]*; do
        read -r stat 2>/dev/null < "$d/stat" || continue
        ppid=${stat#*) }; ppid=${ppid#* }; ppid=${ppid%% *}
        [ "$ppid" = "$master" ] || continue
        title=$(tr '\0' ' ' 2>/dev/null < "$d/cmdline") || continue
        case $title in *"shutting down"*) ;; *"worker process"*) printf '%s\n' "${d#/proc/}" ;; esac
    done
}
"""
WORKERS = _WORKERS_FN + 'workers "$1"\n'
"""``sh -c`` script printing the pids of the master's workers that accept connections ($1: the pid file)."""
APPLY = _WORKERS_FN + r"""
pid_file=$1; shift
if ! out=$("$@" -t 2>&1); then printf '%s\n' "$out"; exit 3; fi
printf 'workers:'; for pid in $(workers "$pid_file"); do printf ' %s' "$pid"; done; printf '\n'
if ! out=$("$@" -s reload 2>&1); then printf '%s\n' "$out"; exit 4; fi
"""
"""``sh -c`` script applying a new config in one exec where the gateway runs ($1: the pid file, then the nginx
command): ``nginx -t`` (exit 3 with its output when it refuses), the workers accepting connections now (``workers:
PID...``), ``nginx -s reload`` (exit 4 with its output when it fails). One exec, not three: in a container each
costs a round trip to the engine."""


@dataclass
class Built:
    layout: Layout
    generated: Generated
    operator: dict[str, bytes]


def build(svc: PlannedService, plan: Plan, allocated: Any, recorded: Any) -> Built:
    """Generate the gateway's files (pure but for reading the operator's ``configDir``)."""
    layout = layout_of(svc)
    if layout.config_dir is not None and not layout.config_dir.is_dir():
        raise ProvisionError(f"service {svc.name}: configDir {layout.config_label or layout.config_dir} is not a directory")
    operator = read_tree(layout.config_dir)
    sites = operator_sites(svc, layout, operator)
    try:
        generated = generate(svc, plan, app_addresses(plan, allocated, recorded), layout, tree_digest(operator), operator_sites=sites)
    except LookupError as exc:
        raise ProvisionError(f"service {svc.name}: {exc.args[0]}") from None
    return Built(layout, generated, operator)


def operator_sites(svc: PlannedService, layout: Layout, operator: dict[str, bytes]) -> bool:
    """Whether ``configDir`` has ``*.conf`` files (its servers); they must include the generated server snippet.

    Without it a server would listen where the official image's ``default.conf`` does (port 80 of the host, on
    every address, with host networking) and never answer the ``/nginx-health`` probe: that is refused at once.
    """
    if layout.config_dir is None or not any(rel.endswith(".conf") and "/" not in rel for rel in operator):
        return False
    if not any(b"omnitron/server" in data for rel, data in operator.items() if not rel.endswith(".lua")):
        where = layout.config_label or str(layout.config_dir)
        raise ProvisionError(
            f"service {svc.name}: no server block in configDir {where} includes omnitron/server.conf "
            f"(its listen {layout.listen} and {HEALTH_PATH}); add `include omnitron/server.conf;` to each server"
        )
    return True


def _built(handle: ServiceHandle) -> Built:
    stack = handle.stack
    return build(handle.service, handle.plan, handle.state.app_ports(stack), handle.state.app_endpoints(stack))


def _runs_here(handle: ServiceHandle) -> bool:
    """Whether omnitron runs this gateway (a container or a process), not an external one."""
    return handle.service.docker is not None or handle.service.process is not None


async def materialise(handle: ServiceHandle) -> None:
    if _runs_here(handle):
        built = _built(handle)
        write_files(built.layout.files_dir, built.generated.files)


async def maintain(handle: ServiceHandle) -> None:
    if not _runs_here(handle) or handle.plan is None:
        return
    built = _built(handle)
    write_files(built.layout.files_dir, built.generated.files)
    if await served_generation(handle) == built.generated.generation:
        return
    layout = built.layout
    if layout.native:
        prefix = await native_prefix(handle)
        write_files(Path(prefix) / "conf", conf_tree(built.generated.files, built.operator))
        layout = layout_of(handle.service, prefix=prefix)
    handle.log(f"reloading: generation {built.generated.generation}")
    old = await check_and_reload(handle, layout)
    await wait_served(handle, layout, built.generated.generation, old)


def nginx_argv(layout: Layout, *args: str) -> list[str]:
    """``nginx ARGS`` where the gateway runs, with its prefix and main file."""
    if layout.native:
        return ["sh", "-c", NATIVE_EXEC, "nginx", *args]
    return ["openresty", *args, "-c", f"{GENERATED}/nginx.conf"]


async def check_and_reload(handle: ServiceHandle, layout: Layout) -> set[int]:
    """``nginx -t`` then ``nginx -s reload`` where the gateway runs (:data:`APPLY`); the workers that accepted before.

    A config ``nginx -t`` refuses is one line naming the operator's file and line, and nothing is reloaded.
    """
    from .nginx_check import first_problem

    result = await handle.exec(["sh", "-c", APPLY, "apply", layout.pid, *nginx_argv(layout)])
    if result.exit_code in (3, 4):
        what = "nginx -t" if result.exit_code == 3 else "nginx -s reload"
        raise ProvisionError(f"service {handle.name}: {first_problem(result.output, layout)} ({what}); the gateway keeps serving its previous config")
    if result.exit_code != 0:
        raise ProvisionError(f"service {handle.name}: cannot reload ({result.output.strip() or f'exit {result.exit_code}'})")
    listed = next((line for line in result.output.splitlines() if line.startswith("workers:")), "workers:")
    return {int(word) for word in listed.removeprefix("workers:").split() if word.isdigit()}


async def native_prefix(handle: ServiceHandle) -> str:
    """The native nginx's prefix (its data directory), as its process recipe recorded it."""
    result = await handle.exec(["sh", "-c", 'printf %s "$OMNITRON_NGINX_PREFIX"'])
    prefix = result.output.strip()
    if result.exit_code != 0 or not prefix.startswith("/"):
        raise ProvisionError(f"service {handle.name}: cannot find the native gateway's prefix ({result.output.strip() or result.exit_code})")
    return prefix


async def served_generation(handle: ServiceHandle, timeout: float = 2.0) -> str | None:
    """The generation ``/nginx-health`` answers, or ``None`` (not listening, no answer, another answer)."""
    import anyio

    request = f"GET {HEALTH_PATH} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
    host = "127.0.0.1" if handle.host in ("localhost", "0.0.0.0") else handle.host
    try:
        with anyio.fail_after(timeout):
            async with await anyio.connect_tcp(host, handle.port("http")) as stream:
                await stream.send(request)
                data = b""
                try:
                    while len(data) < 4096:
                        data += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    pass
    except (OSError, TimeoutError):
        return None
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    if not head.startswith("HTTP/") or " 200 " not in head.split("\r\n", 1)[0] + " ":
        return None
    words = body.split()
    return words[1] if len(words) == 2 and words[0] == "ok" else None


async def accepting_workers(handle: ServiceHandle, layout: Layout) -> set[int]:
    """Pids of the gateway's worker processes that still accept connections (not shutting down)."""
    result = await handle.exec(["sh", "-c", WORKERS, "workers", layout.pid])
    if result.exit_code != 0:
        return set()
    return {int(word) for word in result.output.split() if word.isdigit()}


async def wait_served(handle: ServiceHandle, layout: Layout, generation: str, old: set[int]) -> None:
    """Until the new generation is served and none of the ``old`` workers accepts any more, or :data:`RELOAD_WAIT` seconds.

    After a reload nginx starts new workers, then tells the old ones to finish: until they have closed their
    listening sockets, a new connection may still reach one of them (with the old config).
    """
    import anyio

    deadline = time.monotonic() + RELOAD_WAIT
    while True:
        seen = await served_generation(handle)
        lingering = old & await accepting_workers(handle, layout) if seen == generation and old else set()
        if seen == generation and not lingering:
            return
        if time.monotonic() > deadline:
            what = f"old workers {', '.join(map(str, sorted(lingering)))} still accept" if lingering else f"it still serves generation {seen or 'none'} instead of {generation}"
            raise ProvisionError(f"service {handle.name}: reloaded, but after {RELOAD_WAIT:g}s {what}: see `omnitron infra logs {handle.name}`")
        await anyio.sleep(0.02)
