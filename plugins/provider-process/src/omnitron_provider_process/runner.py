"""The process provider's work: each service a detached native process, supervised, with its data under the stack.

Each service runs detached (its own session and process group) from binaries
found on the machine or shipped in a wheel, with its data under the stack's
state directory. Its pid, process group, spec hash and where its files are
go to the state store (:class:`~.records.ProcessRecord`, one per-provider
record per service), so later commands find it again and tell it from a
process that got the same pid later. See the package README for the layout
and the environment variables.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import anyio

from omnitron.api import (
    ContainerState,
    ExecResult,
    PlannedService,
    ProcessRecipe,
    ProcessRun,
    ProviderContext,
    ProvisionError,
    QuickCheck,
    RuntimeSpec,
    StateStore,
    describe_listeners,
    is_listening,
    poll_attempts,
    port_listeners,
)

PORT_RELEASE_S = 2.0
"""How long a start waits for a host port still held as it begins (the listener of a server that just died)."""

from .accounts import SYSTEM_PATH, Account, service_account
from .binaries import Located, binary_version, locate, source_mode
from .command_recipe import CommandRecipe, resolve_command
from .logfile import read_log, rotate
from .paths import ServicePaths, all_places, cache_root, make_dir, relocated_base, remove_empty_base, remove_tree, service_paths
from .provider import ProcessProvider
from .records import LEGACY_TABLE, ProcessRecord, from_legacy_row
from .supervise import LAUNCH_ENV, all_in_groups, child_alive, is_ours, kill_launched, launched_groups, spawn, stop_group

PASSED_ENV = ("LANG", "LC_ALL", "TZ")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class ProcessRunner(ProcessProvider):
    """:class:`~.provider.ProcessProvider` with its methods (what ``ProcessProvider(ctx)`` makes)."""

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self._own_state: StateStore | None = None
        if ctx.state is None:
            self._own_state = StateStore(ctx.project_dir / ".omnitron")
        self.state: StateStore = ctx.state if ctx.state is not None else self._own_state
        self.state.import_legacy_table(LEGACY_TABLE, self.name, from_legacy_row)
        self._locks: dict[str, anyio.Lock] = {}
        self._located: dict[tuple, Located] = {}

    async def aclose(self) -> None:
        if self._own_state is not None:
            self._own_state.close()
            self._own_state = None

    # -- records ----------------------------------------------------------------

    def record(self, name: str) -> ProcessRecord | None:
        """What this provider recorded of service ``name`` in this stack."""
        return self.state.get_record(self.ctx.stack, self.name, name, ProcessRecord)

    def _records(self) -> dict[str, ProcessRecord]:
        return self.state.records(self.ctx.stack, self.name, ProcessRecord)

    def _save(self, rec: ProcessRecord) -> None:
        self.state.put_record(self.ctx.stack, self.name, rec.service, rec)

    # -- recipes and places ---------------------------------------------------

    def recipe_for(self, spec: RuntimeSpec) -> ProcessRecipe:
        """The recipe that runs the service: its preset's (resolved by the engine into the spec), or its own ``process.command``."""
        service = spec.service
        cfg = service.process
        if spec.recipe is not None:
            return spec.recipe
        wanted = cfg.recipe if cfg is not None and cfg.recipe else (service.preset if cfg is None or not cfg.command else None)
        if wanted is not None:
            raise ProvisionError(f"service {service.name}: no installed preset {wanted!r} with a process recipe; install its plugin or use the docker provider")
        if cfg is not None and cfg.command:
            return CommandRecipe(list(cfg.command))
        raise ProvisionError(f"service {service.name}: cannot run as a process: it has no process recipe or command")

    def account_for(self, recipe: ProcessRecipe) -> Account | None:
        """The unprivileged account every service runs as when omnitron runs as root (least privilege), else ``None``."""
        return service_account() if os.geteuid() == 0 else None

    def paths(self, name: str, account: Account | None = None, *, rec: ProcessRecord | None | bool = True) -> ServicePaths:
        """Where service ``name`` keeps data, runtime files and log (the recorded places win)."""
        computed = service_paths(self.ctx.state_dir, self.ctx.project, name, account)
        if rec is True:
            rec = self.record(name)
        if not isinstance(rec, ProcessRecord):
            return computed
        return ServicePaths(
            data_dir=Path(rec.data_dir) if rec.data_dir else computed.data_dir,
            run_dir=Path(rec.info["run_dir"]) if rec.info.get("run_dir") else computed.run_dir,
            log_path=Path(rec.log_path) if rec.log_path else computed.log_path,
        )

    def _lock(self, name: str) -> anyio.Lock:
        if name not in self._locks:
            self._locks[name] = anyio.Lock()
        return self._locks[name]

    def _progress(self, name: str, phase: str, detail: str) -> None:
        self.ctx.progress(name, phase, detail)

    # -- ensure ---------------------------------------------------------------

    async def ensure(self, spec: RuntimeSpec) -> ContainerState:
        """Start the service unless it already runs with the same spec hash; restart a dead one; keep its data."""
        svc = spec.service
        async with self._lock(svc.name):
            recipe = self.recipe_for(spec)
            rec = self.record(svc.name)
            if rec is not None:
                await self._retire(svc, rec)
                if rec.prepared and is_ours(rec.identity) and rec.spec_hash == svc.spec_hash:
                    return self._state_of(rec, running=True)
            return await self._start(spec, recipe, rec)

    async def _retire(self, svc: PlannedService, rec: ProcessRecord) -> None:
        """Stop what ``rec`` runs unless it is ours, complete and as planned: a changed spec, a dead process's
        group, or a start that never completed (an earlier command killed while it started the service)."""
        ours = is_ours(rec.identity)
        if rec.prepared and ours and rec.spec_hash == svc.spec_hash:
            return
        if not rec.prepared:
            if not rec.info.get("stopped"):
                what = "its process was never recorded" if rec.pending else f"pid {rec.pid}"
                detail = f"an earlier start did not complete ({what}): starting it again, data kept"
                self._progress(svc.name, "creating", detail)
                self.state.log_event(self.ctx.stack, "process-unprepared", f"{svc.name}: {detail}")
            if rec.pending:  # killed between the record and the spawn: found by the marker in its env
                if rec.info.get("launch"):
                    await anyio.to_thread.run_sync(kill_launched, rec.info["launch"])
                return
        elif ours:
            self._progress(svc.name, "creating", f"spec changed ({rec.spec_hash} -> {svc.spec_hash}): restarting with the data kept")
            self.state.log_event(self.ctx.stack, "process-recreate", f"{svc.name}: spec {rec.spec_hash} -> {svc.spec_hash}")
        elif not rec.info.get("stopped"):
            detail = f"process {rec.pid} is gone: restarting (log: {rec.log_path})"
            self._progress(svc.name, "starting", detail)
            self.state.log_event(self.ctx.stack, "process-restart", f"{svc.name}: {detail}")
        await self._stop_record(rec, timeout=None if ours and rec.prepared else 2.0)

    def _locate(self, recipe: ProcessRecipe, svc: PlannedService, data_version: str | None) -> Located:
        """:func:`locate`, remembered for this provider while the binaries are still there."""
        key = (type(recipe).__name__, tuple(recipe.binaries), source_mode(), svc.version, data_version, os.environ.get("PATH"))
        found = self._located.get(key)
        if found is None or not all(b.is_file() for b in found.binaries.values()):
            found = self._located[key] = locate(recipe, svc.name, version=svc.version, data_version=data_version, log=lambda msg: self._progress(svc.name, "starting", msg))
        return found

    async def _start(self, spec: RuntimeSpec, recipe: ProcessRecipe, rec: ProcessRecord | None) -> ContainerState:
        svc = spec.service
        account = self.account_for(recipe)
        paths = self.paths(svc.name, account, rec=rec)
        located = self._locate(recipe, svc, recipe.data_version(paths.data_dir) if paths.data_dir.is_dir() else None)
        program = next(iter(located.binaries.values()))
        if account is not None and isinstance(recipe, CommandRecipe) and not account.can_execute(program):
            # a custom command the service account cannot even run (a virtualenv below /root): the invoking user's, said so
            self._progress(svc.name, "starting", f"runs as {os.environ.get('USER') or 'root'}: user {account.name} cannot run {program}")
            account, paths = None, self.paths(svc.name, None, rec=rec)
        run = await self._prepare(spec, recipe, account, paths, located)
        # a start that never completed before (or a first one) finishes what a new data directory gets
        run.initialised = run.initialised or rec is None or not rec.prepared
        launch = secrets.token_hex(8)
        env = self._base_env(located.directory, account, paths) | recipe.env(run) | {LAUNCH_ENV: launch}
        argv = resolve_command(svc.name, recipe.command(run), run.binaries, env["PATH"])
        rotate(paths.log_path)
        header = f"--- omnitron: starting {svc.name} at {_iso(time.time())}: {argv[0]} (spec {svc.spec_hash})\n"
        where = dict(service=svc.name, spec_hash=svc.spec_hash, data_dir=str(paths.data_dir), log_path=str(paths.log_path), prepared=False)
        self._save(ProcessRecord(pid=0, pgid=0, started_at=time.time(), info={"launch": launch}, **where))  # before the spawn
        try:
            ident = spawn(argv, env=env, cwd=paths.data_dir, log_path=paths.log_path, stdin=recipe.stdin(run), account=account, header=header.encode())
        except OSError as exc:
            self.state.delete_record(self.ctx.stack, self.name, svc.name)
            raise ProvisionError(f"service {svc.name}: cannot start {argv[0]}: {exc.strerror or exc}") from None
        rec = ProcessRecord(pid=ident.pid, pgid=ident.pgid, started_at=time.time(), info=self._info(recipe, run, argv, ident, located) | {"launch": launch}, **where)
        self._save(rec)
        self._progress(svc.name, "starting", f"pid {ident.pid}: {argv[0]} ({located.source}{', ' + run.version if run.version else ''})")
        run.pid = ident.pid
        run.is_running = lambda: child_alive(ident)
        try:
            await recipe.after_start(run)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._stop_record(rec, timeout=2.0)
            raise
        rec.prepared = True  # only now is it ours and ready to adopt
        self._save(rec)
        return self._state_of(rec, running=True)

    async def _prepare(self, spec: RuntimeSpec, recipe: ProcessRecipe, account: Account | None, paths: ServicePaths, located: Located) -> ProcessRun:
        """Directories made (owned by the service's account), the data directory initialised once, ``before_start`` run."""
        svc = spec.service
        main = located.binaries[Path(recipe.binaries[0]).name]
        if account is not None and not account.can_execute(main):
            raise ProvisionError(
                f"service {svc.name}: user {account.name} (services run as it when omnitron runs as root) cannot run {main}: "
                "make the directories above it searchable, or set OMNITRON_SERVICE_USER"
            )
        await self._check_free(svc)
        foreign = account is not None and paths.data_dir.is_dir() and paths.data_dir.stat().st_uid != account.uid
        make_dir(paths.data_dir, mode=0o700, owner=account)
        if foreign:  # data written by another account before: the service must own all of it
            await anyio.to_thread.run_sync(account.chown_tree, paths.data_dir)
        if recipe.uses_run_dir:
            make_dir(paths.run_dir, mode=0o700, owner=account)
        make_dir(paths.log_path.parent)
        run = ProcessRun(
            spec=spec, data_dir=paths.data_dir, run_dir=paths.run_dir, binaries=dict(located.binaries), port=dict(svc.ports),
            bind_address=svc.bind_address, user=account.name if account else None, version=binary_version(recipe, main),
            cache_dir=cache_root(), log=lambda msg: self._progress(svc.name, "creating", msg), log_path=paths.log_path,
        )
        if not recipe.is_initialised(run):
            self._progress(svc.name, "creating", f"initialising {paths.data_dir}")
            await recipe.initialise(run)
            run.initialised = True
            if account is not None:
                await anyio.to_thread.run_sync(account.chown_tree, paths.data_dir)
        await recipe.before_start(run)
        return run

    @staticmethod
    def _info(recipe: ProcessRecipe, run: ProcessRun, argv: list[str], ident, located: Located) -> dict:
        return {
            "recipe": type(recipe).__name__, "binary": str(argv[0]), "exe": ident.exe, "starttime": ident.starttime,
            "bin_dir": str(located.directory), "source": located.source, "version": run.version, "user": run.user,
            "run_dir": str(run.run_dir), "ports": dict(run.port), "bind": run.bind_address,
            "stop_signal": int(recipe.stop_signal), "stop_timeout": float(recipe.stop_timeout), "exec_env": recipe.exec_env(run), "stopped": False,
        }

    def _base_env(self, bin_dir: Path, account: Account | None, paths: ServicePaths) -> dict[str, str]:
        search = SYSTEM_PATH if account is not None else os.environ.get("PATH") or SYSTEM_PATH
        env = {"PATH": f"{bin_dir}:{search}"}
        env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
        env.setdefault("LANG", "C.UTF-8")
        env["HOME"] = str(paths.data_dir) if account is not None else os.environ.get("HOME", str(paths.data_dir))
        return env

    async def _check_free(self, svc: PlannedService) -> None:
        """Each host port free; one still held is waited for a moment (a server that just died, a child of it that
        shared its listening socket and dies with it), then it is an error naming what holds it."""
        for port_name, port in sorted(svc.ports.items()):
            if not is_listening(port, svc.bind_address):
                continue
            async for _ in poll_attempts(PORT_RELEASE_S):
                if not is_listening(port, svc.bind_address):
                    break
            else:
                raise ProvisionError(self._busy(svc, port_name, port))

    def _busy(self, svc: PlannedService, port_name: str, port: int) -> str:
        who = describe_listeners(port, svc.bind_address)
        return (
            f"port {port} (service {svc.name}, port {port_name}) is already in use by {who}: stop it, "
            f"or move this stack's ports with portOffsets (e.g. \"portOffsets\": {{\"{svc.name}\": 1}})"
        )

    def _state_of(self, rec: ProcessRecord, *, running: bool) -> ContainerState:
        return ContainerState(
            name=rec.service,
            image=rec.info.get("binary", ""),
            status="running" if running else "exited",
            container_id=str(rec.pid),
            ports={k: int(v) for k, v in (rec.info.get("ports") or {}).items()},
            health=None,
            started_at=_iso(rec.started_at),
            provider=self.name,
            spec_hash=rec.spec_hash,
        )

    # -- stop / remove ----------------------------------------------------------

    async def _stop_record(self, rec: ProcessRecord, *, timeout: float | None = None) -> None:
        sig = int(rec.info.get("stop_signal", signal.SIGTERM))
        wait = float(rec.info.get("stop_timeout", 10.0)) if timeout is None else timeout
        gone = await stop_group(rec.identity, sig=sig, timeout=wait)
        rec.info["stopped"] = True
        self._save(rec)
        if not gone:
            raise ProvisionError(f"service {rec.service}: process group {rec.pgid} did not stop, even after SIGKILL")

    async def stop(self, name: str) -> None:
        """Stop the service's whole process group: its stop signal, then ``SIGKILL`` after its stop timeout."""
        async with self._lock(name):
            rec = self.record(name)
            if rec is not None:
                if is_ours(rec.identity):
                    self._progress(name, "stopping", f"pid {rec.pid}")
                await self._stop_record(rec)

    async def remove(self, name: str, *, volumes: bool = False) -> None:
        """Stop and forget the service (its log too); with ``volumes``, delete its data and its allocations."""
        await self.stop(name)
        async with self._lock(name):
            places = [self.paths(name), *all_places(self.ctx.state_dir, self.ctx.project, name)]
            self.state.delete_record(self.ctx.stack, self.name, name)
            for place in places:
                for path in (place.log_path, place.log_path.with_name(place.log_path.name + ".1")):
                    path.unlink(missing_ok=True)
                await anyio.to_thread.run_sync(remove_tree, place.run_dir)
                if volumes:
                    await anyio.to_thread.run_sync(remove_tree, place.data_dir)
            if volumes:
                self.state.forget_service(self.ctx.stack, name)
                await anyio.to_thread.run_sync(remove_empty_base, relocated_base(self.ctx.state_dir, self.ctx.project))

    async def remove_all_data(self) -> None:
        """Delete the data of every service of this stack that is not running (``down --volumes``)."""
        names: set[str] = set(self._records())
        for base in (self.ctx.state_dir, relocated_base(self.ctx.state_dir, self.ctx.project)):
            data = base / "data"
            if data.is_dir():
                names.update(entry.name.replace("+", "/") for entry in data.iterdir() if entry.is_dir())
        for name in sorted(names):
            rec = self.record(name)
            if rec is not None and is_ours(rec.identity):
                continue
            await self.remove(name, volumes=True)

    # -- inspection -------------------------------------------------------------

    async def list_managed(self) -> dict[str, ContainerState]:
        return {rec.service: self._state_of(rec, running=is_ours(rec.identity)) for rec in self._records().values()}

    def quick_checks(self, state: ContainerState) -> list[QuickCheck] | None:
        """The recorded process alive, with its start time, process group and executable (a restart fails it)."""
        rec = self.record(state.name)
        if rec is None or rec.pending or str(rec.pid) != state.container_id:
            return None
        ident = rec.identity
        return [QuickCheck.pid(ident.pid, starttime=ident.starttime, pgid=ident.pgid, exe=ident.exe or None)]

    async def logs(self, name: str, *, follow: bool = False, tail: int | None = None) -> AsyncIterator[str]:
        """The service's log file (stdout and stderr of every start), ``tail -f`` style with ``follow``."""
        path = self.paths(name).log_path
        if not path.exists() and self.record(name) is None:
            raise ProvisionError(f"service {name}: no process and no log (it never ran with the process provider in stack {self.ctx.stack})")
        async for line in read_log(path, follow=follow, tail=tail):
            yield line

    async def exec(self, name: str, command: list[str], *, timeout: float | None = None, input: bytes | None = None) -> ExecResult:
        """Run ``command`` beside the service: its binaries first on PATH, its exec env, as its user; ``input`` on its stdin."""
        rec = self.record(name)
        if rec is None or not is_ours(rec.identity):
            return ExecResult(exit_code=125, output=f"service {name} is not running")
        user = rec.info.get("user")
        account = None
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            account = Account(entry.pw_name, entry.pw_uid, entry.pw_gid)
        paths = self.paths(name)
        env = self._base_env(Path(rec.info.get("bin_dir") or "/"), account, paths) | dict(rec.info.get("exec_env") or {})
        try:
            with anyio.fail_after(timeout):
                result = await anyio.run_process(
                    command, check=False, input=input, stdin=subprocess.DEVNULL if input is None else None, stderr=subprocess.STDOUT, env=env, cwd=paths.data_dir,
                    user=account.uid if account else None, group=account.gid if account else None, extra_groups=[] if account else None,
                )
        except FileNotFoundError:
            return ExecResult(exit_code=127, output=f"{command[0]}: command not found")
        except PermissionError as exc:
            return ExecResult(exit_code=126, output=f"{command[0]}: {exc.strerror or exc}")
        return ExecResult(exit_code=result.returncode, output=result.stdout.decode(errors="replace"))

    async def check_ports(self, services: list[PlannedService]) -> list[str]:
        """One line per host port that something other than our own process for that service listens on."""
        problems: list[str] = []
        for svc in services:
            if svc.provider != self.name:
                continue
            rec = self.record(svc.name)
            ours, hint = self._own_groups(rec), [rec.pid] if rec is not None and not rec.pending else []
            for port_name, port in sorted(svc.ports.items()):
                if not is_listening(port, svc.bind_address):
                    continue
                if ours and all_in_groups(port_listeners(port, svc.bind_address, prefer=hint), ours):
                    continue
                problems.append(self._busy(svc, port_name, port))
        return problems

    @staticmethod
    def _own_groups(rec: ProcessRecord | None) -> set[int]:
        """The process groups that are the service's own: its recorded group while the leader is ours, or, when a
        command was killed between the spawn and recording the pid, those of the processes carrying its launch
        marker (``ensure`` stops them)."""
        if rec is None:
            return set()
        if rec.pending:
            return launched_groups(rec.info["launch"]) if rec.info.get("launch") else set()
        return {rec.pgid} if is_ours(rec.identity) else set()
